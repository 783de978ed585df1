"""Templates (accelerators): the bundled ones and those imported per workspace; install one with
parameter values, and export an installed flow as one JSON bundle (flow, params, samples, lookup
tables, connection names without secrets). Inline node secrets never leave in a bundle, nor stay in a kept one
(runtime/secrets.py): whoever installs it enters them. A template has a version (the bundled ones 1; a partner
publishes more, runtime/template_versions.py); an install records which one it came from and the document it was
installed from, the base of a later upgrade (designer/template_upgrades.py)."""
from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import pathlib
from typing import Any, Iterator

import requests
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from designer import drafts
from designer.errors import ApiError
from flows.document import ID_PATTERN, ParamSchema
from flows.problem import errors
from runtime import connections, deployments, egress, lookups, secrets, template_versions, trading_partners
from runtime.models import InstalledTemplate

SCHEMA = "crossdock.template/1"
TEMPLATES_DIR = pathlib.Path(__file__).resolve().parent.parent / "flows" / "templates"
BUNDLED = ("order-release.json", "inventory-sync.json", "shipment-confirmation.json", "returns.json",
           "edi-order-intake.json", "edi-asn-out.json")  # listed
SANDBOX_SYSTEMS = ("erp", "oms", "wms", "tms")
SANDBOX_PARTNER_INBOX = "/edi/api/inbox"  # the sandbox trading partner's mailbox: the EDI templates' partner_mailbox
# The sandbox trading partner as the EDI templates' lookup tables name it (edi_customers, edi_partners); it sends no
# 997s back, so none is expected of it
SANDBOX_PARTNER = ("acmehw", {
    "description": "The sandbox trading partner (/edi/api): Acme Hardware, ERP customer C-10442",
    "partner": {"qualifier": "ZZ", "id": "ACMEHW"}, "us": {"qualifier": "ZZ", "id": "CROSSDOCK"},
    "ack": {"expected": False}})
# OMS topics the bundled flows listen to, and the webhook path of each (event.webhook config)
OMS_SUBSCRIPTIONS = (("orders/create", "oms/orders"), ("returns/create", "oms/returns"))
OMS_SIGNATURE_HEADER = "X-Oms-Hmac-Sha256"  # the sandbox OMS signs its deliveries as Shopify does


def bundled() -> list[dict]:
    return [json.loads((TEMPLATES_DIR / name).read_text(encoding="utf-8")) for name in BUNDLED]


def summary(bundle: dict, source: str) -> dict:
    """What the gallery lists: description, parameter definitions, what the template needs."""
    flow = bundle["flow"]
    return {"id": bundle["id"], "name": bundle.get("name") or flow.get("name"),
            "description": bundle.get("description") or flow.get("description", ""), "source": source,
            "flow_id": flow["id"], "params": flow.get("params") or {},
            "connections": bundle.get("connections") or [], "lookups": sorted(bundle.get("lookups") or {}),
            "samples": sorted(bundle.get("samples") or {}), "version": version_of(bundle)}


def version_of(bundle: dict) -> int:
    return bundle.get("version") or 1


def list_templates(rt, workspace: str) -> list[dict]:
    """Bundled templates (a partner's newer version in their place), the partner's own, then those imported
    into the workspace; each with the flows installed from it, their version, and whether a newer one is here."""
    published = template_versions.newest(rt, template_versions.partner_of(rt, workspace))
    out = [summary(published.pop(b["id"], b), "bundled") for b in bundled()]
    out += [summary(b, "partner") for b in published.values()]
    with rt.sessions() as s:
        rows = s.scalars(select(InstalledTemplate).where(InstalledTemplate.workspace == workspace)
                         .order_by(InstalledTemplate.name)).all()
    out += [summary(r.bundle, "imported") for r in rows]
    installs = template_versions.installs(rt, workspace)
    for t in out:
        t["installs"] = [{"flow_id": i["flow_id"], "version": i["version"], "upgrade": i["version"] < t["version"]}
                         for i in installs if i["template_id"] == t["id"]]
    return out


def get(rt, workspace: str, template_id: Any) -> dict:
    """The bundle "Use template" installs and an upgrade goes to: the newest version of the workspace's imported
    one, the partner's newest and the bundled one."""
    if not isinstance(template_id, str) or not ID_PATTERN.match(template_id):
        raise ApiError(404, "not_found", f"no template {template_id!r}")
    with rt.sessions() as s:
        row = s.get(InstalledTemplate, (workspace, template_id))
    found = [row.bundle] if row is not None else []
    published = template_versions.newest(rt, template_versions.partner_of(rt, workspace))
    found += [published[template_id]] if template_id in published else []
    found += [b for b in bundled() if b["id"] == template_id]
    if not found:
        raise ApiError(404, "not_found", f"no template {template_id!r}")
    return max(found, key=version_of)  # the first of the newest: the workspace's own, the partner's, the bundled


def export(rt, workspace: str, flow_id: str) -> dict:
    """The flow draft as a template bundle; lookup tables and connections are those its nodes name."""
    doc = copy.deepcopy(secrets.dropped(drafts.get(rt, workspace, flow_id).document))
    samples = doc.pop("samples", None) or {}
    tables = sorted({n["config"]["table"] for n in doc.get("nodes", [])
                     if n.get("type") == "transform.lookup" and isinstance(n.get("config", {}).get("table"), str)})
    names = sorted({(n["config"]["connection"], n["type"].split(".", 1)[1]) for n in doc.get("nodes", [])
                    if n.get("type", "").startswith("connector.") and isinstance(n.get("config", {}).get("connection"), str)})
    return {"schema": SCHEMA, "id": doc["id"], "name": doc.get("name", doc["id"]),
            "description": doc.get("description", ""), "flow": doc, "samples": samples,
            "lookups": {t: lookups.rows(rt, workspace, t) for t in tables},
            "connections": [{"name": name, "system": system} for name, system in names]}


def check_bundle(bundle: Any) -> dict:
    """The whole bundle, checked before anything is written: 400 `invalid_template` naming the field."""
    def refuse(field: str, message: str):
        raise ApiError(400, "invalid_template", message, [{"field": field}])

    if not isinstance(bundle, dict) or bundle.get("schema") != SCHEMA:
        refuse("schema", f"a template bundle is a JSON object with schema {SCHEMA!r}")
    if not isinstance(bundle.get("flow"), dict) or not isinstance(bundle.get("id"), str):
        refuse("flow", "the bundle needs an id and a flow")
    if not ID_PATTERN.match(bundle["id"]):
        refuse("id", "a template id is 1-64 letters, digits, '_', '.' or '-'")
    for key in ("name", "description"):  # text columns of the gallery: PostgreSQL text refuses NUL
        if bundle.get(key) is not None and (not isinstance(bundle[key], str) or "\x00" in bundle[key]):
            refuse(key, f"{key} is text without NUL characters")
    for key in ("samples", "lookups"):
        if not isinstance(bundle.get(key, {}), dict):
            refuse(key, f"{key} must be an object")
    version = bundle.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= template_versions.MAX_VERSION:
        refuse("version", f"a template version is an integer from 1 to {template_versions.MAX_VERSION}")
    for table, rows in (bundle.get("lookups") or {}).items():
        if not isinstance(table, str) or not lookups.TABLE.match(table):
            refuse(f"lookups.{table}", "a lookup table name is 1-100 letters, digits, '_', '.' or '-'")
        if not isinstance(rows, dict):
            refuse(f"lookups.{table}", "each lookup table is an object of key -> value")
        if not all(0 < len(key) <= lookups.MAX_KEY and "\x00" not in key for key in rows):
            refuse(f"lookups.{table}", f"lookup keys are 1-{lookups.MAX_KEY} characters, without NUL")
    needed = bundle.get("connections", [])
    if not isinstance(needed, list):
        refuse("connections", "connections is a list of {name, system}")
    for i, c in enumerate(needed):
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) or not connections.NAME.match(c["name"]):
            refuse(f"connections[{i}]", "each connection is {name, system} with a name of 1-100 letters, digits, "
                                        "'_', '.' or '-'")
        if c.get("system", "http") not in connections.SYSTEMS:
            refuse(f"connections[{i}].system", f"system is one of {list(connections.SYSTEMS)}")
    drafts.load_or_400(bundle["flow"])
    return bundle


def prepared(bundle: dict, params: dict | None, flow_id: str | None = None) -> dict:
    """The bundle's flow as an install stores it: `params` as the parameters' values, under `flow_id`, with the
    bundle's samples; loaded (defaults filled in) or 400."""
    doc = copy.deepcopy(bundle["flow"])
    doc["params"] = _with_values(doc.get("params") or {}, {} if params is None else params)
    if flow_id is not None:
        doc["id"] = flow_id
    if bundle.get("samples"):
        doc["samples"] = bundle["samples"]
    return drafts.load_or_400(doc)


def merge_base(bundle: dict, params: dict | None, flow_id: str) -> dict:
    """What an install from `bundle` records as the base of a later three-way upgrade: the flow as installed,
    without secrets, and the template's lookup tables."""
    return {"flow": secrets.dropped(prepared(bundle, params, flow_id)),
            "lookups": copy.deepcopy(bundle.get("lookups") or {})}


def install(rt, workspace: str, bundle: dict, params: dict | None = None, *, flow_id: str | None = None,
            connection_values: dict | None = None, deploy: bool = True, keep: bool = False,
            origin: dict | None = None) -> dict:
    """Create the template's flow in the workspace with `params` as its parameter values, add its lookup
    tables (tables the workspace has already are kept: they may hold the customer's edits), store any
    connection values given, deploy when the flow validates, and with `keep` list the bundle in the
    workspace's gallery. The bundle is checked whole first and written in one transaction: an install
    refused at any point (a flow or webhook path taken, a bad connection value) changes nothing. The flow
    records the template and version it came from; `origin` is the bundle as published, when `bundle` is a
    copy adapted to this installation (the merge base is the published one)."""
    bundle = check_bundle(bundle)
    doc = prepared(bundle, params, flow_id)
    if not isinstance(connection_values, (dict, type(None))):
        raise ApiError(400, "invalid_argument", "connections must be an object", [{"field": "connections"}])
    with one_transaction(rt) as tx:
        for name, value in (connection_values or {}).items():
            try:
                connections.save(tx, workspace, name, value)
            except connections.InvalidConnection as err:
                raise ApiError(400, "invalid_connection", f"connection {name}: {err.message}",
                               [{"field": f"connections.{name}.{err.field}".rstrip(".")}]) from None
        doc = drafts.create(tx, workspace, doc).document  # as stored: its secrets encrypted
        existing = {t["table"] for t in lookups.tables(tx, workspace)}
        added = []
        for table, rows in (bundle.get("lookups") or {}).items():
            if table not in existing and rows:
                lookups.replace(tx, workspace, table, rows)
                added.append(table)
        missing = [c["name"] for c in bundle.get("connections") or []
                   if connections.get_row(tx, workspace, c["name"]) is None]
        if keep:
            _keep(tx, workspace, bundle)
        source = origin or bundle
        template_versions.record_install(tx, workspace, doc["id"], source["id"], version_of(source),
                                         merge_base(source, params, doc["id"]))
        problems = drafts.check(doc)
        version = None
        if deploy and not errors(problems):  # last: deploy also plans the version in this process's cache
            try:
                version = deployments.deploy(tx, workspace, doc["id"], doc)
            except deployments.DeployConflict as err:
                raise ApiError(409, "webhook_taken", str(err), [p.to_dict() for p in err.problems]) from None
    return {"flow_id": doc["id"], "deployed_version": version, "params": {k: v.get("default") for k, v in
                                                                         doc["params"].items()},
            "lookups_added": added, "missing_connections": missing,
            "problems": [p.to_dict() for p in problems]}


def import_bundle(rt, workspace: str, bundle: Any, params: dict | None = None, **kwargs: Any) -> dict:
    """Keep the bundle in the workspace's gallery and install it, both or neither."""
    return install(rt, workspace, bundle, params, keep=True, **kwargs)


def _keep(rt, workspace: str, bundle: dict) -> None:
    values = {"name": bundle.get("name") or bundle["id"], "description": bundle.get("description") or "",
              "bundle": {**bundle, "flow": secrets.dropped(bundle["flow"])}}
    with rt.sessions.begin() as s:
        row = s.get(InstalledTemplate, (workspace, bundle["id"]))
        if row is None:
            s.add(InstalledTemplate(workspace=workspace, id=bundle["id"], **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)


@contextlib.contextmanager
def one_transaction(rt) -> Iterator[Any]:
    """The runtime as the writes of one install see it: every session they open (drafts, lookups,
    connections, deployments each open their own) joins one database transaction, committed when the block
    ends and rolled back whole when it raises (SQLAlchemy's "join a session into an external transaction")."""
    with rt.engine.begin() as conn:
        yield _Joined(rt, sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False))


class _Joined:
    def __init__(self, rt, sessions: sessionmaker):
        self._rt, self.sessions = rt, sessions

    def __getattr__(self, name: str) -> Any:  # settings and the rest: the runtime's own
        return getattr(self._rt, name)


def install_bundled(rt, workspace: str, sandbox_url: str, hook_base: str | None = None) -> list[str]:
    """The embedded start: connections to the bundled sandbox systems, the sandbox trading partner, and the bundled
    templates, deployed.
    With `hook_base` (where this Crossdock answers), the OMS is subscribed to the flows' webhooks. The
    workspace's egress policy allows the sandbox (runtime/egress.py)."""
    base = sandbox_url.rstrip("/")
    egress.allow_origin(rt, workspace, base)
    for system in SANDBOX_SYSTEMS:
        if connections.get_row(rt, workspace, system) is None:
            connections.save(rt, workspace, system, {"system": system, "base_url": f"{base}/{system}/api"})
    if trading_partners.describe(rt, workspace, SANDBOX_PARTNER[0]) is None:
        trading_partners.save(rt, workspace, *SANDBOX_PARTNER)
    installed = []
    secret = oms_hook_secret(rt.settings, workspace) if hook_base else None
    for bundle in bundled():
        original = bundle
        if secret:  # the OMS cannot send an API key: the flows it calls check its signature instead
            bundle = _signed_by_oms(bundle, secret)
        params = {"partner_mailbox": base + SANDBOX_PARTNER_INBOX} if "partner_mailbox" in bundle["flow"].get(
            "params", {}) else None
        try:
            install(rt, workspace, bundle, params, origin=original)
        except ApiError as err:
            if err.code == "conflict":
                continue  # present already, maybe edited: leave it alone
            raise
        installed.append(bundle["flow"]["id"])
    if hook_base:
        subscribe_oms(base, f"{hook_base.rstrip('/')}/hooks/{workspace}", secret)
    return installed


def oms_hook_secret(settings, workspace: str) -> str:
    """What the sandbox OMS signs its webhooks to `workspace` with: derived from the installation's key, so a
    restart (which finds the flows and the subscriptions in place) agrees with what both kept."""
    return hmac.new(settings.secret_key.encode(), f"sandbox-oms-webhooks:{workspace}".encode(),
                    hashlib.sha256).hexdigest()


def _signed_by_oms(bundle: dict, secret: str) -> dict:
    paths = {path for _, path in OMS_SUBSCRIPTIONS}
    bundle = copy.deepcopy(bundle)
    for node in bundle["flow"]["nodes"]:
        config = node.get("config") or {}
        if node.get("type") == "event.webhook" and config.get("path") in paths:
            config.update(auth="hmac", hmac_secret=secret, signature_header=OMS_SIGNATURE_HEADER)
    return bundle


def subscribe_oms(sandbox_url: str, hooks_url: str, secret: str | None = None) -> None:
    for topic, path in OMS_SUBSCRIPTIONS:
        hook = {"topic": topic, "address": f"{hooks_url}/{path}", **({"secret": secret} if secret else {})}
        r = requests.post(f"{sandbox_url}/oms/api/webhook-subscriptions", json={"webhook": hook}, timeout=10)
        if r.status_code not in (201, 422):  # 422: subscribed already
            r.raise_for_status()


def _with_values(definitions: dict, values: dict) -> dict:
    """Param definitions whose defaults are the given values, each checked against its type."""
    if not isinstance(values, dict):
        raise ApiError(400, "invalid_argument", "params must be an object", [{"field": "params"}])
    unknown = sorted(set(values) - set(definitions))
    if unknown:
        raise ApiError(400, "unknown_param", f"the template has no parameter {unknown[0]!r}",
                       [{"field": f"params.{k}"} for k in unknown])
    out = {}
    for name, definition in definitions.items():
        if name in values:
            definition = {**definition, "default": values[name]}
        try:  # the schema checks that the default (now the value) has the parameter's type
            definition = ParamSchema().load(definition)
        except ValidationError as err:
            raise ApiError(400, "invalid_param", f"parameter {name}: {err.messages}",
                           [{"field": f"params.{name}"}]) from None
        if definition.get("required") and definition.get("default") is None:
            raise ApiError(400, "missing_param", f"parameter {name} needs a value", [{"field": f"params.{name}"}])
        out[name] = definition
    return out
