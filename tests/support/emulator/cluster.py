"""The emulated cluster's state: objects, a global resourceVersion, and the event history watches read.

Thread-safe: the HTTP server serves each request (and each watch) on its own thread, and
tests change objects from theirs. `changed` wakes the watches when anything is written.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.support.emulator.rbac import DEFAULT, Rbac
from tests.support.emulator.resources import RESOURCES, Resource

Object = dict[str, Any]
Key = tuple[str | None, str]  # namespace, name


class Gone(Exception):
    """A resourceVersion older than the history still kept: the client must list again."""


@dataclass(frozen=True)
class Event:
    rv: int
    resource: Resource
    type: str  # ADDED, MODIFIED, DELETED
    obj: Object


@dataclass
class Faults:
    """What the next requests suffer; tests set these."""

    latency: float = 0.0
    fail_next: int = 0
    fail_status: int = 500
    fail_paths: str = ""  # only requests whose path contains this (empty: all)
    review_seconds: float = 0.0  # how long each SubjectAccessReview takes (to see reviews overlap)


@dataclass
class RequestLog:
    entries: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def posts(self, plural: str) -> int:
        """How many POSTs to `plural` (token and access reviews) were made."""
        return sum(1 for m, p, _ in self.entries if m == "POST" and p.endswith("/" + plural))

    def lists(self, plural: str) -> list[dict[str, str]]:
        """Query strings of the non-watch list calls for `plural`."""
        return [q for m, p, q in self.entries if m == "GET" and p.endswith("/" + plural) and q.get("watch") != "true"]

    def clear(self) -> None:
        self.entries.clear()
        self.most_reviews_at_once = 0

    most_reviews_at_once: int = 0
    """The most SubjectAccessReviews the emulator was answering at the same time."""


class Cluster:
    def __init__(self, resources: Iterable[Resource] = RESOURCES, history: int = 10_000, rbac: Rbac = DEFAULT) -> None:
        self.resources = tuple(resources)
        self.rbac = rbac
        self._by_kind = {r.kind: r for r in self.resources}
        self._objects: dict[Resource, dict[Key, Object]] = {r: {} for r in self.resources}
        self._history: deque[Event] = deque(maxlen=history)
        self._oldest = 0  # events after this resourceVersion are all in the history
        self.rv = 1000
        self.changed = threading.Condition()
        self.watch_epoch = 0
        self.abrupt_drop = False
        self.faults = Faults()
        self.unserved: set[str] = set()
        """Kinds whose CRD is not installed right now: absent from discovery, 404 on every path."""
        self.requests = RequestLog()

    # --- tests change the cluster ---------------------------------------------------------

    def resource_of(self, obj: Object) -> Resource:
        resource = self._by_kind.get(obj.get("kind", ""))
        if resource is None or obj.get("apiVersion") != resource.api_version:
            raise KeyError(f"the emulator serves no {obj.get('apiVersion')} {obj.get('kind')}")
        return resource

    def apply(self, obj: Object) -> Object:
        """Create or replace an object, as `kubectl apply` would; returns it as stored. Its
        namespace is made first where it does not exist yet (a real server would refuse)."""
        resource = self.resource_of(obj)
        namespace = (obj.get("metadata") or {}).get("namespace")
        if resource.namespaced and namespace and "Namespace" in self._by_kind:
            namespaces = self._objects[self._by_kind["Namespace"]]
            if (None, namespace) not in namespaces:
                self.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace},
                            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})  # fmt: skip
        stored = copy.deepcopy(obj)
        meta = stored.setdefault("metadata", {})
        if not resource.namespaced:
            meta.pop("namespace", None)
        key = (meta.get("namespace"), meta["name"])
        with self.changed:
            old = self._objects[resource].get(key)
            meta.setdefault("uid", (old or {}).get("metadata", {}).get("uid") or str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            self.rv += 1
            meta["resourceVersion"] = str(self.rv)
            self._objects[resource][key] = stored
            self._record(resource, "MODIFIED" if old else "ADDED", stored)
        return copy.deepcopy(stored)

    def load(self, objects: Iterable[Object]) -> None:
        for obj in objects:
            if obj.get("kind") in self._by_kind:
                self.apply(obj)

    def delete(self, kind: str, namespace: str | None, name: str) -> None:
        resource = self._by_kind[kind]
        with self.changed:
            old = self._objects[resource].pop((namespace if resource.namespaced else None, name))
            self.rv += 1
            gone = copy.deepcopy(old)
            gone["metadata"]["resourceVersion"] = str(self.rv)
            self._record(resource, "DELETED", gone)

    def compact(self) -> None:
        """Forget the history: watches from any earlier resourceVersion get 410 Gone."""
        with self.changed:
            self._history.clear()
            self._oldest = self.rv
            self.changed.notify_all()

    def drop_watches(self, abrupt: bool = False) -> None:
        """End every open watch: cleanly (the server closes it) or abruptly (mid-stream)."""
        with self.changed:
            self.watch_epoch += 1
            self.abrupt_drop = abrupt
            self.changed.notify_all()

    def _record(self, resource: Resource, kind: str, obj: Object) -> None:
        if len(self._history) == self._history.maxlen:
            self._oldest = self._history[0].rv
        self._history.append(Event(self.rv, resource, kind, copy.deepcopy(obj)))
        self.changed.notify_all()

    # --- the server reads it ------------------------------------------------------------

    def objects(self, resource: Resource, namespace: str | None = None) -> tuple[list[Object], int]:
        """The stored objects, in API order. Stored objects are replaced, never changed in place,
        so handing them out without a copy is safe as long as readers do not mutate them."""
        with self.changed:
            items = [
                o
                for (ns, _), o in sorted(self._objects[resource].items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
                if namespace is None or ns == namespace
            ]
            return items, self.rv

    def get(self, resource: Resource, namespace: str | None, name: str) -> Object | None:
        with self.changed:
            obj = self._objects[resource].get((namespace if resource.namespaced else None, name))
            return copy.deepcopy(obj) if obj is not None else None

    def events_after(self, resource: Resource, rv: int) -> tuple[list[Event], int]:
        """Events of `resource` after `rv`, and the resourceVersion they bring the watcher to."""
        with self.changed:
            if rv < self._oldest:
                raise Gone(f"too old resource version: {rv} ({self._oldest})")
            return [e for e in self._history if e.rv > rv and e.resource == resource], self.rv

    def dump(self) -> list[Object]:
        """Every object as stored, kind and apiVersion included: the same cluster as manifests."""
        with self.changed:
            return [copy.deepcopy(o) for objects in self._objects.values() for o in objects.values()]

    def namespaces(self) -> list[str]:
        with self.changed:
            return sorted({ns for objects in self._objects.values() for ns, _ in objects if ns})
