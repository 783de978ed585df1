"""The tables of template versions (issue 13): the versions a partner publishes of its templates, seen in the
gallery of every workspace of the partner; and per installed flow, which template and version it came from and the
document and lookup tables it was installed from, the base of a three-way upgrade (flows/merge.py). Imported into
runtime.models' metadata by designer/template_upgrades.py; a workspace's deletion removes its installs (the
`workspace` column, runtime/tenancy.py), a partner's its versions (the foreign key)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from runtime.models import Base, utcnow


class TemplateVersion(Base):
    """One published version of a partner's template: the whole bundle as it was published."""
    __tablename__ = "template_versions"
    partner_id: Mapped[str] = mapped_column(String(64), ForeignKey("partners.id", ondelete="CASCADE"),
                                            primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    bundle: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TemplateInstall(Base):
    """Where an installed flow came from: template, version, and `base` ({"flow", "lookups"}: the document as
    installed, secrets left out, and the template's lookup tables), the merge base of its next upgrade."""
    __tablename__ = "template_installs"
    workspace: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    base: Mapped[dict] = mapped_column(JSON)
    installed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    upgraded_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
