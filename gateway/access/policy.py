"""The access policy of one request: what the caller may get and list, as the cluster's reviews say,
and the decisions an answer was built on (so that a remembered answer is served only while they hold)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from gateway.access.reviews import Authorizer, Check, User
from gateway.catalog import CATALOG, Kind, Link, Named
from gateway.errors import BadRequest
from gateway.follow.followers import Target
from gateway.follow.policy import scope_of


class TooManyReviews(BadRequest):
    """One request would cost more access reviews than `--max-reviews-per-request`."""


class CallerPolicy:
    """What one authenticated caller may see, for one request: the follow engine and the graphs ask it.

    It records every decision the request's answer depended on (`decisions`), so that an answer
    kept in memory is served again only once the same decisions hold for this caller now.
    """

    def __init__(self, user: User, authorizer: Authorizer) -> None:
        self.user = user
        self.authorizer = authorizer
        self.decisions: dict[Check, bool] = {}
        self.reviews = 0

    def may_get(self, kind: Kind, namespace: str | None, name: str | None) -> bool:
        # one namespace-wide review usually answers for every object of a page
        decision = self._allowed(("get", kind, namespace, None)) or (
            name is not None and self._allowed(("get", kind, namespace, name))
        )
        self.decisions[("get", kind, namespace, name)] = decision
        return decision

    def may_list(self, kind: Kind, namespace: str | None) -> bool:
        decision = self._allowed(("list", kind, namespace, None))
        self.decisions[("list", kind, namespace, None)] = decision
        return decision

    def prefetch(self, wanted: list[tuple[Kind, str | None, str | None]]) -> None:
        """Review what `may_get` will be asked for these objects now, per-name reviews concurrently."""
        scopes = {(kind, namespace) for kind, namespace, _ in wanted}
        denied = {scope for scope in scopes if not self._allowed(("get", *scope, None))}
        checks = sorted(
            {("get", kind, ns, name) for kind, ns, name in wanted if name and (kind, ns) in denied},
            key=lambda c: (c[1].name, c[2] or "", c[3] or ""),
        )
        unreviewed: list[Check] = [c for c in checks if self.authorizer.cached(self.user, c) is None]
        if unreviewed:
            self._spend(len(unreviewed))
            self.authorizer.allowed_all(self.user, unreviewed)

    def knows(self, link: Link, target: Target, namespace: str | None) -> bool:
        """A missing object is as private as a present one. A target the parent names needs `get`;
        one found by a query (a selector, a reverse link) also needs `list` of its kind where it
        was searched: the query's answer is a listing."""
        kind, where, name = scope_of(target, namespace)
        if not isinstance(link.resolver, Named) and not self.may_list(kind, where):
            return False
        return self.may_get(kind, where, name)

    def may_learn_why(self, target: Target) -> bool:
        probe = target.probe
        return probe is None or self.may_get(CATALOG.kind(probe.kind), probe.namespace, probe.name)

    @contextmanager
    def recording(self) -> Iterator[dict[Check, bool]]:
        """The decisions made inside the block, which a piece of the answer built there stands on
        (they stay the request's decisions too)."""
        outer, self.decisions = self.decisions, {}
        try:
            yield self.decisions
        finally:
            outer.update(self.decisions)
            self.decisions = outer

    def confirms(self, decisions: tuple[tuple[Check, bool], ...]) -> bool:
        """Whether every decision an earlier answer depended on still holds for this caller."""
        for (verb, kind, namespace, name), expected in decisions:
            now = self.may_list(kind, namespace) if verb == "list" else self.may_get(kind, namespace, name)
            if now != expected:
                return False
        return True

    def _allowed(self, check: Check) -> bool:
        if self.authorizer.cached(self.user, check) is None:
            self._spend(1)
        return self.authorizer.allowed(self.user, check)

    def _spend(self, reviews: int) -> None:
        self.reviews += reviews
        if self.reviews > self.authorizer.max_reviews:
            raise TooManyReviews(
                f"this request needs more than {self.authorizer.max_reviews} access reviews "
                "(--max-reviews-per-request): ask for fewer objects, or for a namespace you may read as a whole"
            )
