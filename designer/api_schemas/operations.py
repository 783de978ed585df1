"""The registry: each /api/v1 endpoint, keyed by (OpenAPI path, method), with its summary and the schemas
of its request and replies. designer/openapi.py documents the endpoints the app routes from here; a test
fails when a route has no entry. Path parameter names and types come from the app's rules, so a key's
`{...}` names are only for reading."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from designer.api_schemas import flows, identity, published, runs, workspace_data as wd
from designer.api_schemas import trading_partners as tpa
from designer.api_schemas import events  # business events between flows (issue 16)
from designer.api_schemas import threads  # the document thread (issue 14)
from designer.api_schemas import alerts  # alerts (issue 14)
from designer.api_schemas import reports  # the SLA report (issue 14)
from designer.api_schemas import exceptions  # the exception workbench (issue 14)
from designer.api_schemas import dashboard  # the dashboard, KPIs and flow health (issue 14)
from designer.api_schemas import template_versions as tv  # version diff, template versions, upgrades (issue 13)
from designer.api_schemas import mappings  # the no-code mapper (issue 13)

CSV = {"text/csv": {"schema": {"type": "string"}}}


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    status: int = 200
    reply: Any = None  # a schema class, {media type: media object}, or None for an empty body
    body: Any = None  # a schema class or {media type: media object}
    body_required: bool = True
    query: Any = None  # a schema class whose fields are the query arguments
    headers: dict = field(default_factory=dict)  # request headers besides the workspace's


def key(path: str) -> str:
    """`/api/v1/runs/{run_id}` and `/api/v1/runs/{id}` are the same route."""
    return re.sub(r"\{[^}]*\}", "{}", path)


IF_MATCH = {"If-Match": {"schema": {"type": "string"}, "description": 'the revision read, e.g. "3"; 409 if stale'}}
O = Operation
_OPS: dict[tuple[str, str], Operation] = {
    # flows
    ("/api/v1/flows", "GET"): O("List the workspace's flows", "flows", reply=flows.FlowList),
    ("/api/v1/flows", "POST"): O("Create a flow draft", "flows", 201, flows.FlowDetail, flows.FlowDocument),
    ("/api/v1/flows/validate", "POST"): O("Check a document as a deploy would", "flows", reply=flows.Validation,
                                          body=flows.FlowDocument, query=flows.ValidateQuery),
    ("/api/v1/flows/{flow_id}", "GET"): O("Read a flow draft", "flows", reply=flows.FlowDetail),
    ("/api/v1/flows/{flow_id}", "PUT"): O("Save a flow draft", "flows", reply=flows.FlowDetail,
                                          body=flows.FlowDocument, headers=IF_MATCH),
    ("/api/v1/flows/{flow_id}", "DELETE"): O("Delete a flow", "flows", 204),
    ("/api/v1/flows/{flow_id}/deploy", "POST"): O("Deploy the draft, or roll back to a version", "flows", 201,
                                                  flows.Deployed, flows.DeployRequest, body_required=False),
    ("/api/v1/flows/{flow_id}/undeploy", "POST"): O("Stop the flow's triggers", "flows", reply=flows.Undeployed),
    ("/api/v1/flows/{flow_id}/versions", "GET"): O("List deployed versions", "flows", reply=flows.VersionList),
    ("/api/v1/flows/{flow_id}/versions/{version}", "GET"): O("Read a deployed version", "flows",
                                                             reply=flows.VersionDocument),
    ("/api/v1/flows/{flow_id}/stats", "GET"): O("Monitor figures over a window", "flows", reply=flows.FlowStats,
                                                query=flows.StatsQuery),
    ("/api/v1/flows/{flow_id}/export", "GET"): O("Export the flow as a template bundle", "templates",
                                                 reply=flows.Bundle),
    ("/api/v1/flows/{flow_id}/publish", "POST"): O("Publish the deployed flow as an experience API", "published",
                                                   201, published.PublishedEnvelope, published.PublishIn),
    # runs
    ("/api/v1/flows/{flow_id}/runs", "POST"): O("Start a run by hand", "runs", 202, runs.RunEnvelope,
                                                runs.StartRun, body_required=False),
    ("/api/v1/runs", "GET"): O("List runs", "runs", reply=runs.RunList, query=runs.RunQuery),
    ("/api/v1/runs/{run_id}", "GET"): O("Read a run with its steps", "runs", reply=runs.RunEnvelope),
    ("/api/v1/runs/{run_id}/replay", "POST"): O("Replay a run, whole or from a node", "runs", 202,
                                                runs.RunEnvelope, runs.Replay, body_required=False),
    ("/api/v1/runs/{run_id}/steps/{seq}/{kind}", "GET"): O("A step's whole input or output", "runs",
                                                           reply=runs.StepPayload),
    ("/api/v1/dead-letters", "GET"): O("List dead letters", "runs", reply=runs.DeadLetterList,
                                       query=runs.DeadLetterQuery),
    # catalogues and the mapping preview
    ("/api/v1/node-types", "GET"): O("The palette: node types with their config schema", "catalog",
                                     reply=wd.NodeTypeList),
    ("/api/v1/preview/map", "POST"): O("Evaluate a mapping expression as a run would", "catalog",
                                       reply=wd.Preview, body=wd.PreviewMap),
    ("/api/v1/records", "GET"): O("Canonical records as JSON Schema", "catalog", reply=wd.RecordList),
    ("/api/v1/records/{name}", "GET"): O("One canonical record as JSON Schema", "catalog", reply=wd.Record),
    # templates
    ("/api/v1/templates", "GET"): O("The template gallery", "templates", reply=wd.TemplateList),
    ("/api/v1/templates/{template_id}", "GET"): O("A template bundle", "templates", reply=flows.Bundle),
    ("/api/v1/templates/import", "POST"): O("Install a template or bundle", "templates", 201, wd.Installed,
                                            wd.TemplateImport),
    ("/api/v1/templates/publish", "POST"): O("Publish a new version of a partner template", "templates", 201,
                                             tv.TemplatePublished, tv.TemplatePublishIn),
    ("/api/v1/flows/{flow_id}/upgrade", "GET"): O("Preview the upgrade of an installed flow to a newer template "
                                                  "version", "templates", reply=tv.UpgradePreview,
                                                  query=tv.UpgradeQuery),
    ("/api/v1/flows/{flow_id}/upgrade", "POST"): O("Upgrade an installed flow, conflicts resolved", "templates",
                                                   reply=tv.Upgraded, body=tv.UpgradeIn),
    ("/api/v1/flows/{flow_id}/diff", "GET"): O("What changed between two versions of a flow", "flows",
                                               reply=tv.VersionDiff, query=tv.DiffQuery),
    # connections
    ("/api/v1/connections", "GET"): O("List connections (no secrets)", "connections", reply=wd.ConnectionList),
    ("/api/v1/connections/{name}", "GET"): O("Read a connection (no secrets)", "connections", reply=wd.Connection),
    ("/api/v1/connections/{name}", "PUT"): O("Create or change a connection", "connections", reply=wd.Connection,
                                             body=wd.ConnectionIn),
    ("/api/v1/connections/{name}", "DELETE"): O("Delete a connection", "connections", 204),
    ("/api/v1/connections/{name}/test", "POST"): O("Test a connection: reachable, credentials accepted, no side "
                                                   "effect", "connections", reply=wd.ConnectionTest,
                                                   body_required=False),
    # lookups
    ("/api/v1/lookups", "GET"): O("List lookup tables", "lookups", reply=wd.TableList),
    ("/api/v1/lookups/{table}", "GET"): O("Read a lookup table (JSON or CSV)", "lookups", query=wd.TableQuery,
                                          reply={"application/json": {"schema": wd.Table}, **CSV}),
    ("/api/v1/lookups/{table}", "PUT"): O("Replace a lookup table", "lookups", reply=wd.TableCount, body=wd.TableIn),
    ("/api/v1/lookups/{table}/flows", "GET"): O("The flows that use a lookup table", "lookups", reply=wd.TableUsers),
    ("/api/v1/lookups/{table}/import", "POST"): O(
        "Replace a lookup table from CSV", "lookups", 201, wd.TableCount,
        {**CSV, "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"}}}}}),
    ("/api/v1/lookups/{table}/rows/{key}", "PUT"): O("Set a row", "lookups", reply=wd.Row, body=wd.RowIn),
    ("/api/v1/lookups/{table}/rows/{key}", "DELETE"): O("Delete a row", "lookups", 204),
    # EDI trading partners
    ("/api/v1/trading-partners", "GET"): O("List EDI trading partners", "trading-partners",
                                           reply=tpa.TradingPartnerList),
    ("/api/v1/trading-partners/{name}", "GET"): O("Read a trading partner", "trading-partners",
                                                  reply=tpa.TradingPartner),
    ("/api/v1/trading-partners/{name}", "PUT"): O("Create or change a trading partner", "trading-partners",
                                                  reply=tpa.TradingPartner, body=tpa.TradingPartnerIn),
    ("/api/v1/trading-partners/{name}", "DELETE"): O("Delete a trading partner (its control numbers are never "
                                                     "given out again)", "trading-partners", 204),
    ("/api/v1/trading-partners/{name}/interchanges", "GET"): O(
        "Interchanges sent to the partner, newest first, with their 997 status", "trading-partners",
        reply=tpa.InterchangeList, query=tpa.InterchangeQuery),
    ("/api/v1/events", "GET"): O("Business events of the workspace, newest first, with their deliveries", "events",
                                 reply=events.EventList, query=events.EventQuery),
    ("/api/v1/mappings/compile", "POST"): O("Compile a mapping to readable JSONata", "mappings",
                                            reply=mappings.Compiled, body=mappings.CompileIn),
    ("/api/v1/mappings/parse", "POST"): O("Read an expression back as a mapping, or why it is read-only", "mappings",
                                          reply=mappings.Parsed, body=mappings.ParseIn),
    ("/api/v1/schemas", "GET"): O("The target schemas: connector operations' bodies and answers, canonical records",
                                  "mappings", reply=mappings.SchemaList),
    ("/api/v1/schemas/{schema_id}", "GET"): O("A target schema", "mappings", reply=mappings.TargetSchema),
    ("/api/v1/flows/{flow_id}/nodes/{node_id}/mapping-context", "GET"): O(
        "A node's source and target schemas and its input per saved sample", "mappings",
        reply=mappings.MappingContext),
    ("/api/v1/flows/{flow_id}/nodes/{node_id}/preview-samples", "POST"): O(
        "An edited mapping over the flow's saved samples, beside the deployed version's output", "mappings",
        reply=mappings.PreviewSamples, body=mappings.PreviewSamplesIn),
    ("/api/v1/threads", "GET"): O("A business document's timeline across flows, found by any of its keys", "runs",
                                  reply=threads.Thread, query=threads.ThreadQuery),
    ("/api/v1/reports/sla", "GET"): O("A workspace's SLA report of one month (JSON, CSV or PDF)", "reports",
                                      query=reports.SlaQuery,
                                      reply={"application/json": {"schema": reports.SlaReport}, **CSV,
                                             "application/pdf": {"schema": {"type": "string", "format": "binary"}}}),
    ("/api/v1/alert-rules", "GET"): O("The workspace's alert rules", "alerts", reply=alerts.RuleList),
    ("/api/v1/alert-rules", "POST"): O("Create an alert rule", "alerts", 201, alerts.RuleEnvelope, alerts.RuleIn),
    ("/api/v1/alert-rules/{id}", "PUT"): O("Replace an alert rule", "alerts", reply=alerts.RuleEnvelope,
                                           body=alerts.RuleIn),
    ("/api/v1/alert-rules/{id}", "DELETE"): O("Delete an alert rule and its alerts", "alerts", 204),
    ("/api/v1/alerts", "GET"): O("Alerts, newest first, with their deliveries", "alerts", reply=alerts.AlertList,
                                 query=alerts.AlertQuery),
    ("/api/v1/alerts/{id}/acknowledge", "POST"): O("Acknowledge an alert (it stays open)", "alerts",
                                                   reply=alerts.AlertEnvelope, body_required=False),
    ("/api/v1/alerts/{id}/resolve", "POST"): O("Resolve an alert by hand", "alerts", reply=alerts.AlertEnvelope,
                                               body_required=False),
    ("/api/v1/dashboard", "GET"): O("The workspace's runs, latency, queues, exceptions and KPIs over a window",
                                    "dashboard", reply=dashboard.Dashboard, query=dashboard.DashboardQuery),
    ("/api/v1/partner/dashboard", "GET"): O("The partner's customers ranked by health, worst first", "dashboard",
                                            reply=dashboard.PartnerDashboard, query=dashboard.WindowQuery),
    ("/api/v1/kpis", "GET"): O("Business KPIs of the orders placed in a period, by day and warehouse", "dashboard",
                               reply=dashboard.KpiReport, query=dashboard.KpiQuery),
    ("/api/v1/flows/health", "GET"): O("Each flow's last run, failures in 24 h and status", "dashboard",
                                       reply=dashboard.FlowHealthList),
    ("/api/v1/exceptions", "GET"): O("Open (or resolved) exceptions: dead letters and business exceptions, filtered",
                                     "exceptions", reply=exceptions.ExceptionList, query=exceptions.ExceptionQuery),
    ("/api/v1/exceptions/groups", "GET"): O("Matching exceptions grouped by root cause", "exceptions",
                                            reply=exceptions.GroupList, query=exceptions.ExceptionQuery),
    ("/api/v1/exceptions/{id}", "GET"): O("One exception with its payload and comments", "exceptions",
                                          reply=exceptions.ExceptionEnvelope),
    ("/api/v1/exceptions/{id}/assign", "POST"): O("Assign an exception (null: unassign)", "exceptions",
                                                  reply=exceptions.ExceptionEnvelope, body=exceptions.Assign),
    ("/api/v1/exceptions/{id}/comments", "POST"): O("Comment on an exception", "exceptions", 201,
                                                    exceptions.ExceptionEnvelope, exceptions.NewComment),
    ("/api/v1/exceptions/{id}/resolve", "POST"): O("Resolve an exception by hand", "exceptions",
                                                   reply=exceptions.ExceptionEnvelope, body_required=False),
    ("/api/v1/exceptions/resolve", "POST"): O("Resolve a selection, or all matching a filter (at most 200)",
                                              "exceptions", reply=exceptions.Resolved, body=exceptions.Choice),
    ("/api/v1/exceptions/dry-run", "POST"): O("Retry as a dry run: before and after output per record, without side "
                                              "effects (at most 20)", "exceptions", reply=exceptions.DryRun,
                                              body=exceptions.Choice),
    ("/api/v1/exceptions/retry", "POST"): O("Retry a selection, or all matching a filter (at most 200), as replays "
                                            "on the current version; a retry that succeeds resolves its exceptions",
                                            "exceptions", 202, exceptions.Retried, exceptions.Choice),
    # session
    ("/api/v1/session", "POST"): O("Log in", "session", reply=identity.Session, body=identity.Login),
    ("/api/v1/session", "GET"): O("The signed-in user", "session", reply=identity.Session),
    ("/api/v1/session", "DELETE"): O("Log out", "session", 204),
    ("/api/v1/session/password", "POST"): O("Change one's password", "session", 204, body=identity.PasswordChange),
    ("/api/v1/branding", "GET"): O("The brand to show", "partner", reply=identity.Branding,
                                   query=identity.BrandingQuery),
    # tenancy
    ("/api/v1/workspaces", "GET"): O("The caller's workspaces", "workspaces", reply=identity.WorkspaceList),
    ("/api/v1/workspaces", "POST"): O("Create a customer workspace", "workspaces", 201, identity.WorkspaceCreated,
                                      identity.WorkspaceIn),
    ("/api/v1/workspaces/{id}", "PATCH"): O("Rename, suspend or configure a workspace", "workspaces",
                                            reply=identity.WorkspaceEnvelope, body=identity.WorkspacePatch),
    ("/api/v1/workspaces/{id}", "DELETE"): O("Delete a workspace and its data", "workspaces", 204),
    ("/api/v1/users", "GET"): O("The partner's users", "users", reply=identity.UserList),
    ("/api/v1/users", "POST"): O("Create a user", "users", 201, identity.UserCreated, identity.UserIn),
    ("/api/v1/users/{id}", "PATCH"): O("Change a user", "users", reply=identity.UserCreated,
                                       body=identity.UserPatch),
    ("/api/v1/users/{id}", "DELETE"): O("Delete a user", "users", 204),
    ("/api/v1/partner", "GET"): O("The caller's partner", "partner", reply=identity.Partner),
    ("/api/v1/partner", "PUT"): O("Change the partner's name, brand or limits", "partner", reply=identity.Partner,
                                  body=identity.PartnerIn),
    ("/api/v1/partner/smtp", "GET"): O("The partner's SMTP settings for alert e-mail", "partner",
                                       reply=alerts.SmtpEnvelope),
    ("/api/v1/partner/smtp", "PUT"): O("Set the partner's SMTP settings for alert e-mail", "partner",
                                       reply=alerts.SmtpEnvelope, body=alerts.SmtpIn),
    ("/api/v1/partner/smtp", "DELETE"): O("Remove the partner's SMTP settings", "partner", 204),
    # keys and audit
    ("/api/v1/keys", "GET"): O("The workspace's API keys", "keys", reply=identity.KeyList),
    ("/api/v1/keys", "POST"): O("Create an API key (its secret is shown once)", "keys", 201,
                                identity.KeyCreated, identity.KeyIn),
    ("/api/v1/keys/{id}", "DELETE"): O("Revoke an API key", "keys", 204),
    ("/api/v1/keys/scopes", "GET"): O("The scopes a key may hold", "keys", reply=identity.Scopes),
    ("/api/v1/audit", "GET"): O("The workspace's audit log, newest first", "audit", reply=identity.AuditPage,
                                query=identity.AuditQuery),
    ("/api/v1/audit/export", "GET"): O("The audit log as CSV or JSON lines", "audit", query=identity.AuditExportQuery,
                                       reply={**CSV, "application/x-ndjson": {"schema": {"type": "string"}}}),
    # experience APIs
    ("/api/v1/published", "GET"): O("The workspace's published endpoints", "published",
                                    reply=published.PublishedList),
    ("/api/v1/published/{name}/{version}", "DELETE"): O("Unpublish an endpoint version", "published", 204),
    ("/api/v1/openapi.json", "GET"): O("This document", "meta", reply={"application/json": {
        "schema": {"type": "object"}}}),
}
OPERATIONS: dict[tuple[str, str], Operation] = {(key(path), method): op for (path, method), op in _OPS.items()}
