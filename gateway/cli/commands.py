"""The `kubevirt-gateway` command (and `python -m gateway`).

kubevirt-gateway serve [--demo | --manifests PATH ... | --kube] [--port 8080] ...
kubevirt-gateway openapi            print the OpenAPI document (YAML)
kubevirt-gateway get KIND [NAME...] [-n NS | -A] [-o FORMAT] ...   (gateway/cli/get.py)
kubevirt-gateway graph vm|vmi NAME [-n NS] [-o tree|json|dot]
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
from gateway.catalog import DeclarationError
from gateway.catalog.names import visible
from gateway.cli.client import ClientError, client_of
from gateway.cli.get import add_namespace_flags, get_parser, run_get
from gateway.cli.kubeconfig import KubeconfigError, context_namespace
from gateway.cli.render import render_tree
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
    # listed here for --help; `main` parses them with their own parsers, which take flags anywhere
    commands.add_parser("get", help="get objects, with what they depend on, from a running gateway", add_help=False)
    commands.add_parser("graph", help="draw the object graph of a VM or VMI from a running gateway", add_help=False)
    return parser


def graph_parser(prog: str) -> argparse.ArgumentParser:
    graph = argparse.ArgumentParser(
        prog=f"{prog} graph",
        description="Draw KubeVirt's object graph of a VM or VMI, as served by a running gateway.",
    )
    graph.add_argument("kind", choices=["vm", "vmi"], help="a VirtualMachine or a VirtualMachineInstance")
    graph.add_argument("name", help="the VM's or VMI's name")
    add_namespace_flags(graph)
    graph.add_argument("-o", "--output", choices=["tree", "json", "dot"], default="tree",
                       help="tree (as `kubectl tree` draws), json (as served) or dot (Graphviz)")  # fmt: skip
    graph.add_argument("--no-optional", action="store_true", help="leave out optional nodes")
    graph.add_argument(
        "-l", "--selector", help="only nodes whose labels match, e.g. kubevirt.io/dependency-type=storage"
    )
    return graph


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
        parser.add_argument(flag, action="append", metavar=setting.metavar, help=setting.help)
    else:
        parser.add_argument(flag, type=setting.kind, default=None, help=setting.help)


def main(argv: Sequence[str] | None = None, prog: str = "kubevirt-gateway") -> int:
    words = list(argv if argv is not None else sys.argv[1:])
    # kubectl's habit: flags before, between and after the words (`get vm -n demo fedora`)
    if words[:1] == ["get"]:
        return run_get(get_parser(prog).parse_intermixed_args(words[1:]))
    if words[:1] == ["graph"]:
        return print_graph(graph_parser(prog).parse_intermixed_args(words[1:]))
    parser = build_parser()
    parser.prog = prog
    args = parser.parse_args(words)
    if args.command == "openapi":
        return print_openapi()
    if args.command is None:
        args = parser.parse_args(["serve", *words])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    values: dict[str, Any] = {s.name: getattr(args, s.name) for s in SETTINGS}
    for setting in SETTINGS:
        if setting.kind is list and values[setting.name]:
            values[setting.name] = tuple(values[setting.name])
    try:
        config = with_values(Config(), **values)
        from gateway.app import create_app

        app = create_app(config)
    except (ConfigError, ManifestError, DeclarationError) as e:
        print(f"kubevirt-gateway: error: {visible(str(e))}", file=sys.stderr)
        return 2
    # a live store is not asked here: this is gunicorn's master, whose threads the worker would not inherit
    if in_use(config.host, config.port):  # gunicorn would retry for five seconds, then print a traceback
        print(f"kubevirt-gateway: error: {config.host}:{config.port}: address already in use", file=sys.stderr)
        return 1
    reason = app.extensions["gateway"].store.readiness()[1] if not config.kube else "a live cluster, via kubeconfig"
    scheme = "https" if config.tls_cert_file else "http"
    log.info("serving %s on %s://%s:%d (%s)", config.source, scheme, config.host, config.port, reason)
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


def print_graph(args: argparse.Namespace) -> int:
    try:
        client = client_of(args.gateway, args.aggregated, args.kubeconfig, args.context)
    except ClientError as e:
        print(f"kubevirt-gateway: error: {visible(str(e))}", file=sys.stderr)
        return 2 if args.aggregated and args.gateway else 1
    options: dict[str, str] = {}
    if args.no_optional:
        options["includeOptionalNodes"] = "false"
    if args.selector:
        options["labelSelector"] = args.selector
    try:
        namespace = args.namespace or context_namespace(args.kubeconfig, args.context)
        graph = client.object_graph(f"{args.kind}s", namespace, args.name, **options)
    except (ClientError, KubeconfigError) as e:
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
    from gateway.api.contract import spec_yaml

    return spec_yaml(app)
