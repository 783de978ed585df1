"""Bodies of the version diff and of template versions and upgrades (issue 13; designer/diff_api.py,
designer/templates_api.py)."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import MAX_ID, Body, Reply
from designer.api_schemas.flows import Bundle

REF = {"description": "a version number, draft or deployed", "examples": ["deployed", "draft", "3"]}


class DiffQuery(Body):
    from_ = fields.String(data_key="from", metadata={**REF, "description": "default deployed; " + REF["description"]})
    to = fields.String(metadata={**REF, "description": "default draft; " + REF["description"]})


class VersionDiff(Reply):
    flow_id = fields.String(required=True)
    diff = fields.Dict(required=True, metadata={
        "description": "nodes_added, nodes_removed, nodes_moved, nodes_changed (fields and mappings per target "
                       "field, with before and after), edges_added, edges_removed, flow_fields, truncated, changed"})


class TemplatePublishIn(Body):
    bundle = fields.Nested(Bundle)
    flow_id = fields.String(metadata={"description": "publish this flow of the workspace as the template"})
    template_id = fields.String(metadata={"description": "with flow_id: the template's id (default: the template "
                                                         "the flow came from, else the flow's id)"})


class TemplatePublished(Reply):
    template_id = fields.String(required=True)
    version = fields.Integer(required=True)
    versions = fields.List(fields.Dict())


class UpgradeQuery(Body):
    to = fields.Integer(validate=validate.Range(1, MAX_ID), metadata={"description": "default: the newest"})


class UpgradePreview(Reply):
    flow_id = fields.String(required=True)
    template_id = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    revision = fields.Integer(required=True, metadata={"description": "the draft's; the upgrade sends it back"})
    changes = fields.List(fields.Dict(), metadata={"description": "the new version's changes that apply"})
    conflicts = fields.List(fields.Dict(), metadata={
        "description": "id, node/field/target or table/key, base, ours, theirs, resolution"})
    unresolved = fields.Integer()
    diff = fields.Dict(metadata={"description": "the draft against the merged document"})
    lookups = fields.Dict(metadata={"description": "table -> {changed: [keys]}"})


class UpgradeIn(Body):
    to_version = fields.Integer(required=True, validate=validate.Range(1, MAX_ID))
    revision = fields.Integer(required=True, validate=validate.Range(1, MAX_ID))
    resolutions = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.OneOf(("ours", "theirs"))))


class Upgraded(Reply):
    flow_id = fields.String(required=True)
    template_id = fields.String()
    from_version = fields.Integer()
    version = fields.Integer(required=True)
    revision = fields.Integer()
    deployed_version = fields.Integer(allow_none=True)
    changes_applied = fields.Integer()
    conflicts_resolved = fields.Integer()
    lookups_changed = fields.List(fields.String())
