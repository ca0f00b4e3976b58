"""Configuration: one table of settings, read from CLI flags or KUBEVIRT_GATEWAY_* variables.

Each setting is declared once in `SETTINGS`; `cli/commands.py` turns the table into flags and
`from_env` into environment variables of the same names, so the two cannot drift.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

ENV_PREFIX = "KUBEVIRT_GATEWAY_"
_ORIGIN = re.compile(r"https?://[^/\s?#]+")
_NAMESPACE = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")


class ConfigError(ValueError):
    """A setting that is malformed or does not fit with another."""


@dataclass(frozen=True)
class Config:
    demo: bool = False
    manifests: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    """LinkCatalog files or directories (`--links`, repeatable): declared kinds and links, in every mode."""
    strict: bool = False
    kube: bool = False
    kubeconfig: str | None = None
    context: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    cache: str = "watch"
    auth: str | None = None
    default_namespace: str = ""
    """Empty: `default`, or `demo` when serving the demo cluster (`validated` fills it in)."""
    max_follow_depth: int = 6
    max_follow_paths: int = 64
    max_embedded: int = 10_000
    optimize: bool = True
    server: str = "gevent"
    threads: int = 16
    api_timeout: float = 10.0
    watch_idle_seconds: float = 600.0
    auth_cache_seconds: float = 10.0
    max_url_bytes: int = 4096
    max_body_bytes: int = 65536
    max_subscribers: int = 1000
    answer_cache_mb: int = 64
    heartbeat_seconds: float = 15.0
    max_reviews_per_request: int = 256
    max_response_bytes: int = 8 * 1024 * 1024
    max_subscribers_per_caller: int = 4
    discovery_seconds: float = 300.0
    links_namespace: str = ""
    """Empty: the namespace the gateway runs in (`store.declared.pod_namespace`), else `default`."""
    client_timeout: float = 10.0
    max_connections_per_address: int = 256
    cors_origin: tuple[str, ...] = ()
    cors_credentials: bool = False
    tls_cert_file: str | None = None
    tls_private_key_file: str | None = None
    requestheader_client_ca_file: str | None = None
    """None: with --kube and TLS, kube-system/extension-apiserver-authentication's CA (and its names, headers)."""
    requestheader_allowed_names: tuple[str, ...] = ()
    requestheader_username_headers: tuple[str, ...] = ()
    requestheader_uid_headers: tuple[str, ...] = ()
    requestheader_group_headers: tuple[str, ...] = ()
    requestheader_extra_headers_prefix: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Flask settings for tests (TESTING and the like)."""

    @property
    def source(self) -> str:
        return "kube" if self.kube else "manifests" if self.manifests else "demo"

    @property
    def effective_auth(self) -> str:
        return self.auth or ("kubernetes" if self.kube else "none")

    def validated(self) -> Config:
        if sum([self.demo, bool(self.manifests), self.kube]) > 1:
            raise ConfigError("choose one source: --demo, --manifests PATH or --kube")
        if not self.default_namespace:
            # the demo's objects are in `demo`: its own examples (/vms/fedora) answer without ?namespace=
            return replace(self, default_namespace="demo" if self.source == "demo" else "default").validated()
        for origin in self.cors_origin:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ConfigError(
                    f"--cors-origin {origin!r} is not an origin: give scheme://host[:port], "
                    "e.g. https://ui.example.com, or *"
                )
        if self.cors_credentials and not self.cors_origin:
            raise ConfigError("--cors-credentials needs --cors-origin: the origins allowed to send credentials")
        if self.cors_credentials and "*" in self.cors_origin:
            raise ConfigError("--cors-credentials cannot go with --cors-origin '*': browsers refuse credentials there")
        if self.cache not in ("watch", "none"):
            raise ConfigError(f"--cache must be watch or none, not {self.cache!r}")
        if self.server not in ("gevent", "threads"):
            raise ConfigError(f"--server must be gevent or threads, not {self.server!r}")
        if self.auth not in (None, "none", "kubernetes"):
            raise ConfigError(f"--auth must be none or kubernetes, not {self.auth!r}")
        if self.effective_auth == "kubernetes" and not self.kube:
            raise ConfigError("--auth kubernetes needs a live cluster (--kube) to review tokens")
        for name in (
            "max_follow_depth",
            "max_follow_paths",
            "max_embedded",
            "threads",
            "max_url_bytes",
            "max_body_bytes",
            "max_reviews_per_request",
            "max_response_bytes",
            "max_subscribers_per_caller",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1")
        for name in (
            "api_timeout",
            "watch_idle_seconds",
            "auth_cache_seconds",
            "heartbeat_seconds",
            "discovery_seconds",
            "client_timeout",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be more than 0")
        if self.links_namespace and not self.kube:
            raise ConfigError("--links-namespace needs a live cluster (--kube): ConfigMaps are read from it")
        if self.links_namespace and not _NAMESPACE.fullmatch(self.links_namespace):
            raise ConfigError(f"--links-namespace {self.links_namespace!r} is not a namespace name (RFC 1123 label)")
        if bool(self.tls_cert_file) != bool(self.tls_private_key_file):
            raise ConfigError("--tls-cert-file and --tls-private-key-file go together: the certificate and its key")
        if self.tls_cert_file and self.tls_private_key_file:
            _check_tls(self.tls_cert_file, self.tls_private_key_file)
        if self.tls_cert_file and self.server != "gevent":
            # the threads worker reads a request's head from the bare socket, before TLS could unwrap it
            raise ConfigError("--tls-cert-file needs --server gevent (the default)")
        requestheader = [n for n in dir(self) if n.startswith("requestheader_") and getattr(self, n)]
        if requestheader and not self.tls_cert_file:
            flag = "--" + requestheader[0].replace("_", "-")
            raise ConfigError(f"{flag} needs TLS (--tls-cert-file): a front proxy is known by its client certificate")
        if requestheader and not self.requestheader_client_ca_file:
            flag = "--" + requestheader[0].replace("_", "-")
            raise ConfigError(f"{flag} needs --requestheader-client-ca-file: the CA that signs the front proxy")
        if self.max_connections_per_address < 0:
            raise ConfigError("--max-connections-per-address must be 0 (no cap) or more")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port must be 0..65535, not {self.port}")
        return self


def _check_tls(cert: str, key: str) -> None:
    """The certificate and key load, and belong together: else one line now, not a traceback at the bind."""
    for flag, path in (("--tls-cert-file", cert), ("--tls-private-key-file", key)):
        if not os.path.isfile(path):
            raise ConfigError(f"{flag} {path}: no such file")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        why = e.reason if isinstance(e, ssl.SSLError) and e.reason else e.__class__.__name__
        raise ConfigError(
            f"--tls-cert-file {cert} with --tls-private-key-file {key}: not a PEM certificate and its key ({why})"
        ) from None


@dataclass(frozen=True)
class Setting:
    name: str
    help: str
    kind: type = str
    metavar: str = "PATH"
    separator: str = os.pathsep
    """How a list setting's values are joined in its environment variable."""


SETTINGS = (
    Setting("demo", "serve the demo cluster shipped in the package (the default source)", bool),
    Setting("manifests", "serve objects from YAML/JSON files or directories (repeatable)", list),
    Setting("strict", "with --manifests: refuse kinds the gateway does not serve instead of leaving them out", bool),
    Setting("links", "declare kinds and links in LinkCatalog YAML files or directories (repeatable)", list),
    Setting("kube", "serve a live cluster, found through kubeconfig as kubectl finds it", bool),
    Setting("kubeconfig", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)"),
    Setting("context", "kubeconfig context (default: the current context)"),
    Setting("host", "address to bind (default 127.0.0.1)"),
    Setting("port", "port to listen on (default 8080)", int),
    Setting("cache", "live clusters: watch (answer from a watch cache) or none (read the API)"),
    Setting("auth", "none, or kubernetes (TokenReview + SubjectAccessReview; default with --kube)"),
    Setting(
        "default_namespace",
        "namespace of /vms/{name} without ?namespace= (default 'default'; 'demo' when serving the demo cluster)",
    ),
    Setting("max_follow_depth", "deepest follow path accepted (default 6)", int),
    Setting("max_follow_paths", "most comma-separated follow paths accepted (default 64)", int),
    Setting("max_embedded", "most objects embedded in one response (default 10000)", int),
    Setting("optimize", "resolve a whole level per link in one batch (default true)", bool),
    Setting("server", "gevent (a greenlet per connection; the default) or threads (a thread per connection)"),
    Setting("threads", "with --server threads: server threads (default 16); each live stream holds one", int),
    Setting("api_timeout", "seconds to wait for the API server before a 504 (default 10)", float),
    Setting("watch_idle_seconds", "stop a kind's watch after this long unused (default 600)", float),
    Setting("auth_cache_seconds", "remember token and access reviews this long (default 10)", float),
    Setting("max_url_bytes", "longest request path and query accepted (default 4096; 414 beyond)", int),
    Setting("max_body_bytes", "largest request body accepted (default 65536; 413 beyond)", int),
    Setting(
        "answer_cache_mb",
        "MiB for answers served again while nothing they read changed, and as much again for the application "
        "graph's per-workload pieces (default 64; 0: none)",
        int,
    ),
    Setting("max_subscribers", "most live ?watch=true streams at once (default 1000; 429 beyond)", int),
    Setting("heartbeat_seconds", "seconds between heartbeats on a live stream (default 15)", float),
    Setting("max_subscribers_per_caller", "most live streams one caller may hold (default 4; 429 beyond)", int),
    Setting("max_reviews_per_request", "most access reviews one request may cost (default 256; 400 beyond)", int),
    Setting("max_response_bytes", "largest answer built, checked while building (default 8 MiB; 400 beyond)", int),
    Setting(
        "client_timeout",
        "seconds a client may take to send a request's head, and again its body once it is read (default 10; "
        "408 beyond)",
        float,
    ),
    Setting(
        "max_connections_per_address",
        "most connections open at once from one peer address (default 256; 0: no cap; 429 beyond)",
        int,
    ),
    Setting(
        "cors_origin",
        "an origin whose browser pages may call the gateway, e.g. https://ui.example.com, or * (repeatable; "
        "none by default)",
        list,
        metavar="ORIGIN",
        separator=",",
    ),
    Setting("cors_credentials", "let the --cors-origin pages send cookies and Authorization (default false)", bool),
    Setting("tls_cert_file", "serve HTTPS with this certificate (PEM; with --tls-private-key-file)"),
    Setting("tls_private_key_file", "the private key of --tls-cert-file (PEM)"),
    Setting(
        "requestheader_client_ca_file",
        "the CA of the front proxy (the cluster's API server) whose client certificate lets X-Remote-* headers "
        "name the caller (default with --kube and TLS: kube-system/extension-apiserver-authentication's)",
    ),
    Setting(
        "requestheader_allowed_names",
        "common names the front proxy's certificate may have (repeatable; none: any the CA signed)",
        list,
        metavar="NAME",
        separator=",",
    ),
    Setting(
        "requestheader_username_headers",
        "headers naming the user (repeatable; default X-Remote-User)",
        list,
        metavar="HEADER",
        separator=",",
    ),
    Setting(
        "requestheader_uid_headers",
        "headers giving the user's uid (repeatable; default none, as Kubernetes)",
        list,
        "HEADER",
        ",",
    ),
    Setting(
        "requestheader_group_headers",
        "headers naming the user's groups (repeatable; default X-Remote-Group)",
        list,
        metavar="HEADER",
        separator=",",
    ),
    Setting(
        "requestheader_extra_headers_prefix",
        "prefixes of headers giving the user's extra attributes (repeatable; default X-Remote-Extra-)",
        list,
        metavar="PREFIX",
        separator=",",
    ),
    Setting(
        "discovery_seconds", "live clusters: ask the API server which kinds it serves this often (default 300)", float
    ),
    Setting(
        "links_namespace",
        "live clusters: read declared links from ConfigMaps labelled kubevirt-gateway.io/links=true in this "
        "namespace (default: the namespace the gateway runs in, else 'default')",
        metavar="NAMESPACE",
    ),
)


def parse_value(setting: Setting, raw: str) -> Any:
    if setting.kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{ENV_PREFIX}{setting.name.upper()} must be true or false, not {raw!r}")
    if setting.kind in (int, float):
        try:
            return setting.kind(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{setting.name.upper()} must be a number, not {raw!r}") from None
    if setting.kind is list:
        return tuple(p.strip() for p in raw.split(setting.separator) if p.strip())
    return raw


def from_env(env: Mapping[str, str] | None = None) -> Config:
    """Config from KUBEVIRT_GATEWAY_* variables (wsgi.py): MANIFESTS is PATH[:PATH...]."""
    env = os.environ if env is None else env
    values = {
        s.name: parse_value(s, env[ENV_PREFIX + s.name.upper()]) for s in SETTINGS if ENV_PREFIX + s.name.upper() in env
    }
    return Config(**values).validated()


def with_values(config: Config, **values: Any) -> Config:
    known = {f.name for f in fields(Config)}
    return replace(config, **{k: v for k, v in values.items() if k in known and v is not None}).validated()
