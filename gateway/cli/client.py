"""A Python client for a running gateway, used by the CLI's `graph` and `get` commands.

It talks HTTP with requests-cache's CachedSession: responses are stored, and revalidated
with their ETags where the gateway sends them, so repeating a call is cheap.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import requests
import requests_cache

from gateway.cli.events import events
from gateway.store.kube import ApiConfigError, api_server_access

PREFIX = "/apis/kubevirt-gateway.io/v1alpha1"
"""Where the cluster's API server serves the gateway (its APIService, deploy/overlays/aggregated)."""

DEFAULT_URL = "http://127.0.0.1:8080"
URL_VARIABLE = "KUBEVIRT_GATEWAY_URL"


class ClientError(Exception):
    """The gateway could not be reached, or answered with an error Status."""


def client_of(gateway: str | None, aggregated: bool, kubeconfig: str | None, context: str | None) -> GatewayClient:
    """The client the command line asked for: through the cluster's API server (`--aggregated`), else the
    gateway at `--gateway` URL (or $KUBEVIRT_GATEWAY_URL, or the default)."""
    if aggregated and gateway:
        raise ClientError("give --aggregated or --gateway URL, not both")
    if not aggregated:
        return GatewayClient(gateway)
    try:
        return GatewayClient.through_api_server(kubeconfig, context)
    except ApiConfigError as e:
        raise ClientError(str(e)) from e


def cached_session() -> requests.Session:
    """A session that keeps answers in the user's cache directory and revalidates them with their
    ETags every time: the gateway answers 304 and sends no body when nothing changed."""
    return requests_cache.CachedSession(
        "kubevirt-gateway",
        backend="filesystem",
        use_cache_dir=True,
        expire_after=requests_cache.EXPIRE_IMMEDIATELY,
        allowable_codes=(200,),
    )


class GatewayClient:
    def __init__(self, url: str | None = None, session: requests.Session | None = None, timeout: float = 30) -> None:
        self.url = (url or os.environ.get(URL_VARIABLE) or DEFAULT_URL).rstrip("/")
        self.session = session if session is not None else cached_session()
        self.timeout = timeout
        self.tls: dict[str, Any] = {}
        """requests' `verify` and `cert`, where the client has its own (`through_api_server`)."""

    @classmethod
    def through_api_server(cls, kubeconfig: str | None = None, context: str | None = None) -> GatewayClient:
        """The gateway as the cluster's API server serves it (`--aggregated`), with the kubeconfig's
        credentials, as kubectl would send them."""
        access = api_server_access(kubeconfig, context)
        client = cls(access.server + PREFIX)
        if access.token:
            client.session.headers["Authorization"] = f"Bearer {access.token}"
        # given on each request: $REQUESTS_CA_BUNDLE would win over a session's own
        client.tls = {"verify": access.verify, "cert": access.cert}
        return client

    def get(self, path: str, **params: Any) -> requests.Response:
        try:
            response = self.session.get(self.url + path, params=params or None, timeout=self.timeout, **self.tls)
        except requests.RequestException as e:
            raise ClientError(f"cannot reach the gateway at {self.url}: {e.__class__.__name__}") from e
        if response.status_code >= 400:
            try:
                message = response.json().get("message") or response.reason
            except ValueError:
                message = response.text[:200] or response.reason
            raise ClientError(f"{response.status_code} {message}")
        return response

    def json(self, path: str, **params: Any) -> Any:
        return self.get(path, **params).json()

    def watch(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Each document a live stream sends (an error Status raises), until the stream ends."""
        try:
            # the session's credentials and TLS settings, without its cache: a stream is never stored
            response = requests.get(self.url + path, params={**params, "watch": "true"}, stream=True,
                                    headers={**self.session.headers, "Accept": "text/event-stream"},
                                    timeout=(self.timeout, None), **self.tls)  # fmt: skip
        except requests.RequestException as e:
            raise ClientError(f"cannot reach the gateway at {self.url}: {e.__class__.__name__}") from e
        if response.status_code >= 400:
            raise ClientError(f"{response.status_code} {response.json().get('message', response.reason)}")
        with response:
            # what has arrived, whether chunked or not (iter_content waits for a whole chunk_size without chunks)
            arrived = iter(lambda: response.raw.read1(65536), b"")
            for event in events(arrived):
                document = json.loads(event.data)
                if event.type == "status":
                    raise ClientError(f"{document.get('code')} {document.get('message')}")
                yield document

    def object_graph(self, collection: str, namespace: str, name: str, **options: Any) -> dict[str, Any]:
        graph: dict[str, Any] = self.json(f"/namespaces/{namespace}/{collection}/{name}/objectgraph", **options)
        return graph
