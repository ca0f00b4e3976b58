"""A caller's access policy for in-process tests of the engine and the graphs: what `--auth kubernetes`
would decide, written down (the engine asks a `Policy`; the cluster is not involved here)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.catalog import Kind, Link, Named
from gateway.follow.followers import Target
from gateway.follow.policy import scope_of
from tests.support.emulator.rbac import Rbac


class ScopedPolicy:
    """May read namespace `namespace` (and cluster-scoped kinds) only, and there neither the kinds
    nor the (kind, name) pairs listed; the `unlisted` kinds it may get but not list."""

    def __init__(
        self,
        namespace: str,
        kinds: Iterable[str] = (),
        names: Iterable[tuple[str, str]] = (),
        unlisted: Iterable[str] = (),
    ) -> None:
        self.namespace, self.kinds, self.names, self.unlisted = namespace, set(kinds), set(names), set(unlisted)
        self.prefetched: list[tuple[Kind, str | None, str | None]] = []

    def _in_scope(self, kind: Kind, namespace: str | None) -> bool:
        return kind.name not in self.kinds and (namespace == self.namespace or not kind.namespaced)

    def may_get(self, kind: Kind, namespace: str | None, name: str | None) -> bool:
        return self._in_scope(kind, namespace) and (kind.name, name) not in self.names

    def may_list(self, kind: Kind, namespace: str | None) -> bool:
        return self._in_scope(kind, namespace) and kind.name not in self.unlisted

    def prefetch(self, wanted: list[tuple[Kind, str | None, str | None]]) -> None:
        self.prefetched.extend(wanted)

    def knows(self, link: Link, target: Target, namespace: str | None) -> bool:
        kind, where, name = scope_of(target, namespace)
        if not isinstance(link.resolver, Named) and not self.may_list(kind, where):
            return False
        return self.may_get(kind, where, name)

    def may_learn_why(self, target: Target) -> bool:
        assert target.probe is not None, "asked only about a missing target with evidence to read"
        return target.probe.kind not in self.kinds


class RbacReviewer:
    """The cluster's SubjectAccessReviews (an `access.reviews.Reviewer`), answered in process by the
    emulator's RBAC rules: a `CallerPolicy` for unit tests, whose rules a test may change."""

    def __init__(self, rbac: Rbac) -> None:
        self.rbac = rbac

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        assert path.endswith("/subjectaccessreviews"), path
        return {**body, "status": self.rbac.review_access(body["spec"])}
