"""Query arguments."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate

FOLLOW_HELP = (
    "Links to embed: comma-separated dotted paths of rels, e.g. volumes.pvc,instancetype.revision; "
    "'*' is every link of an entity. Repeated, it merges like commas (follow=vmi&follow=volumes). "
    "GET /catalog lists the rels of each kind."
)


class Follow(fields.List):  # type: ignore[type-arg]
    """`follow`, repeatable: every value it was given, joined with commas (None when absent)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(fields.String(), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return ",".join(str(v) for v in super()._deserialize(value, attr, data, **kwargs))


class _Strict(Schema):
    class Meta:
        unknown = RAISE  # a misspelt parameter is a 400, not silently ignored


WATCH_HELP = (
    "true: stream the document as server-sent events (text/event-stream), again whenever an object in it "
    "changes (needs the watch cache)"
)


class WatchArgs(_Strict):
    watch = fields.Boolean(load_default=False, metadata={"description": WATCH_HELP})


FIELDS_HELP = (
    "Sparse fieldsets: comma-separated dotted JSON paths each entity keeps, e.g. "
    "metadata.labels,status.printableStatus (into a list, each element alike). href, kind, metadata.name and "
    "metadata.namespace always stay (a volume or network keeps its name), and so do followed rels, whose "
    "entities are trimmed alike; links is a field like any other (links, links.vmi). "
    "fields[<collection>]=... (e.g. fields[pvcs]=spec.resources) applies to that collection's entities instead. "
    "Repeated, it merges like commas."
)


class FollowArgs(WatchArgs):
    # `fields[<collection>]` cannot be declared (its name varies): the HTTP layer's parser reads it beside
    # the schema for schemas that say they take it
    TAKES_SPARSE_FIELDS = True

    follow = Follow(load_default=None, metadata={"description": FOLLOW_HELP})
    fields_ = Follow(data_key="fields", load_default=None, metadata={"description": FIELDS_HELP})


class ObjectArgs(FollowArgs):
    namespace = fields.String(
        load_default=None,
        metadata={"description": "Namespace of a namespaced object (default: the gateway's --default-namespace)"},
    )


class ListArgs(FollowArgs):
    labelSelector = fields.String(
        load_default=None,
        metadata={"description": "Kubernetes label selector, e.g. app=web,tier!=db"},
    )
    limit = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=10_000),
        metadata={"description": "Page size; metadata.continue names the next page"},
    )
    continue_ = fields.String(
        data_key="continue",
        load_default=None,
        metadata={"description": "metadata.continue of the previous page"},
    )


class AllNamespacesListArgs(ListArgs):
    namespace = fields.String(
        load_default=None, metadata={"description": "Only this namespace (default: all namespaces)"}
    )
