"""The app factory: the one place that builds and wires everything."""

from __future__ import annotations

from flask import Flask

from gateway.api import discovery, health, objects
from gateway.api.errors import GatewayApi
from gateway.api.responses import GatewayState, add_read_count
from gateway.catalog import CATALOG, Catalog
from gateway.config import Config, ConfigError
from gateway.documents import Documents
from gateway.follow.engine import FollowEngine
from gateway.follow.optimized import register_batches
from gateway.follow.paths import FollowLimits
from gateway.follow.registry import HandlerRegistry
from gateway.store import Store
from gateway.store.snapshot import SnapshotStore

VERSION = "0.1.0"


def build_store(config: Config, catalog: Catalog) -> Store:
    if config.kube:
        raise ConfigError("--kube: live clusters are not supported by this build yet; use --demo or --manifests")
    if config.manifests:
        return SnapshotStore.from_paths(catalog, config.manifests, config.default_namespace)
    return SnapshotStore.demo(catalog)


def build_documents(config: Config, catalog: Catalog = CATALOG) -> Documents:
    handlers = None
    if config.optimize:
        handlers = HandlerRegistry()
        register_batches(handlers, catalog)
        handlers.freeze()
    limits = FollowLimits(config.max_follow_depth, config.max_follow_paths, config.max_embedded)
    return Documents(catalog, FollowEngine(catalog, handlers, limits))


def create_app(config: Config | None = None, store: Store | None = None) -> Flask:
    config = (config or Config()).validated()
    app = Flask("gateway")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config.update(
        API_TITLE="kubevirt-gateway",
        API_VERSION=VERSION,
        OPENAPI_VERSION="3.0.3",
        **dict(config.extra),
    )
    app.extensions["gateway"] = GatewayState(
        config=config,
        store=store if store is not None else build_store(config, CATALOG),
        documents=build_documents(config),
    )
    api = GatewayApi(app, spec_kwargs={"info": {"description": "One call returns a VM and what it depends on."}})
    app.extensions["gateway_api"] = api
    for blueprint in (health.blp, discovery.blp, objects.blp):
        api.register_blueprint(blueprint)
    app.after_request(add_read_count)
    return app
