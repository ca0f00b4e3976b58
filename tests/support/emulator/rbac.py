"""Who the emulator's users are and what they may read: the answers to TokenReviews and
SubjectAccessReviews, with RBAC's semantics (allow-only rules; a review without a name is
allowed only by a rule for every name, one without a namespace only by a cluster-wide rule)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    subjects: frozenset[str]
    """User names, or `group:NAME`."""
    verbs: frozenset[str] = frozenset({"get", "list", "watch"})
    groups: frozenset[str] = frozenset({"*"})
    resources: frozenset[str] = frozenset({"*"})
    namespaces: frozenset[str] | None = None
    """None: every namespace and the cluster-scoped resources."""
    names: frozenset[str] | None = None

    def allows(self, user: str, groups: list[str], attrs: dict[str, Any]) -> bool:
        if user not in self.subjects and not any(f"group:{g}" in self.subjects for g in groups):
            return False
        if not ({"*", attrs.get("verb")} & self.verbs and {"*", attrs.get("group", "")} & self.groups):
            return False
        if not {"*", attrs.get("resource")} & self.resources:
            return False
        namespace, name = attrs.get("namespace"), attrs.get("name")
        if self.namespaces is not None and (not namespace or namespace not in self.namespaces):
            return False
        return self.names is None or (bool(name) and name in self.names)


@dataclass
class Rbac:
    tokens: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)

    def review_token(self, token: str) -> dict[str, Any]:
        if token not in self.tokens:
            return {"authenticated": False, "error": "invalid bearer token"}
        name, groups = self.tokens[token]
        return {"authenticated": True, "user": {"username": name, "uid": f"uid-{name}", "groups": list(groups)}}

    def review_access(self, spec: dict[str, Any]) -> dict[str, Any]:
        attrs = spec.get("resourceAttributes") or {}
        allowed = any(r.allows(spec.get("user", ""), spec.get("groups") or [], attrs) for r in self.rules)
        return {"allowed": allowed, **({} if allowed else {"reason": "no RBAC rule allows it"})}


ADMIN = Rule(frozenset({"admin"}), verbs=frozenset({"*"}))
DEFAULT = Rbac(tokens={"emulator-admin": ("admin", ("system:masters",))}, rules=[ADMIN])
