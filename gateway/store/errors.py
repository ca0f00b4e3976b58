"""What a store raises when it cannot answer. No HTTP here: `gateway.api.errors` alone maps these to a Status.

    StoreError
    ├── StoreUnavailable   the cluster cannot be reached, is not ready, or refused the gateway's credentials
    ├── StoreTimeout       the cluster did not answer in time
    └── StoreForbidden     the gateway's own identity may not read this

The Kubernetes adapter (`store/kube.py`) raises its `ApiError`s as these, by the server's answer,
so the stores above it and the access reviews let them through untranslated.
"""

from __future__ import annotations


class StoreError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StoreUnavailable(StoreError):
    pass


class StoreTimeout(StoreError):
    pass


class StoreForbidden(StoreError):
    pass
