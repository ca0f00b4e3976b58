"""Front-proxy authentication, as every aggregated API server does it (DESIGN section 13).

The cluster's API server proxies a request to the gateway over TLS with its proxy client
certificate and names the user it authenticated in `X-Remote-User`, `X-Remote-Group` and
`X-Remote-Extra-*`. Those headers name the caller only when the connection's client
certificate chained to the request-header CA (the TLS layer verified it) and its common name
is an allowed name (none listed: any name that CA signed, as Kubernetes does). Anywhere else
they are ignored, and the caller is whoever the bearer token says.

The rules, the defaults and the unescaping of extra keys follow k8s.io/apiserver's
`headerrequest` authenticator. No Flask here: the HTTP layer hands in the verified common name
and the headers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

from gateway.access.reviews import User
from gateway.config import Config
from gateway.store.kube import ApiError

log = logging.getLogger(__name__)

CONFIGMAP = "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
READER_HINT = (
    "bind the gateway's service account to the Role extension-apiserver-authentication-reader in kube-system "
    "(deploy/overlays/aggregated does)"
)


class FrontProxyError(Exception):
    """The front-proxy settings cannot be had (the ConfigMap unreadable, a list malformed)."""


@dataclass(frozen=True)
class FrontProxy:
    """Who may speak for users (the CA and allowed names), and in which headers."""

    client_ca: str
    """PEM: the request-header CA, the only one a client certificate is verified against."""
    allowed_names: tuple[str, ...] = ()
    username_headers: tuple[str, ...] = ("X-Remote-User",)
    uid_headers: tuple[str, ...] = ()
    """None by default, as Kubernetes: an older API server would pass a client's X-Remote-Uid on."""
    group_headers: tuple[str, ...] = ("X-Remote-Group",)
    extra_prefixes: tuple[str, ...] = ("X-Remote-Extra-",)

    def allows(self, common_name: str | None) -> bool:
        """Whether a verified client certificate with this common name may name users."""
        if not common_name:
            return False
        return not self.allowed_names or common_name in self.allowed_names

    def user(self, common_name: str | None, headers: Iterable[tuple[str, str]]) -> User | None:
        """The user the front proxy names, or None: no verified certificate from an allowed name, or no
        user named. `common_name`: the CN of the client certificate the TLS layer verified against
        `client_ca` (None without one)."""
        if not self.allows(common_name):
            return None
        pairs = list(headers)
        name = _first(pairs, self.username_headers)
        if not name:
            return None
        groups = tuple(g for h in self.group_headers for k, v in pairs if k.lower() == h.lower() for g in _values(v))
        extra: dict[str, list[str]] = {}
        for prefix in self.extra_prefixes:
            for key, value in pairs:
                if key.lower().startswith(prefix.lower()):
                    extra.setdefault(_unescape(key[len(prefix) :].lower()), []).extend(_values(value))
        return User(
            name,
            _first(pairs, self.uid_headers),
            groups,
            tuple(sorted((k, tuple(v)) for k, v in extra.items())),
        )


def _values(value: str) -> list[str]:
    """A list header's values: one sent several times reaches a WSGI app joined by commas."""
    return [v.strip() for v in value.split(",") if v.strip()]


def _unescape(key: str) -> str:
    """An extra key as the proxy %-escaped it, decoded; a malformed one is kept as it came, as Kubernetes does."""
    try:
        return unquote(key, errors="strict")
    except UnicodeDecodeError:
        return key


def _first(pairs: list[tuple[str, str]], names: tuple[str, ...]) -> str:
    for wanted in names:
        for key, value in pairs:
            if key.lower() == wanted.lower() and value:
                return value
    return ""


class Reader(Protocol):
    def get_json(self, path: str, query: dict[str, Any] | None = None) -> dict[str, Any]: ...


def from_configmap(data: Mapping[str, str]) -> FrontProxy | None:
    """The settings kube-apiserver publishes in kube-system/extension-apiserver-authentication; None
    when it publishes no request-header CA (a cluster without the aggregation layer configured)."""
    ca = data.get("requestheader-client-ca-file", "")
    if not ca.strip():
        return None
    defaults = FrontProxy(ca)
    return FrontProxy(
        ca,
        _names(data, "requestheader-allowed-names", ()),
        _names(data, "requestheader-username-headers", defaults.username_headers),
        _names(data, "requestheader-uid-headers", defaults.uid_headers),
        _names(data, "requestheader-group-headers", defaults.group_headers),
        _names(data, "requestheader-extra-headers-prefix", defaults.extra_prefixes),
    )


def _names(data: Mapping[str, str], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = data.get(key)
    if raw is None or not raw.strip():
        return default
    try:
        names = json.loads(raw)
    except ValueError:
        names = None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FrontProxyError(f"{key} in kube-system/extension-apiserver-authentication is not a JSON list: {raw!r}")
    if key == "requestheader-allowed-names":
        return tuple(names)  # an empty list is meaningful: any name the CA signed
    return tuple(names) or default


def read_configmap(api: Reader) -> FrontProxy | None:
    """The cluster's front-proxy settings; a clear error when the gateway may not read them."""
    try:
        configmap = api.get_json(CONFIGMAP)
    except ApiError as e:
        if e.status == 403:
            raise FrontProxyError(f"cannot read kube-system/extension-apiserver-authentication: {READER_HINT}") from e
        raise FrontProxyError(f"cannot read kube-system/extension-apiserver-authentication: {e}") from e
    data = configmap.get("data") or {}
    front = from_configmap(data)
    if front is None:
        log.warning(
            "kube-system/extension-apiserver-authentication has no requestheader-client-ca-file: the cluster "
            "proxies no requests with a client certificate, so X-Remote-* headers are ignored on every connection"
        )
    return front


def resolve(config: Config, api: Reader | None) -> FrontProxy | None:
    """The front proxy this gateway trusts: none without TLS (no client certificate to know it by) or
    without `--auth kubernetes`; else the --requestheader-* flags, or the cluster's ConfigMap."""
    if not config.tls_cert_file or config.effective_auth != "kubernetes":
        return None
    if config.requestheader_client_ca_file:
        try:
            with open(config.requestheader_client_ca_file, encoding="ascii") as f:
                ca = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise FrontProxyError(f"--requestheader-client-ca-file {config.requestheader_client_ca_file}: {e}") from e
        if "-----BEGIN CERTIFICATE-----" not in ca:
            raise FrontProxyError(
                f"--requestheader-client-ca-file {config.requestheader_client_ca_file}: no PEM certificate in it"
            )
        defaults = FrontProxy(ca)
        return FrontProxy(
            ca,
            config.requestheader_allowed_names,
            config.requestheader_username_headers or defaults.username_headers,
            config.requestheader_uid_headers or defaults.uid_headers,
            config.requestheader_group_headers or defaults.group_headers,
            config.requestheader_extra_headers_prefix or defaults.extra_prefixes,
        )
    return read_configmap(api) if api is not None else None
