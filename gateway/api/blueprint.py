"""flask-smorest's Blueprint: malformed or unknown query arguments are a 400, not a 422 or ignored;
a JSON body nested too deeply is a 400 too."""

from __future__ import annotations

from typing import Any

import flask
import orjson
from flask_smorest import Blueprint as SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400
    # None: the schema decides, and ours reject unknown parameters (a misspelt `folow`)
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {  # noqa: RUF012  (webargs declares it so)
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }

    def _raw_load_json(self, req: flask.Request) -> Any:
        # orjson refuses nesting past 1,024 levels with a decode error (a 400); the standard
        # library's parser recurses until Python's stack runs out (a RecursionError, a 500)
        if not is_json_request(req):
            return core.missing
        return orjson.loads(req.get_data(cache=True))


class Blueprint(SmorestBlueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = _Parser()
