"""Template versions and upgrades (issue 13): a partner publishes a new version of a template (from a flow or a
bundle), and a flow installed from an older version is upgraded by a three-way merge (flows/merge.py) of the
version it was installed from (its recorded base), the customer's flow and lookup rows as they are now, and the new
version. The preview lists what applies and each conflict; the upgrade writes nothing until every conflict has a
resolution, then saves the draft, the lookup rows and the new base in one transaction."""
from __future__ import annotations

from typing import Any

from designer import drafts, templates
from designer.errors import ApiError
from designer.request_context import MAX_ID
from flows import merge
from flows.diff import version_diff
from nodes.expression_tree import tree
from runtime import lookups, secrets, template_versions

MAX_RESOLUTIONS = 10_000


def publish(rt, partner_id: str, actor: str, workspace: str, args: Any) -> dict:
    """Body: {"bundle": {...}}, or {"flow_id": "..."} (the workspace's flow exported as the bundle) with an
    optional "template_id" (default: the template the flow was installed from, else the flow's id)."""
    if not isinstance(args, dict):
        raise ApiError(400, "invalid_argument", "the body is a JSON object", [{"field": "bundle"}])
    if "bundle" in args:
        bundle = args["bundle"]
    elif isinstance(args.get("flow_id"), str):
        bundle = templates.export(rt, workspace, args["flow_id"])
        origin = template_versions.install_of(rt, workspace, args["flow_id"])
        bundle["id"] = args.get("template_id") or (origin["template_id"] if origin else bundle["id"])
    else:
        raise ApiError(400, "invalid_argument", "give a bundle or the id of a flow", [{"field": "bundle"}])
    if isinstance(bundle, dict):
        bundle = {k: v for k, v in bundle.items() if k not in ("version", "publisher")}  # the version is assigned
    bundle = templates.check_bundle(bundle)
    bundle = {**bundle, "flow": secrets.dropped(bundle["flow"])}  # whoever installs it enters the secrets
    floor = max([templates.version_of(b) for b in templates.bundled() if b["id"] == bundle["id"]], default=0)
    version = template_versions.publish(rt, partner_id, bundle, actor, floor)
    return {"template_id": bundle["id"], "version": version,
            "versions": template_versions.versions(rt, partner_id, bundle["id"])}


def preview(rt, workspace: str, flow_id: str, to_version: int | None = None,
            resolutions: Any = None) -> dict:
    """What upgrading the flow to `to_version` (default: the newest) would do: the changes of the new version that
    apply, the conflicts (each with its resolution, when one is given), the merged document's diff against the
    draft, and the lookup rows that change. Writes nothing."""
    plan = _plan(rt, workspace, flow_id, to_version, _resolutions(resolutions))
    return _shown(plan)


def upgrade(rt, workspace: str, flow_id: str, args: Any) -> dict:
    """Body: {"to_version", "revision" (the draft's, as previewed), "resolutions": {conflict id: "ours"|"theirs"}}.
    409 `unresolved_conflicts` (with the preview) while a conflict has no resolution; 409 `conflict` when the
    draft was saved since the preview."""
    if not isinstance(args, dict):
        raise ApiError(400, "invalid_argument", "the body is a JSON object", [{"field": "to_version"}])
    for field in ("to_version", "revision"):
        if isinstance(args.get(field), bool) or not isinstance(args.get(field), int) or not 1 <= args[field] <= MAX_ID:
            raise ApiError(400, "invalid_argument", f"{field} is an integer from 1 to {MAX_ID}", [{"field": field}])
    plan = _plan(rt, workspace, flow_id, args["to_version"], _resolutions(args.get("resolutions")))
    open_ = [c for c in plan["conflicts"] if c["resolution"] is None]
    if open_:
        raise ApiError(409, "unresolved_conflicts", f"{len(open_)} conflict(s) need a resolution (ours or theirs) "
                                                    f"before the upgrade writes anything",
                       [{"field": f"resolutions.{c['id']}", **{k: c[k] for k in ("node", "table", "key", "target")
                                                                if k in c}} for c in open_])
    with templates.one_transaction(rt) as tx:
        f = drafts.save(tx, workspace, flow_id, plan["document"], args["revision"])
        for table, rows in plan["lookups"].items():
            lookups.replace(tx, workspace, table, rows)
        template_versions.record_install(tx, workspace, flow_id, plan["template_id"], plan["to_version"],
                                         plan["base"], upgraded=True)
    return {"flow_id": flow_id, "template_id": plan["template_id"], "from_version": plan["from_version"],
            "version": plan["to_version"], "revision": f.revision, "deployed_version": f.deployed_version,
            "changes_applied": len(plan["changes"]), "conflicts_resolved": len(plan["conflicts"]),
            "lookups_changed": sorted(plan["lookups"])}


def _plan(rt, workspace: str, flow_id: str, to_version: int | None, resolutions: dict) -> dict:
    f = drafts.get(rt, workspace, flow_id)
    origin = template_versions.install_of(rt, workspace, flow_id)
    if origin is None:
        raise ApiError(409, "not_from_template", f"flow {flow_id!r} was not installed from a template, or was "
                                                 f"installed before templates had versions", [{"field": "flow_id"}])
    target = _target(rt, workspace, origin["template_id"], to_version)
    version = templates.version_of(target)
    if to_version is None and version <= origin["version"]:
        raise ApiError(409, "up_to_date", f"flow {flow_id!r} is at version {origin['version']} of template "
                                          f"{origin['template_id']!r}, the newest", [{"field": "to_version"}])
    base = origin["base"]
    values = {k: d.get("default") for k, d in (base["flow"].get("params") or {}).items() if isinstance(d, dict)}
    wanted = set((target["flow"].get("params") or {}))
    new_base = templates.merge_base(target, {k: v for k, v in values.items() if k in wanted}, flow_id)
    ours = secrets.masked(f.document)  # a secret the customer entered stays: drafts.save keeps a masked one
    tables = set(base.get("lookups") or {}) | set(new_base["lookups"])
    our_rows = {t: lookups.rows(rt, workspace, t) for t in sorted(tables)}
    out = merge.merge(base["flow"], ours, new_base["flow"], base.get("lookups") or {}, our_rows,
                      new_base["lookups"], resolutions, tree)
    known = {c["id"] for c in out["conflicts"]}
    unknown = sorted(set(resolutions) - known)
    if unknown:
        raise ApiError(400, "unknown_conflict", f"no conflict {unknown[0]!r} in this upgrade",
                       [{"field": f"resolutions.{k}"} for k in unknown[:20]])
    return {**out, "flow_id": flow_id, "template_id": origin["template_id"], "from_version": origin["version"],
            "to_version": version, "revision": f.revision, "ours": ours, "base": new_base, "our_rows": our_rows}


def _target(rt, workspace: str, template_id: str, version: int | None) -> dict:
    if version is None:
        return templates.get(rt, workspace, template_id)
    partner = template_versions.partner_of(rt, workspace)
    found = template_versions.version_of(rt, partner, template_id, version)
    if found is None:
        found = next((b for b in templates.bundled() if b["id"] == template_id and templates.version_of(b) == version),
                     None)
    if found is None:
        raise ApiError(404, "not_found", f"template {template_id!r} has no version {version}",
                       [{"field": "to_version"}])
    return found


def _resolutions(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_RESOLUTIONS:
        raise ApiError(400, "invalid_argument", f"resolutions is an object of at most {MAX_RESOLUTIONS} conflict "
                                                f"ids -> \"ours\" or \"theirs\"", [{"field": "resolutions"}])
    bad = [k for k, v in value.items() if v not in merge.RESOLUTIONS]
    if bad:
        raise ApiError(400, "invalid_argument", "a resolution is \"ours\" or \"theirs\"",
                       [{"field": f"resolutions.{k}"} for k in bad[:20]])
    return value


def _shown(plan: dict) -> dict:
    rows = {t: {"changed": sorted(k for k in set(r) | set(plan["our_rows"].get(t, {}))
                                  if r.get(k) != plan["our_rows"].get(t, {}).get(k))}
            for t, r in plan["lookups"].items()}
    return {"flow_id": plan["flow_id"], "template_id": plan["template_id"], "from_version": plan["from_version"],
            "to_version": plan["to_version"], "revision": plan["revision"], "changes": plan["changes"],
            "conflicts": plan["conflicts"], "unresolved": sum(c["resolution"] is None for c in plan["conflicts"]),
            "diff": version_diff(plan["ours"], plan["document"], tree), "lookups": rows}
