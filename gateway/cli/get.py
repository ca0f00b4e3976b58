"""`get`: objects from a running gateway, with kubectl's habits.

    get vm fedora -n demo -f vmi.pod          flags anywhere, as kubectl takes them
    get vm,vmi -A                             several kinds; every namespace
    get vm/fedora dv/fedora-root -o name      KIND/NAME, several objects
    get vms -o jsonpath='{.items[*].metadata.name}'

Namespace: `-n`, else the kubeconfig's current context's (as kubectl finds the kubeconfig), else
`default`; `-A` for all of them. Output: a table by default (the kind's printer columns), `wide`,
`name`, `yaml`, `json`, `jsonpath=TEMPLATE`, or `tree` (what `--follow` embedded).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.catalog import Kind, href_for
from gateway.catalog.names import visible
from gateway.cli.client import DEFAULT_URL, URL_VARIABLE, ClientError, GatewayClient, client_of
from gateway.cli.jsonpath import TemplateError, render_template
from gateway.cli.kubeconfig import KubeconfigError, context_namespace
from gateway.cli.render import render
from gateway.cli.table import table
from gateway.cli.targets import Target, TargetError, qualified, served_catalog, targets

OUTPUTS = ("yaml", "json", "name", "wide", "tree", "jsonpath=TEMPLATE")


class UsageError(Exception):
    """Flags or words that do not go together; exit 2, as argparse's own errors."""


def output_format(value: str) -> str:
    if value in OUTPUTS[:-1] or value.startswith("jsonpath=") or value == "table":  # table: the default
        return value
    raise argparse.ArgumentTypeError(f"invalid output {value!r}: choose from {', '.join(OUTPUTS)}")


def add_namespace_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-n", "--namespace",
        help="the namespace (default: the kubeconfig's current context's namespace, else `default`)",
    )  # fmt: skip
    parser.add_argument("--kubeconfig", help="the kubeconfig whose current context names the default namespace "
                        "(default: $KUBECONFIG, else ~/.kube/config, as kubectl finds it)")  # fmt: skip
    parser.add_argument("--context", help="the kubeconfig context whose namespace is the default")
    parser.add_argument(
        "--gateway", metavar="URL", help=f"the gateway's URL (default: ${URL_VARIABLE}, else {DEFAULT_URL})"
    )
    parser.add_argument(
        "--aggregated", action="store_true",
        help="reach the gateway through the cluster's API server (its APIService kubevirt-gateway.io), with the "
        "kubeconfig's credentials, as kubectl does",
    )  # fmt: skip


def get_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{prog} get",
        description="Get objects, and what they depend on, from a running gateway, as kubectl gets them.",
        epilog=(
            "examples:\n"
            f"  {prog} get vm fedora -n demo -f vmi.pod\n"
            f"  {prog} get vm,vmi -A\n"
            f"  {prog} get vm/fedora dv/fedora-root -n demo -o name\n"
            f"  {prog} get vms -n demo -o jsonpath='{{.items[*].metadata.name}}'"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "resources", nargs="+", metavar="RESOURCE",
        help="KIND[,KIND...] [NAME ...], or KIND/NAME ...: a kind is vm, vmi, pvc, dv, ... or a collection name "
        "(GET /catalog lists them); no name lists the collection",
    )  # fmt: skip
    add_namespace_flags(parser)
    parser.add_argument("-A", "--all-namespaces", action="store_true", help="list across every namespace")
    parser.add_argument("-f", "--follow", help="links to embed, e.g. volumes.pvc,vmi.pod (docs/api.md)")
    parser.add_argument("-l", "--selector", help="label selector for collections, e.g. app=web,tier!=db")
    parser.add_argument(
        "-o", "--output", type=output_format, default="table", metavar="FORMAT",
        help=f"{'|'.join(OUTPUTS)} (default: a table of the kind's columns)",
    )  # fmt: skip
    parser.add_argument("-w", "--watch", action="store_true", help="print again each time what was asked for changes")
    return parser


@dataclass
class Fetched:
    """What one request answered: one object, or a collection's items."""

    kind: Kind
    document: dict[str, Any]
    collection: bool

    @property
    def objects(self) -> list[dict[str, Any]]:
        return list(self.document.get("items") or []) if self.collection else [self.document]


def _targets(words: list[str], client: GatewayClient) -> list[Target]:
    """The kinds the words name: built-in ones known here; any other is looked up in the gateway's
    /catalog, which lists the kinds declared there (`--links`, ConfigMaps) too."""
    try:
        return targets(words)
    except TargetError as unknown:
        try:
            served = served_catalog(client.json("/catalog"))
        except (ClientError, KeyError, TypeError, ValueError):
            raise unknown from None  # the gateway cannot say: the error about the words stands
        return targets(words, served)


def run_get(args: argparse.Namespace, client: GatewayClient | None = None) -> int:
    try:
        client = client or client_of(args.gateway, args.aggregated, args.kubeconfig, args.context)
    except ClientError as e:
        return _fail(e, 2 if args.aggregated and args.gateway else 1)
    try:
        wanted = _targets(args.resources, client)
        namespace = _namespace(args, wanted)
        requests = list(_requests(wanted, namespace, args))
        if args.watch:
            return _watch(client, requests, args, namespace)
    except (TargetError, KubeconfigError) as e:
        return _fail(e, 1)
    except UsageError as e:
        return _fail(e, 2)
    fetched, failures = [], 0
    for request in requests:
        try:
            fetched.append(Fetched(request.kind, client.json(request.path, **request.params), request.collection))
        except ClientError as e:
            failures += 1
            _fail(e, 1)  # as kubectl, the others are still printed
        except KeyboardInterrupt:
            return 130
    try:
        _print(fetched, args, namespace, several=len(requests) > 1)
    except TemplateError as e:
        return _fail(f"error executing jsonpath: {e}", 1)
    if not any(f.objects for f in fetched) and not failures and _is_table(args.output):
        where = "" if namespace is None or not all(f.kind.namespaced for f in fetched) else f" in {namespace} namespace"
        print(f"No resources found{where}.", file=sys.stderr)
    return 1 if failures else 0


def _fail(error: object, code: int) -> int:
    print(f"kubevirt-gateway: error: {visible(str(error))}", file=sys.stderr)
    return code


def _namespace(args: argparse.Namespace, wanted: list[Target]) -> str | None:
    """None: every namespace."""
    if args.all_namespaces:
        if any(t.names for t in wanted):
            raise UsageError("a resource cannot be retrieved by name across all namespaces")
        return None
    return str(args.namespace) if args.namespace else context_namespace(args.kubeconfig, args.context)


@dataclass(frozen=True)
class Request:
    kind: Kind
    path: str
    collection: bool
    params: dict[str, str]


def _requests(wanted: list[Target], namespace: str | None, args: argparse.Namespace) -> Iterator[Request]:
    if args.selector and any(t.names for t in wanted):
        raise UsageError("name cannot be provided when a selector is specified")
    for target in wanted:
        # `-n` means nothing for a cluster-scoped kind; None lists every namespace (GET /vms)
        where = namespace if target.kind.namespaced else None
        params = _params(args, target.kind)
        if not target.names:
            base = href_for(target.kind, where) if where else f"/{target.kind.collection}"
            yield Request(target.kind, base, True, params)
        for name in target.names:
            yield Request(target.kind, href_for(target.kind, where, name), False, params)


def _params(args: argparse.Namespace, kind: Kind) -> dict[str, str]:
    follow = [args.follow] if args.follow else []
    if args.output == "wide" and kind.name == "VirtualMachine":
        follow.append("vmi")  # a VM's NODE and IP are its VMI's
    params = {"follow": ",".join(follow)} if follow else {}
    if args.selector:
        params["labelSelector"] = args.selector
    return params


def _is_table(output: str) -> bool:
    return output in ("table", "wide")


def _print(fetched: list[Fetched], args: argparse.Namespace, namespace: str | None, several: bool) -> None:
    output, now = args.output, datetime.now(UTC)
    if _is_table(output):
        kinds = list(dict.fromkeys(f.kind.name for f in fetched))
        blocks = []
        for name in kinds:
            mine = [f for f in fetched if f.kind.name == name]
            objects = [obj for f in mine for obj in f.objects]
            if objects:
                blocks.append(table(mine[0].kind, objects, now, wide=output == "wide",
                                    namespaces=namespace is None and mine[0].kind.namespaced,
                                    qualify=len(kinds) > 1))  # fmt: skip
        sys.stdout.write("\n".join(blocks))
    elif output == "name":
        for f in fetched:
            for obj in f.objects:
                sys.stdout.write(visible(f"{qualified(f.kind)}/{(obj.get('metadata') or {}).get('name', '')}") + "\n")
    else:
        document = _document(fetched, several)
        if document is not None:
            sys.stdout.write(_rendered(document, output))
    sys.stdout.flush()


def _document(fetched: list[Fetched], several: bool) -> dict[str, Any] | None:
    """One object or one collection as the gateway sent it; several as kubectl's `List`."""
    if not several:
        return fetched[0].document if fetched else None
    return {"apiVersion": "v1", "kind": "List", "items": [o for f in fetched for o in f.objects],
            "metadata": {"resourceVersion": ""}}  # fmt: skip


def _rendered(document: dict[str, Any], output: str) -> str:
    if output.startswith("jsonpath"):
        # kubectl writes what the template makes, and no newline of its own
        return render_template(output[len("jsonpath=") :], document, escape=visible)
    return render(document, output)


def _watch(client: GatewayClient, requests: list[Request], args: argparse.Namespace, namespace: str | None) -> int:
    if len(requests) != 1:
        raise UsageError("--watch follows one object or one collection: give one kind and at most one name")
    kind, request = requests[0].kind, requests[0]
    try:
        for number, document in enumerate(client.watch(request.path, **request.params)):
            fetched = Fetched(kind, document, request.collection)
            if _is_table(args.output):
                # the header once, then the rows of each new version, as `kubectl get -w`
                across = namespace is None and kind.namespaced
                wide = args.output == "wide"
                now = datetime.now(UTC)
                sys.stdout.write(table(kind, fetched.objects, now, wide=wide, namespaces=across, headers=number == 0))
                sys.stdout.flush()
                continue
            if args.output == "yaml" and number:
                sys.stdout.write("---\n")
            _print([fetched], args, namespace, several=False)
    except ClientError as e:
        return _fail(e, 1)
    except TemplateError as e:
        return _fail(f"error executing jsonpath: {e}", 1)
    except KeyboardInterrupt:
        return 130
    return 0
