"""The Kubernetes API through the official client: the only module that imports `kubernetes`.

It uses the client's configuration loading (kubeconfig and context exactly as kubectl
finds them, or the in-cluster service account), its authentication and its HTTP pool, and
asks for raw JSON: objects of every kind, core or custom, stay plain dicts (no model
classes, no dropped fields) and are parsed with orjson. Failures become `ApiError`s here,
once, with the client's exception kept as the cause.
"""

from __future__ import annotations

import logging
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

    @classmethod
    def connect(cls, kubeconfig: str | None, context: str | None, timeout: float) -> KubeApi:
        """kubeconfig and context as kubectl finds them ($KUBECONFIG, ~/.kube/config), else in-cluster."""
        configuration = client.Configuration()
        try:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
        except (ConfigException, OSError, TypeError) as kube_error:
            if kubeconfig or context:
                raise ApiConfigError(
                    f"cannot use kubeconfig {kubeconfig or ''} {context or ''}: {kube_error}"
                ) from None
            try:
                config.load_incluster_config(client_configuration=configuration)
            except ConfigException as e:
                raise ApiConfigError(f"no kubeconfig ({kube_error}) and not in a cluster ({e})") from None
        # one connection per watched kind stays open (about 30), besides the reads: urllib3's default
        # pool of 10 would drop and reopen connections all the time ("Connection pool is full")
        configuration.connection_pool_maxsize = 64
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
            raise ApiError(0, "Unreachable", f"cannot reach the API server at {self.host}: {e.reason}") from e
        except urllib3.exceptions.MaxRetryError as e:
            if isinstance(e.reason, urllib3.exceptions.TimeoutError):
                raise ApiTimeout(504, "Timeout", f"the API server at {self.host} did not answer in time") from e
            raise ApiError(0, "Unreachable", f"cannot reach the API server at {self.host}: {e.reason}") from e
        except urllib3.exceptions.TimeoutError as e:
            raise ApiTimeout(504, "Timeout", f"the API server at {self.host} did not answer in time") from e
        except (urllib3.exceptions.HTTPError, OSError) as e:
            raise ApiError(0, "Unreachable", f"cannot reach the API server at {self.host}: {e}") from e
        if response.status >= 400:
            raise _error_of(response.status, response.read())
        return response

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
