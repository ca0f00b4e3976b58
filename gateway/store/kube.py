"""The Kubernetes API through the official client: the only module that imports `kubernetes`.

It uses the client's configuration loading (kubeconfig and context exactly as kubectl
finds them, or the in-cluster service account), its authentication and its HTTP pool, and
asks for raw JSON: objects of every kind, core or custom, stay plain dicts (no model
classes, no dropped fields) and are parsed with orjson. Failures become `ApiError`s here,
once, with the client's exception kept as the cause.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from gateway.catalog import Kind
from gateway.store.errors import StoreForbidden, StoreTimeout, StoreUnavailable
from gateway.store.normalize import redact_answer

log = logging.getLogger(__name__)
_MAX_ERROR_BODY = 512  # what of an error body reaches a message or a log line


class ApiError(StoreUnavailable):
    """The API server answered with an error, or could not be reached (status 0). Its subclasses say what
    the store error is: a timeout, or a read the gateway's identity may not make."""

    unanswered = False
    """No answer came (refused, unreachable, timed out): KubeApi's Outage logged it."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}" if status else message)
        self.status, self.reason, self.detail = status, reason, message

    @staticmethod
    def of(status: int, reason: str, message: str) -> ApiError:
        """The error for this answer of the server, as its most precise kind."""
        if status == 504:
            return ApiTimeout(status, reason, message)
        if status == 403:
            return ApiForbidden(status, reason, f"the gateway's service account may not read this: {message}")
        if status == 401:
            return ApiError(status, reason, "the API server rejected the gateway's credentials")
        return ApiError(status, reason, message)


class ApiTimeout(ApiError, StoreTimeout):
    pass


class ApiForbidden(ApiError, StoreForbidden):
    pass


class ApiConfigError(Exception):
    """No usable kubeconfig or in-cluster configuration."""


@dataclass(frozen=True, slots=True)
class Served:
    """Where a kind is served by this cluster (its version may differ from the catalogue's)."""

    group: str
    version: str
    plural: str

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The API path; namespace and name are quoted, so neither can become a query or another path."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace is not None:
            base += f"/namespaces/{_segment(namespace)}"
        base += f"/{self.plural}"
        return base if name is None else f"{base}/{_segment(name)}"


def _segment(value: str) -> str:
    # "." and ".." are quoted too: quote() leaves them, and a client or proxy would resolve them
    return quote(value, safe="") if value not in (".", "..") else value.replace(".", "%2E")


class KubeApi:
    def __init__(self, api: client.ApiClient, timeout: float) -> None:
        self._api = api
        self.timeout = timeout
        self.host = str(api.configuration.host)
        self.outage = Outage(self.host)

    @classmethod
    def connect(cls, kubeconfig: str | None, context: str | None, timeout: float) -> KubeApi:
        """kubeconfig and context as kubectl finds them ($KUBECONFIG, ~/.kube/config), else in-cluster."""
        configuration = client.Configuration()
        try:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
        except (ConfigException, OSError, TypeError) as kube_error:
            if kubeconfig or context:
                raise ApiConfigError(_kubeconfig_problem(kubeconfig, context, kube_error)) from None
            try:
                config.load_incluster_config(client_configuration=configuration)
            except ConfigException as e:
                missing = _kubeconfig_problem(None, None, kube_error).removeprefix("kubeconfig ")
                service = all(os.environ.get(f"KUBERNETES_SERVICE_{v}") for v in ("HOST", "PORT"))
                why = e if service else "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set"
                raise ApiConfigError(f"no kubeconfig ({missing}) and not in a cluster ({why})") from None
        # one connection per watched kind stays open (about 30), besides the reads: urllib3's default
        # pool of 10 would drop and reopen connections all the time ("Connection pool is full")
        configuration.connection_pool_maxsize = 64
        # no new connection is tried again at once (urllib3 would, thrice, with a warning each time): the
        # watches retry with a backoff, and a read answers 503 now; a stale pooled connection is still retried
        configuration.retries = urllib3.util.Retry(total=3, connect=0)
        return cls(client.ApiClient(configuration), timeout)

    def _request(self, path: str, query: dict[str, Any] | None, timeout: Any, body: Any = None) -> Any:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        method, url, headers, body, _ = self._api.param_serialize(
            "GET" if body is None else "POST",
            path,
            query_params=list((query or {}).items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response = self._api.call_api(method, url, header_params=headers, body=body, _request_timeout=timeout)
        except ApiException as e:
            raise self._unreachable(e, str(e.reason)) from e
        except urllib3.exceptions.MaxRetryError as e:
            raise self._unreachable(e, e.reason) from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise self._unreachable(e, e) from e
        self.outage.answered()
        if response.status >= 400:
            raise _error_of(response.status, response.read())
        return response

    def _unreachable(self, error: Exception, reason: object) -> ApiError:
        """The error for a request that got no answer, counted in the outage. urllib3's NewConnectionError is
        a ConnectTimeoutError: a refused connection is told from a timeout by its cause, not by its class."""
        causes = _causes(error)
        refused = any(isinstance(c, ConnectionRefusedError) for c in causes)
        if not refused and any(isinstance(c, (urllib3.exceptions.TimeoutError, TimeoutError)) for c in causes):
            failure: ApiError = ApiTimeout(504, "Timeout", f"the API server at {self.host} did not answer in time")
        elif refused:
            failure = ApiError(0, "Unreachable", f"cannot reach the API server at {self.host}: connection refused")
        else:
            failure = ApiError(0, "Unreachable", f"cannot reach the API server at {self.host}: {_reason(reason)}")
        failure.unanswered = True
        self.outage.failed(failure.detail)
        return failure

    def get_json(self, path: str, query: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._decoded(path, self._request(path, query, self.timeout))

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST an object (a TokenReview, a SubjectAccessReview) and return the server's answer."""
        return self._decoded(path, self._request(path, None, self.timeout, body))

    def _decoded(self, path: str, response: Any) -> dict[str, Any]:
        try:
            doc = orjson.loads(response.read())
        except orjson.JSONDecodeError as e:
            raise ApiError(502, "BadGateway", f"the API server sent invalid JSON for {path}") from e
        if not isinstance(doc, dict):
            raise ApiError(502, "BadGateway", f"the API server sent no object for {path}")
        return redact_answer(doc, secrets=_names_secrets(path))

    def watch(self, path: str, query: dict[str, Any], read_timeout: float) -> Iterator[dict[str, Any]]:
        """Open a watch now (errors raise here), and return its events as they arrive."""
        response = self._request(path, {**query, "watch": "true"}, (self.timeout, read_timeout))
        return self._events(path, response)

    @staticmethod
    def _events(path: str, response: Any) -> Iterator[dict[str, Any]]:
        buffer, secrets = b"", _names_secrets(path)
        try:
            for chunk in response.response.stream(64 * 1024, decode_content=True):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        event = orjson.loads(line)
                        if isinstance(event, dict) and isinstance(event.get("object"), dict):
                            event["object"] = redact_answer(event["object"], secrets=secrets)
                        yield event
        except (urllib3.exceptions.ProtocolError, ConnectionResetError) as e:
            # kube-apiserver ends a watch at its timeout without the last chunk, and a stream can be cut;
            # client-go's StreamWatcher takes both as the watch's end and resumes: so do we
            log.debug("watch of %s ended: %s", path, e)
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise ApiError(0, "Disconnected", f"watch of {path} cut: {e}") from e
        except orjson.JSONDecodeError as e:
            raise ApiError(502, "BadGateway", f"the API server sent an invalid watch event for {path}") from e
        finally:
            response.response.release_conn()

    def ready(self) -> None:
        """Raise unless the API server says it is ready (/readyz, open to everyone): while it starts, its
        discovery does not list the CRDs yet, and a kind taken for not installed would read as empty."""
        try:
            self._request("/readyz", None, self.timeout).read()
        except ApiError as e:
            if e.status in (401, 403, 404):  # a server that does not show its readiness: trust its discovery
                return
            if e.status in (0, 504):
                raise
            checks = [line.strip() for line in e.detail.splitlines() if line.strip().startswith("[-]")]
            raise ApiError(503, "NotReady", f"the API server at {self.host} is not ready yet: "
                           f"{', '.join(checks) or e.detail[:200]}") from e  # fmt: skip

    def discover(self, kinds: list[Kind]) -> dict[str, Served]:
        """Which of `kinds` this cluster serves, and at which version. Absent CRDs are left out."""
        self.ready()
        versions: dict[str, list[str]] = {"": ["v1"]}
        for group in self.get_json("/apis").get("groups") or []:
            preferred = (group.get("preferredVersion") or {}).get("version")
            listed = [v.get("version") for v in group.get("versions") or []]
            versions[group.get("name", "")] = [v for v in [preferred, *listed] if v]
        plurals: dict[tuple[str, str], set[str]] = {}
        served: dict[str, Served] = {}
        for kind in kinds:
            candidates = [kind.version] + [v for v in versions.get(kind.group, []) if v != kind.version]
            for version in candidates:
                if version not in versions.get(kind.group, []):
                    continue
                if (kind.group, version) not in plurals:
                    prefix = f"/apis/{kind.group}/{version}" if kind.group else f"/api/{version}"
                    resources = self.get_json(prefix).get("resources") or []
                    plurals[(kind.group, version)] = {r.get("name") for r in resources}
                if kind.plural in plurals[(kind.group, version)]:
                    served[kind.name] = Served(kind.group, version, kind.plural)
                    break
        return served


class Outage:
    """An API server that stops answering is logged once, and once again when it answers, with the number of
    requests that failed between: every watch retries on its own, and a line each would flood the log."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.failures = 0
        self._since = 0.0
        self._lock = threading.Lock()

    def failed(self, why: str) -> None:
        with self._lock:
            self.failures += 1
            first = self.failures == 1
            if first:
                self._since = time.monotonic()
        if first:
            log.warning("%s (counting failed requests until it answers again)", why)

    def answered(self) -> None:
        if not self.failures:  # the usual case: no lock
            return
        with self._lock:
            failures, self.failures = self.failures, 0
            seconds = time.monotonic() - self._since
        if failures:
            requests = f"{failures} failed request{'s' if failures > 1 else ''}"
            log.warning("the API server at %s answers again, after %s in %.0fs", self.host, requests, seconds)


def _causes(error: BaseException) -> list[BaseException]:
    """The error, its reason (urllib3's MaxRetryError) and its causes."""
    found: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or current in found:
            continue
        found.append(current)
        reason = getattr(current, "reason", None)
        pending += [current.__cause__, current.__context__, reason if isinstance(reason, BaseException) else None]
    return found


def _reason(reason: object) -> str:
    """urllib3's `HTTPSConnection(host='x', port=443): Failed to resolve 'x' (...)`, without the connection."""
    text = str(reason) or type(reason).__name__
    return text.split("): ", 1)[1] if text.startswith("HTTP") and "): " in text else text


@dataclass(frozen=True)
class ApiServerAccess:
    """How kubectl would reach the API server: its URL, the CA to verify it with (or False), and the
    user's credentials (a bearer token, or a client certificate's files)."""

    server: str
    verify: str | bool = True
    token: str | None = None
    cert: tuple[str, str] | None = None


def api_server_access(kubeconfig: str | None, context: str | None) -> ApiServerAccess:
    """The kubeconfig's cluster and user for the current (or named) context, read by the Kubernetes
    client's own loader, as `KubeApi.connect` reads them: tokens and token files, certificates as files
    or data, exec credential plugins."""
    configuration = client.Configuration()
    try:
        config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
    except (ConfigException, OSError, TypeError) as e:
        raise ApiConfigError(_kubeconfig_problem(kubeconfig, context, e)) from None
    bearer = configuration.get_api_key_with_prefix("BearerToken") or ""  # an exec plugin's, run now
    cert = (
        (configuration.cert_file, configuration.key_file)
        if configuration.cert_file and configuration.key_file
        else None
    )
    verify: str | bool = (configuration.ssl_ca_cert or True) if configuration.verify_ssl else False
    return ApiServerAccess(configuration.host.rstrip("/"), verify, bearer.removeprefix("Bearer ") or None, cert)


def _kubeconfig_problem(kubeconfig: str | None, context: str | None, error: Exception) -> str:
    """What is wrong with the kubeconfig kubectl would read: a file that is not there, a context it lacks."""
    named = kubeconfig or os.environ.get("KUBECONFIG") or ""
    paths = [p for p in named.split(os.pathsep) if p] or ["~/.kube/config"]
    source = "" if kubeconfig else " ($KUBECONFIG)" if named else ""
    present = [p for p in paths if os.path.isfile(os.path.expanduser(p))]
    if not present:
        return f"kubeconfig {os.pathsep.join(paths)}{source} does not exist"
    if context:
        try:
            contexts, _ = config.list_kube_config_contexts(config_file=os.pathsep.join(present))
        except (ConfigException, OSError, TypeError, AttributeError):
            contexts = []
        names = sorted(str(c.get("name")) for c in contexts or [] if isinstance(c, dict))
        if context not in names:
            there = f"its contexts are {', '.join(names)}" if names else "it has no contexts"
            return f"context {context!r} is not in kubeconfig {os.pathsep.join(present)}: {there}"
    return f"cannot use kubeconfig {os.pathsep.join(present)}{source}: {error}"


def _names_secrets(path: str) -> bool:
    """Whether an API path reads Secrets (`.../secrets` or `.../secrets/NAME`): its items are Secrets
    even where they carry no kind."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if parts[:1] != ["api"] or len(parts) < 3:
        return False
    resource = parts[4] if parts[2] == "namespaces" and len(parts) > 4 else parts[2]
    return resource == "secrets"


def _error_of(status: int, body: bytes) -> ApiError:
    try:
        doc = orjson.loads(body)
        reason, message = str(doc.get("reason") or "Unknown"), str(doc.get("message") or "")
    except (orjson.JSONDecodeError, AttributeError):
        reason, message = "Unknown", body[:_MAX_ERROR_BODY].decode("utf-8", "replace")
    return ApiError.of(status, reason, message[:_MAX_ERROR_BODY])
