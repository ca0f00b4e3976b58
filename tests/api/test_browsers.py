"""What a browser UI needs of the gateway, over real HTTP: the contract served, CORS only for the
origins configured, compressed answers whose ETags and 304s agree, event streams never compressed."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
import requests
import yaml
from openapi_spec_validator import validate

from gateway.app import create_app
from gateway.cli.commands import build_parser
from gateway.config import Config, ConfigError, from_env
from tests.support.gateway import Gateway, serving

UI = "https://ui.example.com"
VM_PAGE = "/vms/fedora"
FOLLOW = {"follow": "volumes.pvc,instancetype.revision,vmi.pod"}


@pytest.fixture(scope="module")
def cors() -> Iterator[Gateway]:
    with serving(create_app(Config(demo=True, cors_origin=(UI,), extra={"TESTING": True}))) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def cors_credentials() -> Iterator[Gateway]:
    config = Config(demo=True, cors_origin=(UI,), cors_credentials=True, extra={"TESTING": True})
    with serving(create_app(config)) as gateway:
        yield gateway


def raw(gateway: Gateway, path: str, headers: dict[str, str], **params: str) -> requests.Response:
    """The bytes as sent: requests would otherwise decode the body and ask for encodings itself."""
    response = requests.get(gateway.url + path, params=params, headers=headers, stream=True, timeout=30)
    response.raw.decode_content = False
    response._content = response.raw.read()
    return response


# --- the contract ----------------------------------------------------------------------------


def test_the_served_document_is_valid_and_is_the_checked_in_one(demo: Gateway) -> None:
    served = demo.json("/openapi.json")
    validate(served)
    as_yaml = demo.get("/openapi.yaml")
    assert as_yaml.headers["Content-Type"] == "application/yaml"
    assert yaml.safe_load(as_yaml.text) == served
    graph = served["paths"]["/namespaces/{namespace}/graph"]["get"]["responses"]
    assert set(graph["200"]["content"]) == {"application/json", "text/vnd.graphviz"}
    assert {"ETag", "X-Gateway-Store-Reads", "X-Gateway-Cache", "Warning"} <= set(graph["200"]["headers"])
    assert "304" in graph
    bearer = served["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")


@pytest.mark.parametrize("prefix", ["", "/apis/kubevirt-gateway.io/v1alpha1"])
def test_the_api_page_and_its_assets_are_served_from_the_gateway(demo: Gateway, prefix: str) -> None:
    """Swagger UI at /api, and under the aggregated API path: every asset it names is the gateway's own,
    found where the browser resolves it, and the document it loads is the one served there."""
    location = f"{demo.url}{prefix}/api"
    page = requests.get(location, timeout=30)
    assert page.status_code == 200
    assert "https://" not in page.text and "http://" not in page.text  # nothing from another host
    assets = [urljoin(location, src) for src in re.findall(r'(?:src|href)="([^"]+)"', page.text)]
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    for asset in assets:
        assert asset.startswith(f"{demo.url}{prefix}/api/assets/"), asset
        assert requests.get(asset, timeout=30).status_code == 200, asset
    assert f'"{prefix}/openapi.json"' in page.text
    assert requests.get(f"{demo.url}{prefix}/openapi.json", timeout=30).json()["openapi"].startswith("3.")


# --- CORS ------------------------------------------------------------------------------------


def test_no_cross_origin_access_unless_configured(demo: Gateway) -> None:
    response = demo.session.get(demo.url + VM_PAGE, headers={"Origin": UI}, timeout=30)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_configured_origin_may_read_answers_and_their_headers(cors: Gateway) -> None:
    response = requests.get(cors.url + VM_PAGE, headers={"Origin": UI}, timeout=30)
    assert response.headers["Access-Control-Allow-Origin"] == UI
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Warning", "X-Gateway-Store-Reads", "X-Gateway-Cache"} <= exposed
    assert "Access-Control-Allow-Credentials" not in response.headers
    other = requests.get(cors.url + VM_PAGE, headers={"Origin": "https://elsewhere.example.com"}, timeout=30)
    assert "Access-Control-Allow-Origin" not in other.headers


def test_a_preflight_is_answered_for_a_configured_origin_only(cors: Gateway) -> None:
    asked = {"Origin": UI, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    preflight = requests.options(cors.url + VM_PAGE, headers=asked, timeout=30)
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == UI
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"].lower() == "authorization"
    refused = requests.options(cors.url + VM_PAGE, headers={**asked, "Origin": "https://x.example.com"}, timeout=30)
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_credentials_only_where_configured(cors_credentials: Gateway) -> None:
    response = requests.get(cors_credentials.url + VM_PAGE, headers={"Origin": UI}, timeout=30)
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cors_origin": ("ui.example.com",)}, "is not an origin"),
        ({"cors_origin": ("https://ui.example.com/app",)}, "is not an origin"),
        ({"cors_credentials": True}, "needs --cors-origin"),
        ({"cors_origin": ("*",), "cors_credentials": True}, "cannot go with"),
    ],
)
def test_cors_settings_that_cannot_work_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config(**settings).validated()  # type: ignore[arg-type]


# --- compression -----------------------------------------------------------------------------


def test_gzip_when_asked_with_its_own_etag_and_a_304_for_either(demo: Gateway) -> None:
    plain = raw(demo, VM_PAGE, {"Accept-Encoding": "identity"}, **FOLLOW)
    zipped = raw(demo, VM_PAGE, {"Accept-Encoding": "gzip"}, **FOLLOW)
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.content) == plain.content
    assert len(zipped.content) < len(plain.content) / 3
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    for validator, encoding in ((zipped.headers["ETag"], "gzip"), (plain.headers["ETag"], "identity")):
        again = raw(demo, VM_PAGE, {"Accept-Encoding": encoding, "If-None-Match": validator}, **FOLLOW)
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["ETag"] == validator


@pytest.mark.parametrize("encoding", ["br", "zstd"])
def test_brotli_and_zstd_where_the_client_asks(demo: Gateway, encoding: str) -> None:
    response = raw(demo, VM_PAGE, {"Accept-Encoding": encoding}, **FOLLOW)
    assert response.headers["Content-Encoding"] == encoding
    assert response.headers["ETag"].endswith(f':{encoding}"')


@pytest.mark.parametrize(
    ("path", "params", "mimetype"),
    [
        ("/namespaces/demo/graph", {"format": "dot"}, "text/vnd.graphviz"),
        ("/openapi.yaml", {}, "application/yaml"),
    ],
)
def test_dot_and_yaml_are_compressed_too(demo: Gateway, path: str, params: dict[str, str], mimetype: str) -> None:
    response = raw(demo, path, {"Accept-Encoding": "gzip"}, **params)
    assert response.headers["Content-Type"].startswith(mimetype)
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.content)


def test_an_event_stream_is_never_compressed(demo: Gateway) -> None:
    headers = {"Accept-Encoding": "gzip, br, zstd"}
    with requests.get(
        demo.url + VM_PAGE, params={"watch": "true"}, headers=headers, stream=True, timeout=30
    ) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert "Content-Encoding" not in response.headers
        first = next(response.iter_lines())
        assert first == b"event: document"


def test_the_metrics_content_type_names_its_charset_once(demo: Gateway) -> None:
    content_type = demo.get("/metrics").headers["Content-Type"]
    assert content_type.startswith("text/plain")
    assert content_type.count("charset=") == 1


def test_cors_origins_from_flags_and_the_environment() -> None:
    args = build_parser().parse_args(["serve", "--cors-origin", UI, "--cors-origin", "http://localhost:3000"])
    assert args.cors_origin == [UI, "http://localhost:3000"]
    config = from_env({"KUBEVIRT_GATEWAY_CORS_ORIGIN": f"{UI}, http://localhost:3000"})
    assert config.cors_origin == (UI, "http://localhost:3000")
