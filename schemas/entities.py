"""Entities, links and envelopes as served (DESIGN section 3)."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields


class LinkSchema(Schema):
    href = fields.String(required=True)
    kind = fields.String()
    name = fields.String()


class EntitySchema(Schema):
    """A Kubernetes object (managedFields removed) or a sub-entity, plus href and links.

    Followed links appear as extra top-level keys named after their rel: an entity,
    a missing marker, or a list of them.
    """

    class Meta:
        unknown = INCLUDE

    apiVersion = fields.String()
    kind = fields.String(required=True)
    metadata = fields.Dict()
    href = fields.String(required=True)
    links = fields.Dict(keys=fields.String(), values=fields.Nested(LinkSchema), required=True)
    dataKeys = fields.List(fields.String(), metadata={"description": "Secrets only: key names; never the data"})


class MissingSchema(Schema):
    href = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(allow_none=True)
    missing = fields.Boolean(required=True)
    reason = fields.String(required=True, metadata={"enum": ["NotFound", "Forbidden", "GarbageCollected"]})


class ListMetaSchema(Schema):
    continue_ = fields.String(data_key="continue")


class ListSchema(Schema):
    kind = fields.String(required=True)
    href = fields.String(required=True)
    metadata = fields.Nested(ListMetaSchema)
    items = fields.List(fields.Nested(EntitySchema), required=True)


class CatalogLinkSchema(Schema):
    rel = fields.String(required=True)
    targets = fields.List(fields.String(), required=True)
    cardinality = fields.String(required=True, metadata={"enum": ["one", "many"]})
    resolvedFrom = fields.String(required=True)
    resolver = fields.String(required=True)
    onlyVia = fields.List(fields.String())


class CatalogKindSchema(Schema):
    kind = fields.String(required=True)
    apiVersion = fields.String(allow_none=True)
    collection = fields.String(required=True)
    namespaced = fields.Boolean(required=True)
    subEntity = fields.Boolean(required=True)
    shortNames = fields.List(fields.String(), required=True, metadata={"description": "kubectl's short names"})
    links = fields.List(fields.Nested(CatalogLinkSchema), required=True)
    served = fields.Boolean(metadata={"description": "false when the cluster does not serve the kind; absent: served"})


class CatalogSourceSchema(Schema):
    source = fields.String(required=True, metadata={"description": "a --links file, or configmap/NS/NAME/KEY"})
    status = fields.String(required=True, metadata={"enum": ["Applied", "Error"]})
    error = fields.String(metadata={"description": "why it was left out: file:line: field: message"})


class CatalogSchema(Schema):
    kind = fields.String(required=True)
    href = fields.String(required=True)
    kinds = fields.List(fields.Nested(CatalogKindSchema), required=True)
    declared = fields.List(
        fields.Nested(CatalogSourceSchema), metadata={"description": "each source of declared links, when any"}
    )


class IndexSchema(Schema):
    kind = fields.String(required=True)
    links = fields.Dict(keys=fields.String(), values=fields.Dict(), required=True)


class HealthSchema(Schema):
    status = fields.String(required=True)
    reason = fields.String()
