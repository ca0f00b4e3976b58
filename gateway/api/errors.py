"""Every error is a Kubernetes `Status`: ours, werkzeug's, webargs', and unexpected ones."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from gateway.api.responses import json_response
from gateway.errors import GatewayError
from gateway.store.errors import StoreError, StoreForbidden, StoreTimeout
from schemas.status import StatusSchema

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    408: "Timeout",
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
    return json_response(status_document(code, message, reason, causes), code)


def status_document(
    code: int, message: str, reason: str | None = None, causes: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """A Kubernetes `Status`: every error answer of the gateway, from Flask or from the server itself."""
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
    return doc


class GatewayApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
    """flask-smorest's Api, with Kubernetes Status as the error format."""

    ERROR_SCHEMA = StatusSchema

    def init_app(self, app: Flask, *args: Any, **kwargs: Any) -> None:
        super().init_app(app, *args, **kwargs)
        app.register_error_handler(GatewayError, handle_gateway_error)
        app.register_error_handler(StoreError, handle_store_error)
        app.register_error_handler(Exception, handle_unexpected)

    def _register_pagination_header(self) -> None:
        """Not registered: pages go by Kubernetes' continue token, not X-Pagination. The header is lazy (never
        written) but would leave its PaginationMetadata schema in the document, used nowhere."""

    def handle_http_exception(self, error: HTTPException) -> Response:
        code = error.code or 500
        data = getattr(error, "data", None) or {}
        if isinstance(error, InternalServerError):
            return status(500, "internal error; the gateway's log has the details")
        messages = data.get("messages")
        if messages:
            causes = [
                {"reason": "FieldValueInvalid", "field": field or location, "message": "; ".join(problems)}
                for location, found in messages.items()
                for field, problems in _flattened(found)
            ]
            text = "; ".join(f"{c['field']}: {c['message']}" for c in causes)
            return status(400, f"invalid request: {text}", "BadRequest", causes)
        message = _MESSAGES.get(code) or (error.description or error.name)
        response = status(code, message)
        allowed = getattr(error, "valid_methods", None)
        if code == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response


def _flattened(found: Any, path: str = "") -> list[tuple[str, list[str]]]:
    """webargs' errors for one location, nested for nested schemas, as (dotted field, messages)."""
    if isinstance(found, dict):
        return [
            pair for key, value in found.items() for pair in _flattened(value, f"{path}.{key}" if path else str(key))
        ]
    return [(path, [str(m) for m in found] if isinstance(found, list) else [str(found)])]


_MESSAGES = {
    404: "no such path; GET / lists the collections",
    405: "method not allowed: the gateway is read-only (GET, and POST for object graph options)",
    413: "the request body is larger than the gateway accepts (--max-body-bytes)",
}


def limit_url_length(app: Flask, limit: int) -> None:
    """414 for an over-long path and query, as a Status (gunicorn's own, longer limit answers in plain text)."""

    @app.before_request
    def check_url() -> Response | None:
        length = len(request.full_path.encode())
        if length > limit:
            return status(414, f"the request path and query are {length} bytes, more than {limit} (--max-url-bytes)")
        return None


def answer_options(app: Flask) -> None:
    """OPTIONS says which methods a path takes, with no body (Flask's own answer is an HTML page)."""

    @app.before_request
    def options() -> Response | None:
        if request.method != "OPTIONS" or request.routing_exception is not None or request.url_rule is None:
            return None  # an unknown path: its 404 Status
        response = Response(status=204)
        del response.headers["Content-Type"]  # no content, so no content type
        response.headers["Allow"] = ", ".join(sorted(request.url_rule.methods or ()))
        return response


def handle_store_error(error: StoreError) -> Response:
    """The one place a store's failure becomes HTTP: the cluster's answer, as a Status."""
    if isinstance(error, StoreTimeout):
        return status(504, error.message, "Timeout")
    if isinstance(error, StoreForbidden):
        return status(403, error.message, "Forbidden")
    return status(503, error.message, "ServiceUnavailable")


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
