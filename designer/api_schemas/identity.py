"""Bodies of identity and tenancy: the session, workspaces, users, the partner and its brand, API keys and
the audit log (the contract of issue 11)."""
from __future__ import annotations

from marshmallow import fields, validate

from designer.api_schemas.common import Body, Reply, nullable_time, time

ROLES = ("consultant", "mapper", "operator", "viewer")
STATUSES = ("active", "suspended")


class Login(Body):
    email = fields.String(required=True, metadata={"examples": ["admin@localhost"]})
    password = fields.String(required=True)


class SessionUser(Reply):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String()
    partner_id = fields.String()
    partner_admin = fields.Boolean()
    must_change_password = fields.Boolean()


class SessionWorkspace(Reply):
    id = fields.String(required=True)
    name = fields.String()
    role = fields.String()
    status = fields.String()


class Session(Reply):
    """The signed-in user; `csrf_token` goes into X-Crossdock-CSRF on every unsafe request."""
    user = fields.Nested(SessionUser, required=True)
    csrf_token = fields.String(required=True)
    workspaces = fields.List(fields.Nested(SessionWorkspace), required=True)


class PasswordChange(Body):
    current_password = fields.String(required=True)
    new_password = fields.String(required=True)


class Colors(Reply):
    primary = fields.String(allow_none=True)
    accent = fields.String(allow_none=True)


class Support(Reply):
    email = fields.String(allow_none=True)
    url = fields.String(allow_none=True)


class Branding(Reply):
    product_name = fields.String(required=True)
    logo_url = fields.String(allow_none=True)
    colors = fields.Nested(Colors)
    support = fields.Nested(Support)
    white_label = fields.Boolean()


class BrandingQuery(Body):
    partner = fields.String(metadata={"description": "a partner's id, for the login page"})


class Workspace(Reply):
    id = fields.String(required=True)
    name = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))
    partner_id = fields.String()
    role = fields.String(metadata={"description": "the caller's; admin for a partner admin"})
    created_at = nullable_time()
    settings = fields.Dict(allow_none=True)


class WorkspaceList(Reply):
    workspaces = fields.List(fields.Nested(Workspace), required=True)


class WorkspaceIn(Body):
    id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{1,64}$"))
    name = fields.String(required=True)
    template = fields.String(metadata={"description": "a template to install into the new workspace"})
    params = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))


class WorkspaceCreated(Reply):
    workspace = fields.Nested(Workspace, required=True)
    installed = fields.List(fields.String())


class WorkspaceEnvelope(Reply):
    workspace = fields.Nested(Workspace, required=True)


class WorkspacePatch(Body):
    name = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))
    settings = fields.Dict()


class MembershipSchema(Reply):
    workspace = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class MembershipIn(Body):
    workspace = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class User(Reply):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String()
    partner_admin = fields.Boolean()
    locked = fields.Boolean()
    memberships = fields.List(fields.Nested(MembershipSchema))


class UserList(Reply):
    users = fields.List(fields.Nested(User), required=True)


class UserIn(Body):
    email = fields.String(required=True)
    name = fields.String(required=True)
    password = fields.String(metadata={"description": "none: one is generated and returned once"})
    partner_admin = fields.Boolean()
    memberships = fields.List(fields.Nested(MembershipIn))


class UserCreated(Reply):
    """A user; with the password generated for them, shown once."""
    user = fields.Nested(User, required=True)
    password = fields.String(metadata={"description": "the generated password, shown once"})


class UserPatch(Body):
    name = fields.String()
    partner_admin = fields.Boolean()
    memberships = fields.List(fields.Nested(MembershipIn))
    unlock = fields.Boolean()
    password = fields.String()


class Partner(Reply):
    id = fields.String(required=True)
    name = fields.String()
    branding = fields.Dict(allow_none=True)
    limits = fields.Dict(allow_none=True)


class PartnerIn(Body):
    name = fields.String()
    branding = fields.Dict(metadata={"description": "product_name, logo_url, colors, support"})
    limits = fields.Dict(metadata={"description": "api_per_minute, hooks_per_minute"})


class Key(Reply):
    id = fields.String(required=True)
    name = fields.String()
    scopes = fields.List(fields.String())
    created_by = fields.String()
    created_at = nullable_time()
    revoked_at = nullable_time()
    last_used_at = nullable_time()


class KeyList(Reply):
    keys = fields.List(fields.Nested(Key), required=True)


class KeyIn(Body):
    name = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)


class KeyCreated(Reply):
    key = fields.Nested(Key, required=True)
    secret = fields.String(required=True, metadata={"description": "cdk_<id>_<random>, shown once"})


class Scopes(Reply):
    scopes = fields.List(fields.String(), required=True)


class AuditFilter(Body):
    scope = fields.String(validate=validate.OneOf(("workspace", "partner")),
                          metadata={"description": "partner: every workspace of the partner (partner admins)"})
    action = fields.String(metadata={"examples": ["flow.deploy"]})
    actor = fields.String()


class AuditQuery(AuditFilter):
    limit = fields.Integer(validate=validate.Range(min=1, max=500), metadata={"description": "default 100"})
    before = fields.Integer(validate=validate.Range(min=1), metadata={"description": "the cursor next_before"})


class AuditEntry(Reply):
    id = fields.Integer(required=True)
    at = time()
    workspace = fields.String(allow_none=True)
    actor = fields.String()
    action = fields.String()
    target = fields.String()
    summary = fields.Dict(allow_none=True)


class AuditPage(Reply):
    entries = fields.List(fields.Nested(AuditEntry), required=True)
    next_before = fields.Integer(allow_none=True)


class AuditExportQuery(AuditFilter):
    format = fields.String(validate=validate.OneOf(("csv", "jsonl")))
