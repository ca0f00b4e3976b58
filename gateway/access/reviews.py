"""Delegated auth (`--auth kubernetes`): the cluster decides who the caller is and what they may see.

A bearer token is reviewed with a TokenReview; each object the gateway returns or embeds is
authorized for the caller with a SubjectAccessReview (get on its group, resource, namespace
and name; list for collections). Answers are cached briefly in bounded caches keyed by the
caller's whole identity, so one user's answer is never another's. Every review failure
fails closed: 503, never "allowed".
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from cachetools import TTLCache

from gateway.catalog import Kind
from gateway.errors import Unauthorized
from gateway.store.errors import StoreUnavailable
from gateway.store.kube import ApiError

TOKEN_REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"
ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"


class Reviewer(Protocol):
    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class User:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


class _Cache:
    """A bounded cache whose entries expire; safe to share between request threads."""

    def __init__(self, ttl: float, size: int) -> None:
        self._cache: TTLCache[Any, Any] = TTLCache(maxsize=size, ttl=ttl)
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            return self._cache.get(key)

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._cache[key] = value


_REJECTED = object()  # a token the cluster did not accept, remembered as briefly as an accepted one

#: One access question: (verb, kind, namespace, name).
Check = tuple[str, Kind, str | None, str | None]


class Authorizer:
    def __init__(
        self,
        reviewer: Reviewer,
        ttl: float = 10.0,
        size: int = 10_000,
        max_reviews: int = 256,
        concurrency: int = 8,
    ) -> None:
        self._reviewer = reviewer
        self._users = _Cache(ttl, size)
        self._decisions = _Cache(ttl, size)
        self.max_reviews = max_reviews
        # per-name reviews of one request run side by side, a bounded number at once
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="review")

    def authenticate(self, token: str) -> User:
        key = hashlib.sha256(token.encode()).hexdigest()  # the token itself is never kept
        user = self._users.get(key)
        if user is None:
            status = self._review(TOKEN_REVIEWS, {"kind": "TokenReview", "spec": {"token": token}})
            info = status.get("user") or {}
            if not status.get("authenticated") or not info.get("username"):
                user = _REJECTED
            else:
                extra = tuple(sorted((str(k), tuple(map(str, v))) for k, v in (info.get("extra") or {}).items()))
                user = User(str(info["username"]), str(info.get("uid") or ""), tuple(info.get("groups") or ()), extra)
            self._users.put(key, user)
        if user is _REJECTED:
            raise Unauthorized("the bearer token was not accepted by the cluster")
        assert isinstance(user, User)
        return user

    def cached(self, user: User, check: Check) -> bool | None:
        """The decision for `check` if reviewed within the TTL, else None."""
        decision: bool | None = self._decisions.get((user, *check))
        return decision

    def allowed(self, user: User, check: Check) -> bool:
        """Review `check` for `user` (a SubjectAccessReview unless cached)."""
        decision = self.cached(user, check)
        if decision is None:
            verb, kind, namespace, name = check
            attributes = {"verb": verb, "group": kind.group, "resource": kind.plural}
            if namespace:
                attributes["namespace"] = namespace
            if name:
                attributes["name"] = name
            spec: dict[str, Any] = {"user": user.name, "groups": list(user.groups), "resourceAttributes": attributes}
            if user.uid:
                spec["uid"] = user.uid
            if user.extra:
                spec["extra"] = {k: list(v) for k, v in user.extra}
            status = self._review(ACCESS_REVIEWS, {"kind": "SubjectAccessReview", "spec": spec})
            decision = status.get("allowed") is True
            self._decisions.put((user, *check), decision)
        return decision

    def allowed_all(self, user: User, checks: list[Check]) -> list[bool]:
        """Several reviews at once, concurrently (bounded by the pool)."""
        return list(self._pool.map(lambda c: self.allowed(user, c), checks))

    def _review(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        group = path.split("/")[2]
        try:
            answer = self._reviewer.create(path, {"apiVersion": f"{group}/v1", **body})
        except ApiError as e:
            raise StoreUnavailable(f"cannot review access with the cluster: {e.message}") from e
        status = answer.get("status")
        return status if isinstance(status, dict) else {}
