"""Every error is a Kubernetes `Status`: ours, werkzeug's, webargs', and unexpected ones."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from gateway.api.responses import json_response
from gateway.errors import GatewayError
from schemas.status import StatusSchema

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    413: "RequestEntityTooLarge",
    414: "RequestURITooLong",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def status(code: int, message: str, reason: str | None = None, causes: list[dict[str, str]] | None = None) -> Response:
    doc: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or _REASONS.get(code, "Unknown"),
        "code": code,
    }
    if causes:
        doc["details"] = {"causes": causes}
    return json_response(doc, code)


class GatewayApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
    """flask-smorest's Api, with Kubernetes Status as the error format."""

    ERROR_SCHEMA = StatusSchema

    def init_app(self, app: Flask, *args: Any, **kwargs: Any) -> None:
        super().init_app(app, *args, **kwargs)
        app.register_error_handler(GatewayError, handle_gateway_error)
        app.register_error_handler(Exception, handle_unexpected)

    def handle_http_exception(self, error: HTTPException) -> Response:
        code = error.code or 500
        data = getattr(error, "data", None) or {}
        if isinstance(error, InternalServerError):
            return status(500, "internal error; the gateway's log has the details")
        messages = data.get("messages")
        if messages:
            causes = [
                {
                    "reason": "FieldValueInvalid",
                    "field": name,
                    "message": "; ".join(map(str, problems)),
                }
                for location in messages.values()
                for name, problems in location.items()
            ]
            text = "; ".join(f"{c['field']}: {c['message']}" for c in causes)
            return status(400, f"invalid request: {text}", "BadRequest", causes)
        message = _MESSAGES.get(code) or (error.description or error.name)
        response = status(code, message)
        allowed = getattr(error, "valid_methods", None)
        if code == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response


_MESSAGES = {
    404: "no such path; GET / lists the collections",
    405: "method not allowed: the gateway is read-only (GET)",
}


def handle_gateway_error(error: GatewayError) -> Response:
    causes = [{"reason": error.reason, "field": error.field, "message": error.message}] if error.field else None
    response = status(error.code, error.message, error.reason, causes)
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="kubevirt-gateway"'
    return response


def handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return current_app.extensions["gateway_api"].handle_http_exception(error)  # type: ignore[no-any-return]
    current_app.logger.exception("unexpected error serving a request")
    return status(500, "internal error; the gateway's log has the details")
