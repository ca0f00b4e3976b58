"""flask-smorest's Blueprint: malformed or unknown query arguments are a 400, not a 422 or ignored;
a JSON body nested too deeply is a 400 too."""

from __future__ import annotations

import re
from typing import Any

import flask
import orjson
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import MultiDict

SPARSE_FIELDS = re.compile(r"fields\[([^\]]*)\]")
"""`fields[<collection>]`: a name no schema can declare, read by `sparse_fields` where a schema takes it."""


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400
    # None: the schema decides, and ours reject unknown parameters (a misspelt `folow`)
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {  # noqa: RUF012  (webargs declares it so)
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }

    def load_querystring(self, req: flask.Request, schema: Schema) -> Any:
        if not getattr(schema, "TAKES_SPARSE_FIELDS", False):
            return super().load_querystring(req, schema)
        args = MultiDict([(k, v) for k, v in req.args.items(multi=True) if not SPARSE_FIELDS.fullmatch(k)])
        return self._makeproxy(args, schema)

    def _raw_load_json(self, req: flask.Request) -> Any:
        # orjson refuses nesting past 1,024 levels with a decode error (a 400); the standard
        # library's parser recurses until Python's stack runs out (a RecursionError, a 500)
        if not is_json_request(req):
            return core.missing
        return orjson.loads(req.get_data(cache=True))


def sparse_fields() -> dict[str, str]:
    """Each `fields[<collection>]` of the request, its values joined with commas as repeated `fields` are."""
    found: dict[str, list[str]] = {}
    for key, value in flask.request.args.items(multi=True):
        match = SPARSE_FIELDS.fullmatch(key)
        if match is not None:
            found.setdefault(match.group(1), []).append(value)
    return {collection: ",".join(values) for collection, values in found.items()}


class Blueprint(SmorestBlueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = _Parser()
