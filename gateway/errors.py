"""The gateway's errors. Each becomes a Kubernetes `Status` at the HTTP boundary.

    GatewayError                 code, reason, message, optional field
    ├── BadRequest          400  malformed parameters, unknown rels, limits exceeded
    │   ├── FollowError          a follow parameter that does not parse or names no rel (follow/paths.py)
    │   │   └── TooLarge         an answer past --max-embedded or --max-response-bytes
    │   └── TooManyReviews       past --max-reviews-per-request (access/policy.py)
    ├── Unauthorized        401
    ├── Forbidden           403
    ├── NotFound            404  unknown collection or object
    └── TooManySubscribers  429  past --max-subscribers(-per-caller) (changes/streams.py)

Pure: raised by the core, translated once by `gateway.api.errors`. A store that cannot answer raises
`gateway.store.errors.StoreError` instead (no HTTP codes there), mapped in the same place.
"""

from __future__ import annotations


class GatewayError(Exception):
    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, field: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if reason is not None:
            self.reason = reason


class BadRequest(GatewayError):
    code, reason = 400, "BadRequest"


class Unauthorized(GatewayError):
    code, reason = 401, "Unauthorized"


class Forbidden(GatewayError):
    code, reason = 403, "Forbidden"


class NotFound(GatewayError):
    code, reason = 404, "NotFound"
