"""The object graph (KubeVirt's ObjectGraphNode, ObjectGraphOptions) and the application graph."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from schemas.query import WatchArgs


class TypedObjectReferenceSchema(Schema):
    apiGroup = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    namespace = fields.String(required=True, metadata={"description": "empty for cluster-scoped kinds"})


class ObjectGraphNodeSchema(Schema):
    objectReference = fields.Nested(TypedObjectReferenceSchema, required=True)
    labels = fields.Dict(keys=fields.String(), values=fields.String())
    optional = fields.Boolean()
    children = fields.List(fields.Nested(lambda: ObjectGraphNodeSchema()))


class ObjectGraphFlatSchema(Schema):
    items = fields.List(fields.Nested(ObjectGraphNodeSchema), required=True)


class ObjectGraphArgs(WatchArgs):
    includeOptionalNodes = fields.Boolean(
        load_default=None, metadata={"description": "false drops optional nodes and their subtrees"}
    )
    labelSelector = fields.String(
        load_default=None, metadata={"description": "keep only nodes whose labels match (kubectl syntax)"}
    )
    format = fields.String(load_default="tree", validate=validate.OneOf(["tree", "flat", "dot"]))


class MatchExpressionSchema(Schema):
    class Meta:
        unknown = RAISE

    key = fields.String(required=True)
    operator = fields.String(required=True, validate=validate.OneOf(["In", "NotIn", "Exists", "DoesNotExist"]))
    values = fields.List(fields.String())


class LabelSelectorSchema(Schema):
    """metav1.LabelSelector; its content is checked as Kubernetes checks it (400 when invalid)."""

    class Meta:
        unknown = RAISE

    matchLabels = fields.Dict(keys=fields.String(), values=fields.String())
    matchExpressions = fields.List(fields.Nested(MatchExpressionSchema))


class ObjectGraphOptionsSchema(Schema):
    """KubeVirt's ObjectGraphOptions, as virtctl sends it in the request body."""

    class Meta:
        unknown = RAISE

    includeOptionalNodes = fields.Boolean(allow_none=True)
    labelSelector = fields.Nested(LabelSelectorSchema, allow_none=True)


class AppGraphArgs(WatchArgs):
    labelSelector = fields.String(load_default=None, metadata={"description": "only VMs matching this selector"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "dot"]))


class ConnectionSchema(Schema):
    id = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(["Outbound", "Inbound"]))


class OutputResourceSchema(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True)
    name = fields.String(required=True)
    provisioningState = fields.String()


class AppResourceSchema(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True)
    name = fields.String(required=True)
    resources = fields.List(fields.Nested(OutputResourceSchema), required=True)
    connections = fields.List(fields.Nested(ConnectionSchema), required=True)
    provisioningState = fields.String(required=True)


class AppGraphSchema(Schema):
    resources = fields.List(fields.Nested(AppResourceSchema), required=True)
