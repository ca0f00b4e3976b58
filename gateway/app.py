"""The app factory: the one place that builds and wires everything."""

from __future__ import annotations

from flask import Flask, request

from gateway import __version__
from gateway.access.frontproxy import FrontProxyError
from gateway.access.frontproxy import resolve as resolve_front_proxy
from gateway.access.reviews import Authorizer
from gateway.api import discovery, graphs, health, objects
from gateway.api.aggregated import Prefixed, init_aggregated
from gateway.api.auth import init_auth
from gateway.api.caching import init_caching
from gateway.api.compression import init_compression
from gateway.api.contract import SETTINGS as CONTRACT_SETTINGS
from gateway.api.contract import ContractPlugin, init_contract
from gateway.api.cors import init_cors
from gateway.api.errors import GatewayApi, answer_options, limit_url_length
from gateway.api.fastpath import FastPath
from gateway.api.live import init_live
from gateway.api.metrics import init_metrics
from gateway.api.responses import GatewayState, add_read_count
from gateway.api.staleness import init_stale_warnings
from gateway.catalog import CATALOG, Catalog, build
from gateway.changes.answers import Answers
from gateway.changes.pieces import PieceMemory
from gateway.changes.streams import Subscriptions
from gateway.config import Config, ConfigError
from gateway.documents import Documents
from gateway.documents.apigroup import resource_aliases
from gateway.documents.declared import DeclaredLinks
from gateway.follow.engine import FollowEngine
from gateway.follow.optimized import register_batches
from gateway.follow.paths import FollowLimits
from gateway.follow.registry import HandlerRegistry
from gateway.graph.appgraph import ApplicationGraphBuilder
from gateway.graph.objectgraph import ObjectGraphBuilder
from gateway.store import Lagging, Observable, PerRequest, Pinnable, Recatalogued, Store, WithStats
from gateway.store.declared import LinkConfigMaps
from gateway.store.direct import DirectStore
from gateway.store.kube import ApiConfigError, KubeApi
from gateway.store.linkfiles import read_link_files
from gateway.store.live import WatchCache
from gateway.store.snapshot import SnapshotStore
from schemas.entities import MissingSchema
from schemas.graphs import ObjectGraphFlatSchema


def connect(config: Config) -> KubeApi:
    try:
        return KubeApi.connect(config.kubeconfig, config.context, config.api_timeout)
    except ApiConfigError as e:
        raise ConfigError(str(e)) from e


def build_store(config: Config, catalog: Catalog, api: KubeApi | None = None) -> Store:
    if config.kube:
        api = api or connect(config)
        if config.cache == "none":
            return DirectStore(catalog, api, discovery_seconds=config.discovery_seconds)
        return WatchCache(
            catalog, api, idle_seconds=config.watch_idle_seconds, discovery_seconds=config.discovery_seconds
        )
    if config.manifests:
        return SnapshotStore.from_paths(catalog, config.manifests, config.default_namespace, strict=config.strict)
    return SnapshotStore.demo(catalog)


def batch_handlers(config: Config, catalog: Catalog) -> HandlerRegistry | None:
    if not config.optimize:
        return None
    handlers = HandlerRegistry()
    register_batches(handlers, catalog)
    handlers.freeze()
    return handlers


def build_documents(config: Config, catalog: Catalog = CATALOG) -> Documents:
    handlers = batch_handlers(config, catalog)
    limits = FollowLimits(
        config.max_follow_depth, config.max_follow_paths, config.max_embedded, config.max_response_bytes
    )
    return Documents(catalog, FollowEngine(catalog, handlers, limits))


def create_app(config: Config | None = None, store: Store | None = None) -> Flask:
    config = (config or Config()).validated()
    app = Flask("gateway")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # werkzeug answers `//` with an HTML 308 to the merged path: ours is a 404 Status instead
    app.url_map.merge_slashes = False
    app.config.update(
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        API_TITLE="kubevirt-gateway",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        **CONTRACT_SETTINGS,
        **dict(config.extra),
    )
    kube = connect(config) if config.kube else None
    # declared links (--links): a bad file stops the gateway here, before it serves. A live cluster's
    # may change at run time (ConfigMaps): its catalogue is its own, to take other entries then
    files = read_link_files(config.links)
    catalog = getattr(store, "catalog", CATALOG) if store is not None else CATALOG
    if store is None and (files or config.kube):
        catalog = build(files)
    store = store if store is not None else build_store(config, catalog, kube)
    documents = build_documents(config, catalog)
    objectgraph = ObjectGraphBuilder(documents.engine)
    documents.engine.providers["objectgraph"] = objectgraph.provide
    # what tracks changes: only over a store that publishes them (direct reads cannot say)
    feed = store.changes if isinstance(store, Observable) else None
    memory_bytes = config.answer_cache_mb * 1024 * 1024
    answers = Answers(memory_bytes, catalog, feed) if feed is not None and memory_bytes > 0 else None
    # pieces pay off where the cluster changes under a kept graph: not over a snapshot
    changing = feed is not None and not isinstance(store, SnapshotStore) and memory_bytes > 0
    pieces = PieceMemory(store, feed, catalog, memory_bytes) if changing and feed is not None else None
    subscriptions = None
    if feed is not None:
        pins = store if isinstance(store, Pinnable) else None
        limits = (config.max_subscribers, config.max_subscribers_per_caller)
        subscriptions = Subscriptions(*limits, catalog, feed, pins)
    declared = DeclaredLinks(catalog, files)
    documents.declared = declared
    if isinstance(store, Recatalogued):
        declared.on_change(store.catalogue_changed)  # first: what objects name, indexed from the new links
    declared.on_change(documents.catalogue_changed)
    declared.on_change(lambda: setattr(documents.engine, "handlers", batch_handlers(config, catalog)))
    for memory in (answers, pieces):
        if memory is not None:
            declared.on_change(memory.forget_all)
    if subscriptions is not None:
        declared.on_change(subscriptions.wake_all)
    app.extensions["gateway_declared"] = declared
    stoppers = [store.close] if isinstance(store, WatchCache) else []
    if kube is not None:  # and those of the labelled ConfigMaps, watched (store/declared.py)
        links_source = LinkConfigMaps(kube, config.links_namespace, declared.apply)
        app.extensions["gateway_links_source"] = links_source
        stoppers.append(links_source.close)
        # its thread in the serving process (gunicorn forks after this); /healthz never waits for its first list
        app.before_request(lambda: links_source.start(wait=request.path != "/healthz"))
    app.extensions["gateway"] = GatewayState(
        config=config,
        store=store,
        documents=documents,
        objectgraph=objectgraph,
        appgraph=ApplicationGraphBuilder(documents.engine, pieces),
        feed=feed,
        per_request=store if isinstance(store, PerRequest) else None,
        stoppers=tuple(stoppers),
    )
    api = GatewayApi(
        app,
        spec_kwargs={
            "info": {"description": "One call returns a VM and what it depends on."},
            "extra_plugins": [ContractPlugin()],
            # a bearer token where --auth kubernetes asks for one; none with --auth none
            "security": [{"bearer": []}, {}],
        },
    )
    app.extensions["gateway_api"] = api
    # shapes no view returns as a whole: a missing target inside an entity, format=flat's object graph
    api.spec.components.schema("Missing", schema=MissingSchema)
    api.spec.components.schema("ObjectGraphFlat", schema=ObjectGraphFlatSchema)
    for blueprint in (health.blp, discovery.blp, graphs.blp, objects.blp):
        api.register_blueprint(blueprint)
    init_contract(app)
    limit_url_length(app, config.max_url_bytes)
    answer_options(app)
    establish = None
    try:
        front = resolve_front_proxy(config, kube)  # TLS and --auth kubernetes: who may speak for users
    except FrontProxyError as e:
        raise ConfigError(str(e)) from e
    app.extensions["gateway_front_proxy"] = front
    if config.effective_auth == "kubernetes" and kube is not None:
        authorizer = Authorizer(kube, ttl=config.auth_cache_seconds, max_reviews=config.max_reviews_per_request)
        establish = init_auth(app, authorizer, front)
    init_cors(app, config.cors_origin, config.cors_credentials)
    # before caching: its ETag hook must run first (after_request hooks run last-registered first)
    init_compression(app, memory_bytes // 4)
    # between compression and caching: an answer is remembered without the prefix, compressed with it
    init_aggregated(app)
    # after auth: answers are the caller's own
    init_caching(app, answers)
    app.extensions["gateway_answers"] = answers
    init_live(app, subscriptions, config.heartbeat_seconds, config.auth_cache_seconds, front)
    app.extensions["gateway_live"] = subscriptions
    # after_request hooks run last-registered first: the reads header is set before metrics read it
    init_stale_warnings(app, store if isinstance(store, Lagging) else None)
    observe = init_metrics(app, store if isinstance(store, WithStats) else None)
    app.after_request(add_read_count)
    if answers is not None and app.config.get("GATEWAY_FAST_PATH", True):
        # remembered answers replayed before Flask (fastpath.py); GATEWAY_FAST_PATH=False: every request through Flask
        lagging = store if isinstance(store, Lagging) else None
        fast = FastPath(app.wsgi_app, app.request_class, answers, establish, observe, lagging, memory_bytes // 4)
        app.wsgi_app = fast  # type: ignore[method-assign]
    # outermost: every layer inside (the fast path too) sees the gateway's own path, the prefix in SCRIPT_NAME
    app.wsgi_app = Prefixed(app.wsgi_app, lambda: resource_aliases(catalog))  # type: ignore[method-assign]
    return app
