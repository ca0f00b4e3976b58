"""The command line: `serve`, `get`, `graph`, `openapi`, and the HTTP client and renderers behind `get` and `graph`."""

from gateway.cli.commands import main

__all__ = ["main"]
