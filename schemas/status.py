"""Kubernetes `Status`: the shape of every error the gateway returns."""

from __future__ import annotations

from marshmallow import Schema, fields


class StatusCauseSchema(Schema):
    reason = fields.String()
    message = fields.String()
    field = fields.String()


class StatusDetailsSchema(Schema):
    causes = fields.List(fields.Nested(StatusCauseSchema))


class StatusSchema(Schema):
    kind = fields.String(required=True, metadata={"enum": ["Status"]})
    apiVersion = fields.String(required=True)
    metadata = fields.Dict(required=True)
    status = fields.String(required=True, metadata={"enum": ["Failure"]})
    message = fields.String(required=True)
    reason = fields.String(required=True)
    code = fields.Integer(required=True)
    details = fields.Nested(StatusDetailsSchema)
