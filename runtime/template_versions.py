"""Template versions and where installed flows came from (issue 13): a partner's published versions of its
templates (the newest is what its workspaces' galleries offer), and per installed flow the template, version and
merge base (runtime/template_models.py). The bundled templates are version 1 and live in flows/templates/."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from runtime.models import Flow, Workspace, utcnow
from runtime.template_models import TemplateInstall, TemplateVersion

MAX_VERSION = 1_000_000


def partner_of(rt, workspace: str) -> str:
    with rt.sessions() as s:
        return s.scalar(select(Workspace.partner_id).where(Workspace.id == workspace)) or "default"


def publish(rt, partner_id: str, bundle: dict, actor: str, floor: int = 0) -> int:
    """Store `bundle` as the next version of its template for the partner: one past the newest published, past
    every version of it installed in the partner's workspaces (an imported bundle's own), and past `floor` (the
    bundled template's version when it has that id). Two publishes racing: the key decides and the loser takes
    the next number."""
    for _ in range(5):
        with rt.sessions() as s:
            newest = s.scalar(select(func.max(TemplateVersion.version)).where(
                TemplateVersion.partner_id == partner_id, TemplateVersion.template_id == bundle["id"])) or 0
            installed = s.scalar(select(func.max(TemplateInstall.version)).join(
                Workspace, Workspace.id == TemplateInstall.workspace).where(
                Workspace.partner_id == partner_id, TemplateInstall.template_id == bundle["id"])) or 0
        version = max(newest, installed, floor) + 1
        try:
            with rt.sessions.begin() as s:
                s.add(TemplateVersion(partner_id=partner_id, template_id=bundle["id"], version=version,
                                      name=bundle.get("name") or bundle["id"], description=bundle.get("description") or "",
                                      bundle={**bundle, "version": version}, created_by=actor, created_at=utcnow()))
            return version
        except IntegrityError:
            continue
    raise RuntimeError(f"could not publish {bundle['id']}: too many concurrent publishes")


def newest(rt, partner_id: str) -> dict[str, dict]:
    """template id -> the bundle of its newest published version, for the partner."""
    with rt.sessions() as s:
        top = (select(TemplateVersion.template_id, func.max(TemplateVersion.version).label("v"))
               .where(TemplateVersion.partner_id == partner_id).group_by(TemplateVersion.template_id).subquery())
        rows = s.scalars(select(TemplateVersion).join(top, (TemplateVersion.template_id == top.c.template_id)
                                                      & (TemplateVersion.version == top.c.v))
                         .where(TemplateVersion.partner_id == partner_id)
                         .order_by(TemplateVersion.template_id)).all()
        return {r.template_id: r.bundle for r in rows}


def version_of(rt, partner_id: str, template_id: str, version: int) -> dict | None:
    with rt.sessions() as s:
        row = s.get(TemplateVersion, (partner_id, template_id, version))
        return row.bundle if row is not None else None


def versions(rt, partner_id: str, template_id: str) -> list[dict]:
    with rt.sessions() as s:
        rows = s.execute(select(TemplateVersion.version, TemplateVersion.created_by, TemplateVersion.created_at)
                         .where(TemplateVersion.partner_id == partner_id, TemplateVersion.template_id == template_id)
                         .order_by(TemplateVersion.version)).all()
    return [{"version": v, "published_by": by, "published_at": at.isoformat(timespec="seconds") + "Z"}
            for v, by, at in rows]


def record_install(rt, workspace: str, flow_id: str, template_id: str, version: int, base: dict,
                   upgraded: bool = False) -> None:
    """Where the flow came from now, and its merge base; written in the caller's transaction when `rt` is one."""
    with rt.sessions.begin() as s:
        row = s.get(TemplateInstall, (workspace, flow_id))
        now = utcnow()
        if row is None:
            s.add(TemplateInstall(workspace=workspace, flow_id=flow_id, template_id=template_id, version=version,
                                  base=base, installed_at=now, upgraded_at=None))
        else:
            row.template_id, row.version, row.base = template_id, version, base
            row.upgraded_at = now if upgraded else None
            if not upgraded:
                row.installed_at = now


def install_of(rt, workspace: str, flow_id: str) -> dict[str, Any] | None:
    with rt.sessions() as s:
        row = s.get(TemplateInstall, (workspace, flow_id))
        if row is None or s.get(Flow, (workspace, flow_id)) is None:
            return None
        return {"flow_id": row.flow_id, "template_id": row.template_id, "version": row.version, "base": row.base}


def installs(rt, workspace: str) -> list[dict]:
    """The workspace's flows installed from a template (those still there), by template."""
    with rt.sessions() as s:
        rows = s.execute(select(TemplateInstall.flow_id, TemplateInstall.template_id, TemplateInstall.version)
                         .join(Flow, (Flow.workspace == TemplateInstall.workspace) & (Flow.id == TemplateInstall.flow_id))
                         .where(TemplateInstall.workspace == workspace).order_by(TemplateInstall.flow_id)).all()
    return [{"flow_id": f, "template_id": t, "version": v} for f, t, v in rows]
