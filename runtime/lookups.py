"""Cross-reference tables per workspace (OMS SKU -> ERP item, carrier codes, units of measure): what
`transform.lookup` reads through the step context, edited in the UI or imported from CSV."""
from __future__ import annotations

import copy
import csv
import io
import json
import re
from typing import Any

from sqlalchemy import delete, func, select

from flows.graph import spec_for, values_at
from nodes import catalog
from runtime.models import Flow, LookupEntry
from runtime.readthrough import ReadThrough

TABLE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
MAX_KEY = 400
# Rows read per process: transform.lookup reads one per item of every message. Writes here forget them at once;
# a write in another process is seen within FRESH_S.
FRESH_S = 2.0
_rows = ReadThrough(FRESH_S)


class InvalidLookup(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def check_table(table: str) -> None:
    if not isinstance(table, str) or not TABLE.match(table):
        raise InvalidLookup("table", "a table name is 1-100 letters, digits, '_', '.' or '-'")


def _is_key(key: Any) -> bool:
    return isinstance(key, str) and 0 < len(key) <= MAX_KEY and "\x00" not in key  # PostgreSQL text refuses NUL


def get(rt, workspace: str, table: str, key: str) -> Any:
    """The value for `key`, or None when the table has no such row."""
    value = _rows.get((rt.engine.url, rt.settings.database_schema, workspace, table, key),
                      lambda: _get(rt, workspace, table, key))
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value  # the kept one is never handed out


def _get(rt, workspace: str, table: str, key: str) -> Any:
    with rt.sessions() as s:
        return s.scalar(select(LookupEntry.value).where(LookupEntry.workspace == workspace,
                                                        LookupEntry.table == table, LookupEntry.key == key))


def rows(rt, workspace: str, table: str) -> dict[str, Any]:
    with rt.sessions() as s:
        found = s.execute(select(LookupEntry.key, LookupEntry.value).where(
            LookupEntry.workspace == workspace, LookupEntry.table == table).order_by(LookupEntry.key)).all()
    return {k: v for k, v in found}


def tables(rt, workspace: str) -> list[dict]:
    with rt.sessions() as s:
        found = s.execute(select(LookupEntry.table, func.count()).where(LookupEntry.workspace == workspace)
                          .group_by(LookupEntry.table).order_by(LookupEntry.table)).all()
    return [{"table": t, "rows": n} for t, n in found]


def replace(rt, workspace: str, table: str, entries: dict[str, Any]) -> int:
    """Make the table exactly `entries` (key -> value), in one transaction."""
    check_table(table)
    if not isinstance(entries, dict):
        raise InvalidLookup("rows", "rows is an object of key -> value")
    for key in entries:
        if not _is_key(key):
            raise InvalidLookup("rows", f"keys are 1-{MAX_KEY} characters, without NUL")
    with rt.sessions.begin() as s:
        s.execute(delete(LookupEntry).where(LookupEntry.workspace == workspace, LookupEntry.table == table))
        s.add_all([LookupEntry(workspace=workspace, table=table, key=k, value=v) for k, v in entries.items()])
    _rows.forget()
    return len(entries)


def put(rt, workspace: str, table: str, key: str, value: Any) -> None:
    check_table(table)
    if not _is_key(key):
        raise InvalidLookup("key", f"a key is 1-{MAX_KEY} characters, without NUL")
    with rt.sessions.begin() as s:
        row = s.scalar(select(LookupEntry).where(LookupEntry.workspace == workspace, LookupEntry.table == table,
                                                 LookupEntry.key == key))
        if row is None:
            s.add(LookupEntry(workspace=workspace, table=table, key=key, value=value))
        else:
            row.value = value
    _rows.forget()


def remove(rt, workspace: str, table: str, key: str | None = None) -> int:
    with rt.sessions.begin() as s:
        q = delete(LookupEntry).where(LookupEntry.workspace == workspace, LookupEntry.table == table)
        if key is not None:
            q = q.where(LookupEntry.key == key)
        removed = s.execute(q).rowcount
    _rows.forget()
    return removed


def used_by(rt, workspace: str, table: str) -> list[dict]:
    """The flows whose draft documents use `table`: a node field that names a lookup table (transform.lookup's
    `table`), or an expression calling $lookup('<table>', ...); each with the nodes that do."""
    calls = re.compile(r"\$lookup\(\s*(['\"])" + re.escape(table) + r"\1")
    specs = catalog.specs()
    with rt.sessions() as s:
        flows = s.execute(select(Flow.id, Flow.name, Flow.document).where(Flow.workspace == workspace)
                          .order_by(Flow.id)).all()
    found = []
    for flow_id, name, doc in flows:
        nodes = [n for n in (doc or {}).get("nodes") or () if isinstance(n, dict)]
        using = [n.get("id") for n in nodes if _uses(spec_for(specs, n.get("type"), n.get("type_version", 1)),
                                                      n.get("config"), table, calls)]
        if using:
            found.append({"flow_id": flow_id, "name": name, "nodes": using})
    return found


def _uses(spec, config: Any, table: str, calls: re.Pattern) -> bool:
    if spec is None or not isinstance(config, dict):
        return False
    for path, ref in spec.references.items():
        if ref.kind == "lookup" and any(value == table for _, value in values_at(config, path)):
            return True
    return any(isinstance(source, str) and calls.search(source)
               for path in spec.expressions for _, source in values_at(config, path))


def parse_csv(text: str) -> dict[str, Any]:
    """Rows from CSV with a header: the first column is the key; with two columns the value is the
    second cell, with more it is an object of the other columns. Blank lines are skipped."""
    try:
        return _parse_csv(text)
    except csv.Error as err:  # a bare carriage return inside a field, a field past the size limit
        raise InvalidLookup("csv", f"the CSV cannot be read: {err}") from None


def _parse_csv(text: str) -> dict[str, Any]:
    reader = csv.reader(io.StringIO(text, newline=""))  # the csv module's own line endings, \r alone included
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidLookup("csv", "the CSV is empty; it needs a header row") from None
    header = [h.strip() for h in header]
    if len(header) < 2 or not all(header):
        raise InvalidLookup("csv", "the header needs a key column and at least one value column, all named")
    entries: dict[str, Any] = {}
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InvalidLookup("csv", f"line {number} has {len(row)} cells; the header has {len(header)}")
        key = row[0].strip()
        if not key:
            raise InvalidLookup("csv", f"line {number} has no key")
        if key in entries:
            raise InvalidLookup("csv", f"line {number}: key {key!r} appears twice")
        cells = [c.strip() for c in row[1:]]
        entries[key] = cells[0] if len(cells) == 1 else dict(zip(header[1:], cells))
    return entries


def to_csv(entries: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    objects = [v for v in entries.values() if isinstance(v, dict)]
    columns = list(dict.fromkeys(k for v in objects for k in v)) if objects else ["value"]
    writer.writerow(["key", *columns])
    for key, value in entries.items():
        if isinstance(value, dict):
            writer.writerow([key, *(_cell(value.get(c)) for c in columns)])
        else:
            writer.writerow([key, _cell(value)])
    return out.getvalue()


def _cell(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)
