"""The register of interchanges sent to trading partners (issue 15): what edi.write sent, with its groups; received
997s (and 999s) matched to those groups by functional id and group control number; and the maintenance sweep
that turns an interchange whose 997 did not come within its partner's window into a dead letter of the run
that sent it (`ack_overdue`, listed by GET /api/v1/dead-letters). Concurrent sweeps of several processes write
each dead letter once: the status UPDATE that claims an interchange and the dead letter commit together."""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from nodes.edi import structure
from runtime.models import SentGroup, SentInterchange, TradingPartner, utcnow
from runtime.store import letters

MAX_GROUPS = 1000  # in one interchange
MAX_LISTED_SETS = 1000  # a group's set ids kept for the page; past it only the count
SWEEP_BATCH = 500  # interchanges turned overdue per transaction
STATUSES = {"A": "accepted", "E": "accepted_with_errors", "P": "partially_accepted", "R": "rejected",
            "M": "rejected", "W": "rejected", "X": "rejected"}  # AK901 / AK501
SI, SG = SentInterchange.__table__, SentGroup.__table__


class InvalidRegister(ValueError):
    """What a node handed to sent() or acknowledged() is not an interchange or a 997: names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _number(value: Any, field: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidRegister(field, f"{field} must be a number, not {value!r}") from None
    if not 0 < number <= 999_999_999:
        raise InvalidRegister(field, f"{field} must be 1 to 999999999")
    return number


def _group(group: Any, index: int) -> dict:
    where = f"groups[{index}]"
    if not isinstance(group, Mapping):
        raise InvalidRegister(where, f"{where} must be an object")
    fid = group.get("functional_id")
    if not isinstance(fid, str) or not 1 <= len(fid.strip()) <= 2:
        raise InvalidRegister(f"{where}.functional_id", f"{where}.functional_id is the GS01 code, e.g. PO")
    sets = group.get("sets", group.get("set_count", 0))
    listed = None
    if isinstance(sets, list):
        listed = [s if isinstance(s, Mapping) else {"set": str(s)} for s in sets[:MAX_LISTED_SETS]]
        count = len(sets)
    elif isinstance(sets, int) and not isinstance(sets, bool) and sets >= 0:
        count = sets
    else:
        raise InvalidRegister(f"{where}.sets", f"{where}.sets is a count or a list of sets")
    return {"functional_id": fid.strip().upper(), "control_number": _number(group.get("control_number"),
                                                                            f"{where}.control_number"),
            "set_count": count, "sets": [dict(s) for s in listed] if listed is not None else None}


def sent(rt, workspace: str, partner: str, control_number: Any, groups: list, *, origin: Mapping | None = None,
         now: dt.datetime | None = None) -> None:
    """Register an interchange sent to `partner`; registering the same control number again (a retried step)
    changes nothing. Its 997 is due `ack.window_minutes` from now when the partner's record expects one."""
    number = _number(control_number, "control_number")
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise InvalidRegister("groups", f"groups is a list of at most {MAX_GROUPS}")
    rows = [_group(g, i) for i, g in enumerate(groups)]
    now = now or utcnow()
    origin = origin or {}
    with rt.engine.begin() as conn:
        expects = conn.execute(select(TradingPartner.ack_expected, TradingPartner.ack_window_s).where(
            TradingPartner.workspace == workspace, TradingPartner.name == partner)).first()
        if expects is None:
            raise KeyError(f"no trading partner named {partner!r} in workspace {workspace!r}")
        waits = bool(expects.ack_expected and rows)
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        interchange = conn.execute(dialect.insert(SI).values(
            workspace=workspace, partner=partner, control_number=number,
            status="awaiting" if waits else "not_expected", run_id=origin.get("run_id"),
            flow_id=origin.get("flow_id"), flow_version=origin.get("flow_version"), node_id=origin.get("node_id"),
            sent_at=now, due_at=now + dt.timedelta(seconds=expects.ack_window_s) if waits else None,
        ).on_conflict_do_nothing().returning(SI.c.id)).scalar()
        if interchange is not None and rows:
            conn.execute(SG.insert(), [{**r, "interchange_id": interchange, "workspace": workspace,
                                        "partner": partner, "status": "sent"} for r in rows])


def read_ack(ack: Any) -> list[dict]:
    """The groups a 997 or 999 record acknowledges: [{"functional_id", "control_number", "code", "counts",
    "sets": [{"set", "control_number", "code"}]}], read from its segments (nodes.edi.structure's body)."""
    if not isinstance(ack, Mapping) or not isinstance(ack.get("body"), Mapping):
        raise InvalidRegister("ack", "an acknowledgement is an edi.read record: {set, group, body}")
    set_id = str(ack.get("set") or "997")
    version = str((ack.get("group") or {}).get("version") or "")
    try:
        segments = structure.from_body(set_id, version, dict(ack["body"]))
    except Exception as err:  # a body edi.read did not write: whatever it is, it is no 997
        raise InvalidRegister("ack.body", f"the acknowledgement's body cannot be read: {err}") from None
    found: list[dict] = []
    group = current = None
    for seg in segments:
        if not isinstance(seg, (list, tuple)) or not seg:
            continue

        def el(i: int) -> str:
            return seg[i].strip() if len(seg) > i and isinstance(seg[i], str) else ""

        if seg[0] == "AK1":
            group = {"functional_id": el(1).upper(), "control_number": el(2), "code": None, "counts": {}, "sets": []}
            found.append(group)
            current = None
        elif seg[0] == "AK2" and group is not None:
            current = {"set": el(1), "control_number": el(2), "code": None}
            group["sets"].append(current)
        elif seg[0] in ("AK5", "IK5") and current is not None:
            current["code"] = el(1)
        elif seg[0] == "AK9" and group is not None:
            group["code"] = el(1)
            group["counts"] = {"included": el(2), "received": el(3), "accepted": el(4)}
    return found


def acknowledged(rt, workspace: str, partner: str, ack: Any, now: dt.datetime | None = None) -> list[dict]:
    """Match a received 997 to the groups we sent `partner`; the matched ones with their new status. An
    interchange whose every group is acknowledged is `acknowledged` (`late` when its window had passed; the
    dead letter it became when overdue is resolved)."""
    now = now or utcnow()
    matched = []
    with rt.engine.begin() as conn:
        for g in read_ack(ack):
            try:
                number = int(g["control_number"])
            except ValueError:
                continue
            row = conn.execute(select(SG.c.id, SG.c.interchange_id).where(
                SG.c.workspace == workspace, SG.c.partner == partner, SG.c.functional_id == g["functional_id"],
                SG.c.control_number == number).order_by(SG.c.id.desc()).limit(1)).first()
            if row is None or not g["code"]:
                continue
            status = STATUSES.get(g["code"], "acknowledged")
            conn.execute(update(SG).where(SG.c.id == row.id).values(
                status=status, ack_code=g["code"][:1], ack={"counts": g["counts"], "sets": g["sets"]},
                acknowledged_at=now))
            open_groups = conn.execute(select(func.count()).select_from(SG).where(
                SG.c.interchange_id == row.interchange_id, SG.c.ack_code.is_(None))).scalar()
            sent_row = conn.execute(select(SI.c.control_number, SI.c.due_at, SI.c.dead_letter_id).where(
                SI.c.id == row.interchange_id)).first()
            if not open_groups:
                conn.execute(update(SI).where(SI.c.id == row.interchange_id).values(
                    status="acknowledged", acknowledged_at=now))
                if sent_row.dead_letter_id is not None:  # it was overdue: the exception is answered now
                    letters.resolve(conn, [sent_row.dead_letter_id])
            matched.append({"interchange_control_number": sent_row.control_number,
                            "functional_id": g["functional_id"], "group_control_number": number, "status": status,
                            "ack_code": g["code"], "sets": g["sets"],
                            "late": sent_row.due_at is not None and now > sent_row.due_at})
    return matched


def sweep_overdue(rt, now: dt.datetime | None = None) -> list[int]:
    """Every awaiting interchange past its due time becomes `overdue`, with a dead letter of the run that sent
    it (maintenance pass). The ids turned overdue; a read alone when none is due."""
    now = now or utcnow()
    due = (SI.c.status == "awaiting") & (SI.c.due_at <= now)
    with rt.reader.connect() as conn:
        if conn.execute(select(SI.c.id).where(due).limit(1)).first() is None:
            return []
    claimed = []
    while True:
        with rt.engine.begin() as conn:
            batch = select(SI.c.id).where(due).order_by(SI.c.id).limit(SWEEP_BATCH).scalar_subquery()
            rows = conn.execute(update(SI).where(due, SI.c.id.in_(batch)).values(status="overdue").returning(
                SI.c.id, SI.c.workspace, SI.c.partner, SI.c.control_number, SI.c.run_id, SI.c.flow_id,
                SI.c.flow_version, SI.c.node_id, SI.c.sent_at, SI.c.due_at)).all()
            if not rows:
                return claimed
            groups: dict[int, list[dict]] = {}
            for g in conn.execute(select(SG.c.interchange_id, SG.c.functional_id, SG.c.control_number,
                                         SG.c.set_count, SG.c.status).where(
                    SG.c.interchange_id.in_([r.id for r in rows])).order_by(SG.c.id)).all():
                groups.setdefault(g.interchange_id, []).append({
                    "functional_id": g.functional_id, "control_number": g.control_number, "sets": g.set_count,
                    "status": g.status})
            ids = letters.add(conn, [_letter(r, groups.get(r.id, [])) for r in rows])
            conn.execute(update(SI).where(SI.c.id == bindparam("interchange")).values(
                dead_letter_id=bindparam("letter")), [{"interchange": r.id, "letter": i} for r, i in zip(rows, ids)])
        claimed += [r.id for r in rows]


def _letter(r, groups: list[dict]) -> dict:
    waiting = [f"{g['functional_id']} {g['control_number']}" for g in groups if g["status"] == "sent"]
    return {"workspace": r.workspace, "run_id": r.run_id or 0, "flow_id": r.flow_id or "",
            "version": r.flow_version or 0, "node_id": r.node_id or "", "error_class": "business",
            "code": "ack_overdue",
            "message": f"interchange {r.control_number:09d} sent to trading partner {r.partner} at "
                       f"{_iso(r.sent_at)} has no 997 for group {', '.join(waiting) or '(none)'}; it was due by "
                       f"{_iso(r.due_at)}",
            "payload": {"trading_partner": r.partner, "interchange_control_number": r.control_number,
                        "sent_at": _iso(r.sent_at), "due_at": _iso(r.due_at), "groups": groups}}


def interchanges(rt, workspace: str, partner: str, *, status: str | None = None, limit: int = 50) -> list[dict]:
    """The partner's sent interchanges, newest first, each with its groups."""
    q = select(SI).where(SI.c.workspace == workspace, SI.c.partner == partner)
    if status:
        q = q.where(SI.c.status == status)
    with rt.read_sessions() as s:
        rows = s.execute(q.order_by(SI.c.id.desc()).limit(limit)).all()
        groups: dict[int, list[dict]] = {}
        if rows:
            for g in s.execute(select(SG).where(SG.c.interchange_id.in_([r.id for r in rows])).order_by(
                    SG.c.id)).all():
                groups.setdefault(g.interchange_id, []).append({
                    "functional_id": g.functional_id, "control_number": g.control_number, "sets": g.set_count,
                    "status": g.status, "ack_code": g.ack_code, "acknowledged_at": _iso(g.acknowledged_at)})
    return [{"control_number": r.control_number, "status": r.status, "run_id": r.run_id, "flow_id": r.flow_id,
             "node_id": r.node_id, "sent_at": _iso(r.sent_at), "due_at": _iso(r.due_at),
             "acknowledged_at": _iso(r.acknowledged_at), "groups": groups.get(r.id, [])} for r in rows]


def _iso(value) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None
