"""The `kubevirt-gateway` command (and `python -m gateway`).

kubevirt-gateway serve [--demo | --manifests PATH ... | --kube] [--port 8080] ...
kubevirt-gateway openapi            print the OpenAPI document (YAML)
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import socket
import sys
from collections.abc import Sequence
from typing import Any

from gateway import __version__
from gateway.catalog.names import visible
from gateway.cli.client import DEFAULT_URL, URL_VARIABLE, ClientError, GatewayClient
from gateway.cli.render import render, render_tree
from gateway.config import SETTINGS, Config, ConfigError, Setting, with_values
from gateway.graph.objectgraph import to_dot
from gateway.store.manifests import ManifestError

log = logging.getLogger("gateway")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubevirt-gateway",
        description="REST gateway for KubeVirt: one call returns a VM and what it depends on.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the gateway (the demo cluster unless --manifests or --kube)",
        description="Serve the gateway. Every flag can also be set as KUBEVIRT_GATEWAY_<FLAG> for wsgi.py.",
    )
    for setting in SETTINGS:
        _add_flag(serve, setting)
    commands.add_parser("openapi", help="print the OpenAPI document (YAML) for this version")
    get = commands.add_parser(
        "get",
        help="get objects, with what they depend on, from a running gateway",
        description="Get an object or a collection from a running gateway, following links as --follow says.",
    )
    get.add_argument("kind", help="vm, vmi, pvc, dv, ... or a collection name (GET /catalog lists them)")
    get.add_argument("name", nargs="?", help="one object (default: the whole collection)")
    get.add_argument("-n", "--namespace", help="namespace (default: all, or the gateway's default for one object)")
    get.add_argument("-f", "--follow", help="links to embed, e.g. volumes.pvc,vmi.pod")
    get.add_argument("-l", "--selector", help="label selector for a collection")
    get.add_argument("-o", "--output", choices=["json", "yaml", "tree"], default="yaml")
    get.add_argument("-w", "--watch", action="store_true", help="print the document again each time it changes")
    get.add_argument("--gateway", help=f"gateway URL (default ${URL_VARIABLE} or {DEFAULT_URL})")
    graph = commands.add_parser(
        "graph",
        help="draw the object graph of a VM or VMI from a running gateway",
        description="Draw KubeVirt's object graph of a VM or VMI, as served by a running gateway.",
    )
    graph.add_argument("kind", choices=["vm", "vmi"], help="a VirtualMachine or a VirtualMachineInstance")
    graph.add_argument("name")
    graph.add_argument("-n", "--namespace", default="default")
    graph.add_argument("-o", "--output", choices=["tree", "json", "dot"], default="tree")
    graph.add_argument("--gateway", help=f"gateway URL (default ${URL_VARIABLE} or {DEFAULT_URL})")
    graph.add_argument("--no-optional", action="store_true", help="leave out optional nodes")
    graph.add_argument(
        "-l", "--selector", help="only nodes whose labels match, e.g. kubevirt.io/dependency-type=storage"
    )
    return parser


def _add_flag(parser: argparse.ArgumentParser, setting: Setting) -> None:
    flag = "--" + setting.name.replace("_", "-")
    if setting.kind is bool:
        default = getattr(Config(), setting.name)
        parser.add_argument(
            flag,
            action=argparse.BooleanOptionalAction if default else "store_true",
            default=None,
            help=setting.help,
        )
    elif setting.kind is list:
        parser.add_argument(flag, action="append", metavar="PATH", help=setting.help)
    else:
        parser.add_argument(flag, type=setting.kind, default=None, help=setting.help)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "openapi":
        return print_openapi()
    if args.command == "graph":
        return print_graph(args)
    if args.command == "get":
        return print_get(args)
    if args.command is None:
        args = build_parser().parse_args(["serve", *(argv if argv is not None else sys.argv[1:])])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    values: dict[str, Any] = {s.name: getattr(args, s.name) for s in SETTINGS}
    if values["manifests"]:
        values["manifests"] = tuple(values["manifests"])
    try:
        config = with_values(Config(), **values)
        from gateway.app import create_app

        app = create_app(config)
    except (ConfigError, ManifestError) as e:
        print(f"kubevirt-gateway: error: {visible(str(e))}", file=sys.stderr)
        return 2
    # a live store is not asked here: this is gunicorn's master, whose threads the worker would not inherit
    if in_use(config.host, config.port):  # gunicorn would retry for five seconds, then print a traceback
        print(f"kubevirt-gateway: error: {config.host}:{config.port}: address already in use", file=sys.stderr)
        return 1
    reason = app.extensions["gateway"].store.readiness()[1] if not config.kube else "a live cluster, via kubeconfig"
    log.info("serving %s on http://%s:%d (%s)", config.source, config.host, config.port, reason)
    from gateway.server import serve

    serve(app, config)
    return 0


def in_use(host: str, port: int) -> bool:
    """Whether another process listens on host:port already."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, port))
        except OSError as e:
            return e.errno == errno.EADDRINUSE
    return False


def print_get(args: argparse.Namespace) -> int:
    client = GatewayClient(args.gateway)
    params = {k: v for k, v in (("follow", args.follow), ("labelSelector", args.selector)) if v}
    try:
        path = client.path(args.kind, args.name, args.namespace)
        documents = client.watch(path, **params) if args.watch else iter([client.json(path, **params)])
        for number, document in enumerate(documents):
            if args.output == "yaml" and number:
                sys.stdout.write("---\n")
            sys.stdout.write(render(document, args.output))
            sys.stdout.flush()
    except ClientError as e:
        print(f"kubevirt-gateway: error: {visible(str(e))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def print_graph(args: argparse.Namespace) -> int:
    client = GatewayClient(args.gateway)
    options: dict[str, str] = {}
    if args.no_optional:
        options["includeOptionalNodes"] = "false"
    if args.selector:
        options["labelSelector"] = args.selector
    try:
        graph = client.object_graph(f"{args.kind}s", args.namespace, args.name, **options)
    except ClientError as e:
        print(f"kubevirt-gateway: error: {visible(str(e))}", file=sys.stderr)
        return 1
    if args.output == "json":
        sys.stdout.write(json.dumps(graph, indent=2) + "\n")
    elif args.output == "dot":
        sys.stdout.write(to_dot(graph))
    else:
        sys.stdout.write(render_tree(graph))
    return 0


def print_openapi() -> int:
    from gateway.app import create_app

    app = create_app(Config(extra={"TESTING": True}))
    sys.stdout.write(openapi_yaml(app))
    return 0


def openapi_yaml(app: Any) -> str:
    import yaml

    spec = app.extensions["gateway_api"].spec.to_dict()
    return str(yaml.safe_dump(spec, sort_keys=True, allow_unicode=True))
