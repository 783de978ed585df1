"""What a workspace holds in the database, row by row: tests compare it before and after a request that must
change nothing (a refused template import)."""
from __future__ import annotations

from sqlalchemy import select

from runtime.models import Base


def snapshot(rt, workspace: str) -> dict[str, list[tuple]]:
    """Every row of the workspace in every table that has a workspace column, by table, in key order."""
    out = {}
    with rt.sessions() as s:
        for mapper in Base.registry.mappers:
            table = mapper.local_table
            if "workspace" in table.c:
                rows = s.execute(select(table).where(table.c.workspace == workspace)
                                 .order_by(*table.primary_key.columns)).all()
                out[table.name] = [tuple(r) for r in rows]
    return out
