"""`python -m gateway`, the `kubevirt-gateway` command, and `kubectl-gateway`, the same command as a
kubectl plugin (`kubectl gateway get vm fedora`: kubectl runs `kubectl-gateway` from PATH)."""

import sys
from collections.abc import Sequence

COMMANDS = ("serve", "get", "graph", "openapi")


def serves_with_greenlets(argv: Sequence[str]) -> bool:
    """Whether this process will serve with the gevent worker: `serve` (the default command) without
    `--server threads`."""
    command = next((a for a in argv if a in COMMANDS), "serve")
    if command != "serve":
        return False
    for i, arg in enumerate(argv):
        if arg == "--server" and i + 1 < len(argv):
            return argv[i + 1] == "gevent"
        if arg.startswith("--server="):
            return arg.split("=", 1)[1] == "gevent"
    return True


def main(prog: str = "kubevirt-gateway") -> int:
    if serves_with_greenlets(sys.argv[1:]):
        from gevent import monkey

        # before ssl, sockets and threads are imported (the Kubernetes client imports them): the
        # worker's greenlets rely on every blocking call being gevent's
        monkey.patch_all()
    from gateway.cli import main as cli_main

    return cli_main(prog=prog)


def plugin() -> int:
    return main(prog="kubectl gateway")


if __name__ == "__main__":
    sys.exit(main())
