"""The emulator's HTTP side: the Kubernetes API protocol over a `Cluster`.

Discovery (/api, /apis, each group and group-version), get, list (labelSelector,
fieldSelector on metadata.name and metadata.namespace, limit, continue), and watch
(resourceVersion, allowWatchBookmarks, timeoutSeconds, 410 Gone as an ERROR event), with
fault injection from `cluster.faults`. kubectl works against it: tests/store prove it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, request, stream_with_context
from werkzeug.serving import BaseWSGIServer, make_server

from tests.emulator.cluster import Cluster, Gone, Object
from tests.emulator.resources import Resource
from tests.emulator.selectors import SelectorError, parse_selector

BUILTIN_GROUPS = {"", "apps", "storage.k8s.io", "authentication.k8s.io", "authorization.k8s.io"}


class DroppedConnection(Exception):
    """Raised inside a watch stream to cut the connection mid-stream."""


def status(code: int, reason: str, message: str) -> Response:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}  # fmt: skip
    return Response(json.dumps(body), status=code, mimetype="application/json")


def as_json(doc: Any, code: int = 200) -> Response:
    return Response(json.dumps(doc), status=code, mimetype="application/json")


@dataclass
class Settings:
    bookmark_interval: float = 1.0
    max_watch_seconds: float = 60.0


def create_emulator(cluster: Cluster, settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    rbac = cluster.rbac
    app = Flask("emulator")
    app.url_map.strict_slashes = False  # clients ask for /apis/ as well as /apis

    @app.errorhandler(404)
    def not_found(_: Exception) -> Response:
        return status(404, "NotFound", "the server could not find the requested resource")

    @app.errorhandler(405)
    def not_allowed(_: Exception) -> Response:
        return status(405, "MethodNotAllowed", "the emulator serves reads only")

    def served_groups() -> dict[str, list[Resource]]:
        """The resources served right now, by group: tests install and remove CRDs while it runs."""
        groups: dict[str, list[Resource]] = {}
        for r in cluster.resources:
            if r.kind not in cluster.unserved:
                groups.setdefault(r.group, []).append(r)
        return groups

    @app.before_request
    def faults() -> Response | None:
        cluster.requests.entries.append((request.method, request.path, dict(request.args)))
        f = cluster.faults
        if f.latency and not request.path.startswith("/_emulator"):
            time.sleep(f.latency)
        if f.fail_next > 0 and f.fail_paths in request.path:
            f.fail_next -= 1
            return status(f.fail_status, "InternalError", "injected fault")
        return None

    @app.post("/apis/authentication.k8s.io/v1/tokenreviews")
    def token_review() -> Response:
        body = request.get_json(silent=True) or {}
        token = (body.get("spec") or {}).get("token", "")
        return as_json({**body, "status": rbac.review_token(token)}, 201)

    in_flight = [0]
    in_flight_lock = threading.Lock()

    @app.post("/apis/authorization.k8s.io/v1/subjectaccessreviews")
    def access_review() -> Response:
        body = request.get_json(silent=True) or {}
        with in_flight_lock:
            in_flight[0] += 1
            log = cluster.requests
            log.most_reviews_at_once = max(log.most_reviews_at_once, in_flight[0])
        try:
            time.sleep(cluster.faults.review_seconds)
            return as_json({**body, "status": rbac.review_access(body.get("spec") or {})}, 201)
        finally:
            with in_flight_lock:
                in_flight[0] -= 1

    @app.get("/version")
    def version() -> Response:
        return as_json({"major": "1", "minor": "32", "gitVersion": "v1.32.0-emulator", "platform": "linux/amd64"})

    @app.get("/api")
    def core_versions() -> Response:
        return as_json(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": request.host}],
            }
        )

    @app.get("/apis")
    def group_list() -> Response:
        return as_json(
            {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group_doc(g) for g in sorted(served_groups()) if g]}
        )

    def group_doc(group: str) -> dict[str, Any]:
        versions = sorted({r.version for r in served_groups()[group]}, reverse=True)
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    @app.get("/apis/<group>")
    def one_group(group: str) -> Response:
        if group not in served_groups() or not group:
            return status(404, "NotFound", f"the server could not find the requested resource ({group})")
        return as_json({"kind": "APIGroup", "apiVersion": "v1", **group_doc(group)})

    def resource_list(group: str, version: str) -> Response:
        served = [r for r in served_groups().get(group, []) if r.version == version]
        if not served:
            return status(404, "NotFound", "the server could not find the requested resource")
        resources = [{"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                      "verbs": list(r.verbs), **({"shortNames": list(r.short_names)} if r.short_names else {})}
                     for r in served]  # fmt: skip
        group_version = f"{group}/{version}" if group else version
        return as_json(
            {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}
        )

    @app.get("/api/<version>")
    def core_resources(version: str) -> Response:
        return resource_list("", version)

    @app.get("/apis/<group>/<version>")
    def group_resources(group: str, version: str) -> Response:
        return resource_list(group, version)

    @app.get("/api/<version>/<path:rest>")
    def core_objects(version: str, rest: str) -> Response:
        return objects("", version, rest)

    @app.get("/apis/<group>/<version>/<path:rest>")
    def group_objects(group: str, version: str, rest: str) -> Response:
        return objects(group, version, rest)

    def objects(group: str, version: str, rest: str) -> Response:
        parts = rest.strip("/").split("/")
        namespace: str | None = None
        if parts[0] == "namespaces" and len(parts) >= 3:
            namespace, parts = parts[1], parts[2:]
        plural, name = parts[0], (parts[1] if len(parts) > 1 else None)
        if len(parts) > 2:
            return status(404, "NotFound", "the server could not find the requested resource")
        resource = next(
            (r for r in served_groups().get(group, []) if r.version == version and r.plural == plural), None
        )
        if resource is None or (namespace is not None and not resource.namespaced):
            return status(404, "NotFound", "the server could not find the requested resource")
        if name is not None:
            obj = cluster.get(resource, namespace, name)
            if obj is None:
                return status(
                    404, "NotFound", f'{resource.plural}.{resource.group} "{name}" not found'.replace(". ", " ")
                )
            return as_json(obj)
        try:
            selector = parse_selector(request.args.get("labelSelector", ""))
            fields = field_selector(request.args.get("fieldSelector", ""))
        except (SelectorError, ValueError) as e:
            return status(400, "BadRequest", str(e))
        if request.args.get("watch") in ("true", "1"):
            return watch(resource, namespace, selector, fields)
        return list_objects(resource, namespace, selector, fields)

    def field_selector(text: str) -> dict[str, str]:
        fields: dict[str, str] = {}
        for term in filter(None, text.split(",")):
            key, op, value = term.partition("==") if "==" in term else term.partition("=")
            if not op or key not in ("metadata.name", "metadata.namespace"):
                raise ValueError(f'field label not supported: "{key}"')
            fields[key] = value
        return fields

    def matches(obj: Object, selector: Any, fields: dict[str, str]) -> bool:
        meta = obj.get("metadata", {})
        if not selector(meta.get("labels") or {}):
            return False
        return all(meta.get(k.split(".")[1]) == v for k, v in fields.items())

    def list_objects(resource: Resource, namespace: str | None, selector: Any, fields: dict[str, str]) -> Response:
        items, rv = cluster.objects(resource, namespace)
        items = [o for o in items if matches(o, selector, fields)]
        token = request.args.get("continue")
        if token:
            after = tuple(json.loads(base64.urlsafe_b64decode(token)))
            items = [o for o in items if (o["metadata"].get("namespace") or "", o["metadata"]["name"]) > after]
        metadata: dict[str, Any] = {"resourceVersion": str(rv)}
        limit = int(request.args.get("limit") or 0)
        if limit and len(items) > limit:
            items = items[:limit]
            last = items[-1]["metadata"]
            metadata["continue"] = base64.urlsafe_b64encode(
                json.dumps([last.get("namespace") or "", last["name"]]).encode()).decode()  # fmt: skip
            metadata["remainingItemCount"] = 0
        if resource.group in BUILTIN_GROUPS:
            # the API server leaves kind and apiVersion out of the items of built-in lists
            items = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in items]
        return as_json(
            {"kind": f"{resource.kind}List", "apiVersion": resource.api_version, "metadata": metadata, "items": items}
        )

    def watch(resource: Resource, namespace: str | None, selector: Any, fields: dict[str, str]) -> Response:
        since = request.args.get("resourceVersion")
        bookmarks = request.args.get("allowWatchBookmarks") in ("true", "1")
        timeout = min(float(request.args.get("timeoutSeconds") or settings.max_watch_seconds),
                      settings.max_watch_seconds)  # fmt: skip

        def event(kind: str, obj: Object) -> bytes:
            return json.dumps({"type": kind, "object": obj}).encode() + b"\n"

        def relevant(obj: Object) -> bool:
            in_ns = namespace is None or obj.get("metadata", {}).get("namespace") == namespace
            return in_ns and matches(obj, selector, fields)

        def stream() -> Iterator[bytes]:
            epoch = cluster.watch_epoch
            deadline = time.monotonic() + timeout
            if since in (None, "", "0"):
                items, last = cluster.objects(resource, namespace)
                for obj in items:
                    if relevant(obj):
                        yield event("ADDED", obj)
            else:
                last = int(since)
            next_bookmark = time.monotonic() + settings.bookmark_interval
            while True:
                try:
                    events, current = cluster.events_after(resource, last)
                except Gone as e:
                    yield event(
                        "ERROR",
                        {
                            "kind": "Status",
                            "apiVersion": "v1",
                            "metadata": {},
                            "status": "Failure",
                            "message": str(e),
                            "reason": "Expired",
                            "code": 410,
                        },
                    )
                    return
                for ev in events:
                    if relevant(ev.obj):
                        yield event(ev.type, ev.obj)
                last = current
                if cluster.watch_epoch != epoch:
                    if cluster.abrupt_drop:
                        raise DroppedConnection("watch dropped by the test")
                    return
                now = time.monotonic()
                if now >= deadline:
                    return
                if bookmarks and now >= next_bookmark:
                    yield event(
                        "BOOKMARK",
                        {
                            "kind": resource.kind,
                            "apiVersion": resource.api_version,
                            "metadata": {"resourceVersion": str(last)},
                        },
                    )
                    next_bookmark = now + settings.bookmark_interval
                with cluster.changed:
                    if cluster.rv == last and cluster.watch_epoch == epoch:
                        cluster.changed.wait(timeout=min(0.2, max(0.0, deadline - now)))

        return Response(stream_with_context(stream()), mimetype="application/json")

    return app


class EmulatorServer:
    """The emulator on 127.0.0.1, in a thread; `start` can be called again after `stop`."""

    def __init__(self, cluster: Cluster, port: int = 0, settings: Settings | None = None) -> None:
        self.cluster = cluster
        self.app = create_emulator(cluster, settings)
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmulatorServer:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="emulator")
        self._thread.start()
        return self

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._server is not None:
            self.cluster.drop_watches()
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None

    def kubeconfig(self, path: Any, token: str = "emulator-admin") -> str:
        """A kubeconfig file pointing at this emulator, as kubectl and the client read it."""
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "emulator",
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": token}}],
            "contexts": [{"name": "emulator", "context": {"cluster": "emulator", "user": "tester"}}],
        }  # fmt: skip
        with open(path, "w") as f:
            json.dump(config, f)
        return str(path)
