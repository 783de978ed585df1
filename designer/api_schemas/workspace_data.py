"""Bodies of what a workspace holds besides flows: connections, lookup tables, templates, and the
read-only catalogues (node types, canonical records) with the mapping preview."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import Body, Reply
from designer.api_schemas.flows import Bundle
from runtime.connections import SYSTEMS
AUTH_TYPES = ("none", "basic", "bearer", "api_key")


class AuthIn(Body):
    type = fields.String(validate=validate.OneOf(AUTH_TYPES))
    username = fields.String()
    password = fields.String(metadata={"description": "left out: the stored one stays"})
    token = fields.String()
    header = fields.String()
    key = fields.String(metadata={"description": "api_key: the key; sftp: a private key (PEM or OpenSSH)"})
    passphrase = fields.String(metadata={"description": "sftp: the private key's passphrase"})
    host_key = fields.String(metadata={"description": "sftp: the server's pinned public key line or SHA256: "
                                                      "fingerprint"})


class ConnectionIn(Body):
    system = fields.String(required=True, validate=validate.OneOf(SYSTEMS))
    base_url = fields.String(required=True, metadata={
        "examples": ["https://erp.example.com/api"], "description": "http(s) URL; sql: a SQLAlchemy database URL; "
        "folder: a folder under CROSSDOCK_FILE_DIRS; sftp: sftp://host[:port][/folder] (docs/nodes.md)"})
    auth = fields.Nested(AuthIn)


class AuthOut(Reply):
    type = fields.String()
    username = fields.String()
    header = fields.String()
    host_key = fields.String()


class Connection(Reply):
    """Secrets are never returned: `secret_set` says whether one is stored."""
    name = fields.String(required=True)
    system = fields.String(required=True)
    base_url = fields.String()
    auth = fields.Nested(AuthOut)
    secret_set = fields.Boolean()


class ConnectionTest(Reply):
    """What a connection test found (runtime/connection_checks.py); never a secret."""
    ok = fields.Boolean(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(
        ("reachable", "bad_credentials", "unreachable", "egress_denied", "refused")))
    message = fields.String(required=True)
    connection = fields.String()
    system = fields.String()
    url = fields.String()
    status = fields.Integer()
    duration_ms = fields.Float()


class ConnectionList(Reply):
    connections = fields.List(fields.Nested(Connection), required=True)


class TableSummary(Reply):
    table = fields.String(required=True)
    rows = fields.Integer(required=True)


class TableList(Reply):
    tables = fields.List(fields.Nested(TableSummary), required=True)


class TableUser(Reply):
    flow_id = fields.String(required=True)
    name = fields.String()
    nodes = fields.List(fields.String(), required=True)


class TableUsers(Reply):
    """The flows whose documents use a table (a lookup node's table, or $lookup('<table>', ...))."""
    table = fields.String(required=True)
    flows = fields.List(fields.Nested(TableUser), required=True)


class TableQuery(Body):
    format = fields.String(validate=validate.OneOf(("json", "csv")), metadata={"description": "csv: text/csv"})


class Table(Reply):
    table = fields.String(required=True)
    rows = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)


class TableIn(Body):
    rows = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)


class TableCount(Reply):
    table = fields.String(required=True)
    rows = fields.Integer(required=True)


class RowIn(Body):
    value = fields.Raw(required=True, allow_none=True)


class Row(Reply):
    table = fields.String(required=True)
    key = fields.String(required=True)
    value = fields.Raw(allow_none=True)


class TemplateParam(Reply):
    type = fields.String()
    default = fields.Raw(allow_none=True)
    description = fields.String()
    required = fields.Boolean()


class TemplateSummary(Reply):
    id = fields.String(required=True)
    name = fields.String()
    description = fields.String()
    source = fields.String(validate=validate.OneOf(("bundled", "partner", "imported")))
    flow_id = fields.String()
    params = fields.Dict(keys=fields.String(), values=fields.Nested(TemplateParam))
    connections = fields.List(fields.Dict())
    lookups = fields.List(fields.String())
    samples = fields.List(fields.String())
    version = fields.Integer(metadata={"description": "the newest version offered (bundled templates: 1)"})
    installs = fields.List(fields.Dict(), metadata={
        "description": "flows installed from it: flow_id, version, upgrade (a newer version is offered)"})


class TemplateList(Reply):
    templates = fields.List(fields.Nested(TemplateSummary), required=True)


class TemplateImport(Body):
    """A bundle, or the id of a gallery template, with parameter values and connection settings."""
    bundle = fields.Nested(Bundle)
    template = fields.String()
    params = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))
    flow_id = fields.String(metadata={"description": "install under another id"})
    connections = fields.Dict(keys=fields.String(), values=fields.Nested(ConnectionIn))


class Installed(Reply):
    flow_id = fields.String(required=True)
    deployed_version = fields.Integer(allow_none=True)
    params = fields.Dict()
    lookups_added = fields.List(fields.String())
    missing_connections = fields.List(fields.Raw())
    problems = fields.List(fields.Dict())


class Port(Reply):
    name = fields.String()
    label = fields.String()
    record = fields.String(allow_none=True)
    optional = fields.Boolean()


class NodeType(Reply):
    type = fields.String(required=True)
    version = fields.Integer(required=True)
    category = fields.String()
    title = fields.String()
    description = fields.String()
    icon = fields.String(allow_none=True)
    inputs = fields.List(fields.Nested(Port))
    outputs = fields.List(fields.Nested(Port))
    dynamic_outputs = fields.String(allow_none=True)
    expressions = fields.List(fields.String())
    references = fields.Dict(keys=fields.String(), values=fields.String())
    preview = fields.String(allow_none=True)
    summary = fields.String()
    config_schema = fields.Dict(metadata={"description": "JSON Schema of the node's config"})


class NodeTypeList(Reply):
    node_types = fields.List(fields.Nested(NodeType), required=True)


class Record(Reply):
    """A canonical record as JSON Schema (draft 2020-12) with `$id` crossdock.<name>/<version>."""
    id_ = fields.String(data_key="$id")
    title = fields.String()
    version = fields.Integer()


class RecordList(Reply):
    records = fields.List(fields.Nested(Record), required=True)


class PreviewMap(Body):
    expression = fields.String(required=True, metadata={"examples": ["$.number"]})
    input = fields.Raw(allow_none=True)
    flow_id = fields.String(metadata={"description": "the saved draft the node belongs to"})
    flow = fields.Dict(metadata={"description": "or the document the editor holds"})
    node = fields.String()
    field = fields.String(metadata={"examples": ["rules[1].when"]})
    params = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))


class Preview(Reply):
    output = fields.Raw(allow_none=True, required=True)
    engine = fields.String(validate=validate.OneOf(("compiled", "interpreter")))
