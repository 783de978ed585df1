"""Alerts (issue 14): rules a workspace sets on its runs, each evaluated by one process at a time in the maintenance
pass, and the alerts they raise, one open per rule and key (the dedupe: a repeat bumps its count and last seen,
and sends nothing), until the rule finds it cleared or an operator resolves it.

Kinds: `failures` (N dead letters of an error class within a window), `latency` (runs slower than a threshold
within a window), `queue_age` (a runnable run queued longer than a threshold) and `absence` (for each document
indexed with event A older than the window, an entry of event B sharing its key: runtime/threads.py; or, without
A, an event B at least once per window). Times are the runtime's clock (runtime/clock.py), so a test moves them
with the clock file. What each kind finds is runtime/alert_kinds.py; deliveries are rows runtime/alert_delivery.py
sends, retried with backoff.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from runtime import alert_delivery, alert_kinds, clock
from runtime.alert_models import Alert, AlertDelivery, AlertRule
from runtime.models import Workspace

if TYPE_CHECKING:
    from runtime.wiring import Runtime

log = logging.getLogger(__name__)
KINDS = ("failures", "latency", "queue_age", "absence")
STATUSES = ("firing", "acknowledged", "resolved")
OPEN = ("firing", "acknowledged")
LEASE_S = 120.0
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
MAX_RULES = 100  # per workspace
MAX_KEYS = 200  # alerts one evaluation opens or keeps at most
DAY = 86400
RULE = AlertRule.__table__


InvalidRule = alert_delivery.Invalid  # input the API answers with 400, its field named: "params.window_s"


# -- rules -------------------------------------------------------------------------------------------------------

def check(rt: Runtime, workspace: str, body: Any) -> dict:
    """A rule as it is stored, from the API's body: every field checked, webhook targets against the workspace's
    egress policy."""
    if not isinstance(body, dict):
        raise InvalidRule("", "the body is a JSON object")
    _only(body, ("name", "kind", "params", "channels", "enabled", "every_s"), "")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise InvalidRule("name", "name is 1-200 characters of text on one line")
    kind = body.get("kind")
    if kind not in KINDS:
        raise InvalidRule("kind", f"kind is one of {', '.join(KINDS)}")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise InvalidRule("enabled", "enabled is true or false")
    return {"name": name.strip(), "kind": kind, "params": _params(kind, body.get("params")),
            "channels": alert_delivery.check_channels(rt, workspace, body.get("channels")), "enabled": enabled,
            "every_s": _int(body.get("every_s", 60), "every_s", 10, DAY)}


def _params(kind: str, params: Any) -> dict:
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidRule("params", "params is an object")
    if kind == "absence":
        _only(params, ("after_label", "after_flow", "expect_label", "expect_flow", "key_kind", "window_s",
                       "lookback_s"), "params")
        out = {k: _text(params[k], f"params.{k}", 100) for k in ("after_label", "after_flow", "expect_label",
                                                                "expect_flow", "key_kind") if params.get(k)}
        if ("expect_label" in out) == ("expect_flow" in out):
            raise InvalidRule("params.expect_label", "an absence rule names the event expected: expect_label (a "
                                                     "flow's thread label) or expect_flow")
        if "after_label" in out and "after_flow" in out:
            raise InvalidRule("params.after_label", "after_label or after_flow, not both")
        keyed = "after_label" in out or "after_flow" in out
        if keyed and "key_kind" not in out:
            raise InvalidRule("params.key_kind", "key_kind names the key both events share, e.g. po")
        if not keyed and "key_kind" in out:
            raise InvalidRule("params.key_kind", "key_kind needs after_label or after_flow")
        out["window_s"] = _int(params.get("window_s"), "params.window_s", 60, 30 * DAY)
        if keyed:
            out["lookback_s"] = _int(params.get("lookback_s", 7 * DAY), "params.lookback_s", out["window_s"],
                                     90 * DAY)
        return out
    if kind == "failures":
        _only(params, ("count", "window_s", "error_class", "code", "flow_id"), "params")
        out = {k: _text(params[k], f"params.{k}", 64) for k in ("error_class", "code", "flow_id") if params.get(k)}
        out["count"] = _int(params.get("count", 1), "params.count", 1, 100_000)
        out["window_s"] = _int(params.get("window_s"), "params.window_s", 60, 7 * DAY)
        return out
    if kind == "latency":
        _only(params, ("threshold_s", "window_s", "count", "flow_id"), "params")
        out = {"flow_id": _text(params["flow_id"], "params.flow_id", 64)} if params.get("flow_id") else {}
        out["threshold_s"] = _int(params.get("threshold_s"), "params.threshold_s", 1, DAY)
        out["window_s"] = _int(params.get("window_s"), "params.window_s", 60, 7 * DAY)
        out["count"] = _int(params.get("count", 1), "params.count", 1, 100_000)
        return out
    _only(params, ("threshold_s",), "params")
    return {"threshold_s": _int(params.get("threshold_s"), "params.threshold_s", 1, 7 * DAY)}


def create(rt: Runtime, workspace: str, body: Any) -> dict:
    values = check(rt, workspace, body)
    now = clock.now(rt.settings)
    try:
        with rt.sessions.begin() as s:
            count = s.execute(select(func.count()).select_from(AlertRule)
                              .where(AlertRule.workspace == workspace)).scalar()
            if count >= MAX_RULES:
                raise InvalidRule("", f"a workspace has at most {MAX_RULES} alert rules")
            rule = AlertRule(workspace=workspace, created_at=now, updated_at=now, **values)
            s.add(rule)
            s.flush()
            rule_id = rule.id
    except IntegrityError:
        raise InvalidRule("name", f"a rule named {values['name']!r} exists") from None
    return get_rule(rt, workspace, rule_id)


def update_rule(rt: Runtime, workspace: str, rule_id: int, body: Any) -> dict:
    """Replace the rule whole (its open alerts stay; the next evaluation runs at once)."""
    values = check(rt, workspace, body)
    try:
        with rt.sessions.begin() as s:
            rule = s.get(AlertRule, rule_id)
            if rule is None or rule.workspace != workspace:
                raise LookupError(rule_id)
            for key, value in values.items():
                setattr(rule, key, value)
            rule.due_at, rule.updated_at = None, clock.now(rt.settings)
    except IntegrityError:
        raise InvalidRule("name", f"a rule named {values['name']!r} exists") from None
    return get_rule(rt, workspace, rule_id)


def delete_rule(rt: Runtime, workspace: str, rule_id: int) -> None:
    """The rule, its alerts and their deliveries."""
    with rt.sessions.begin() as s:
        rule = s.get(AlertRule, rule_id)
        if rule is None or rule.workspace != workspace:
            raise LookupError(rule_id)
        alert_ids = select(Alert.id).where(Alert.rule_id == rule_id).scalar_subquery()
        s.execute(delete(AlertDelivery).where(AlertDelivery.alert_id.in_(alert_ids)))
        s.execute(delete(Alert).where(Alert.rule_id == rule_id))
        s.delete(rule)


def get_rule(rt: Runtime, workspace: str, rule_id: int) -> dict:
    with rt.read_sessions() as s:
        rule = s.get(AlertRule, rule_id)
        if rule is None or rule.workspace != workspace:
            raise LookupError(rule_id)
        return _rule(rule)


def rules(rt: Runtime, workspace: str) -> list[dict]:
    with rt.read_sessions() as s:
        return [_rule(r) for r in s.scalars(select(AlertRule).where(AlertRule.workspace == workspace)
                                            .order_by(AlertRule.id))]


def _rule(r: AlertRule) -> dict:
    return {"id": r.id, "name": r.name, "kind": r.kind, "params": r.params, "channels": r.channels,
            "enabled": r.enabled, "every_s": r.every_s, "evaluated_at": _iso(r.evaluated_at), "error": r.error,
            "created_at": _iso(r.created_at), "updated_at": _iso(r.updated_at)}


# -- evaluation --------------------------------------------------------------------------------------------------

def maintain(rt: Runtime) -> None:
    """The maintenance pass's part: evaluate the rules that are due, then send the deliveries that are due."""
    evaluate_due(rt)
    alert_delivery.deliver_due(rt)


def evaluate_due(rt: Runtime, now: dt.datetime | None = None, holder: str = HOLDER) -> list[int]:
    """Evaluate every enabled rule of an active workspace that is due and not evaluated elsewhere; the ids of the
    rules evaluated."""
    now = now or clock.now(rt.settings)
    with rt.read_sessions() as s:  # read first: a pass with nothing due writes nothing
        due = s.execute(select(RULE.c.id).join(Workspace, Workspace.id == RULE.c.workspace).where(
            Workspace.status != "suspended", RULE.c.enabled.is_(True), (RULE.c.due_at.is_(None)) | (RULE.c.due_at <= now),
            (RULE.c.holder.is_(None)) | (RULE.c.lease_until < now)).order_by(RULE.c.id)).scalars().all()
    done = []
    for rule_id in due:
        if _take(rt, rule_id, holder, now):
            evaluate(rt, rule_id, now, holder)
            done.append(rule_id)
    return done


def evaluate(rt: Runtime, rule_id: int, now: dt.datetime, holder: str = HOLDER) -> None:
    """One evaluation of a rule whose lease `holder` holds: open, bump and resolve its alerts; never raises."""
    error, every_s = None, 60
    try:
        with rt.read_sessions() as s:
            rule = s.get(AlertRule, rule_id)
            workspace, kind, params, every_s = rule.workspace, rule.kind, dict(rule.params), rule.every_s
        found, cleared = alert_kinds.FINDERS[kind](rt, workspace, params, now)
        _reconcile(rt, rule_id, found, cleared, now)
    except Exception as err:  # noqa: BLE001 - one rule's failure must neither stop the pass nor keep its lease
        log.exception("alert rule %s failed", rule_id)
        error = f"{type(err).__name__}: {err}"[:1000]
    with rt.sessions.begin() as s:
        s.execute(update(RULE).where(RULE.c.id == rule_id, RULE.c.holder == holder).values(
            holder=None, lease_until=None, due_at=now + dt.timedelta(seconds=every_s), evaluated_at=now,
            error=error))


def _take(rt: Runtime, rule_id: int, holder: str, now: dt.datetime) -> bool:
    with rt.sessions.begin() as s:
        return s.execute(update(RULE).where(
            RULE.c.id == rule_id, RULE.c.enabled.is_(True), (RULE.c.holder.is_(None)) | (RULE.c.lease_until < now),
            (RULE.c.due_at.is_(None)) | (RULE.c.due_at <= now)).values(
            holder=holder, lease_until=now + dt.timedelta(seconds=LEASE_S))).rowcount == 1


def _reconcile(rt: Runtime, rule_id: int, found: dict[str, dict], cleared, now: dt.datetime) -> None:
    """Open an alert (and its deliveries) per key found without one, bump those open, resolve those `cleared`
    says cleared (a function of the open keys not found)."""
    with rt.sessions.begin() as s:
        rule = s.get(AlertRule, rule_id)
        open_ = {a.key: a for a in s.scalars(select(Alert).where(Alert.rule_id == rule_id,
                                                                 Alert.open_key.is_not(None)))}
        for key, detail in list(found.items())[:MAX_KEYS]:
            alert = open_.get(key)
            if alert is not None:
                alert.count, alert.last_seen, alert.detail = alert.count + 1, now, detail
                continue
            alert = Alert(workspace=rule.workspace, rule_id=rule_id, key=key, open_key=key, status="firing",
                          detail=detail, count=1, first_seen=now, last_seen=now)
            s.add(alert)
            s.flush()
            _deliveries(s, rule, alert, "fired", now)
        for key in cleared(sorted(set(open_) - set(found))):
            alert = open_[key]
            alert.status, alert.open_key, alert.resolved_at, alert.resolved_by = "resolved", None, now, "rule"
            _deliveries(s, rule, alert, "resolved", now)


def _deliveries(s, rule: AlertRule, alert: Alert, event: str, now: dt.datetime) -> None:
    channels = rule.channels or {}
    for channel, targets in (("webhook", channels.get("webhooks") or []), ("email", channels.get("emails") or [])):
        for target in targets:
            s.add(AlertDelivery(workspace=rule.workspace, alert_id=alert.id, event=event, channel=channel,
                                target=target, status="pending", attempts=0, next_at=now, created_at=now))


# -- alerts ------------------------------------------------------------------------------------------------------

def alerts(rt: Runtime, workspace: str, *, status: str | None = None, rule_id: int | None = None,
           limit: int = 100) -> list[dict]:
    """Alerts newest first, each with its rule and deliveries."""
    where = [Alert.workspace == workspace]
    if status is not None:
        where.append(Alert.status == status)
    if rule_id is not None:
        where.append(Alert.rule_id == rule_id)
    with rt.read_sessions() as s:
        rows = s.execute(select(Alert, AlertRule.name, AlertRule.kind).join(AlertRule, AlertRule.id == Alert.rule_id)
                         .where(*where).order_by(Alert.id.desc()).limit(max(1, min(limit, 500)))).all()
        sent = alert_delivery.of(s, [a.id for a, _, _ in rows])
    return [_alert(a, name, kind, sent.get(a.id, [])) for a, name, kind in rows]


def get_alert(rt: Runtime, workspace: str, alert_id: int) -> dict:
    with rt.read_sessions() as s:
        row = s.execute(select(Alert, AlertRule.name, AlertRule.kind).join(AlertRule, AlertRule.id == Alert.rule_id)
                        .where(Alert.id == alert_id, Alert.workspace == workspace)).first()
        if row is None:
            raise LookupError(alert_id)
        return _alert(*row, alert_delivery.of(s, [alert_id]).get(alert_id, []))


def acknowledge(rt: Runtime, workspace: str, alert_id: int, who: str) -> dict:
    """An operator has seen it: it stays open (the rule still resolves it) and is counted on."""
    now = clock.now(rt.settings)
    with rt.sessions.begin() as s:
        alert = s.get(Alert, alert_id)
        if alert is None or alert.workspace != workspace:
            raise LookupError(alert_id)
        if alert.status == "firing":
            alert.status, alert.acknowledged_at, alert.acknowledged_by = "acknowledged", now, who[:200]
    return get_alert(rt, workspace, alert_id)


def resolve(rt: Runtime, workspace: str, alert_id: int, who: str) -> dict:
    """An operator closes it; should the rule still find its key, a new alert opens at its next evaluation."""
    now = clock.now(rt.settings)
    with rt.sessions.begin() as s:
        alert = s.get(Alert, alert_id)
        if alert is None or alert.workspace != workspace:
            raise LookupError(alert_id)
        if alert.status in OPEN:
            alert.status, alert.open_key, alert.resolved_at, alert.resolved_by = "resolved", None, now, who[:200]
    return get_alert(rt, workspace, alert_id)


def _alert(a: Alert, rule_name: str, rule_kind: str, deliveries: list[dict]) -> dict:
    return {"id": a.id, "rule_id": a.rule_id, "rule_name": rule_name, "kind": rule_kind, "key": a.key,
            "status": a.status, "detail": a.detail, "count": a.count, "first_seen": _iso(a.first_seen),
            "last_seen": _iso(a.last_seen), "acknowledged_at": _iso(a.acknowledged_at),
            "acknowledged_by": a.acknowledged_by, "resolved_at": _iso(a.resolved_at), "resolved_by": a.resolved_by,
            "deliveries": deliveries}


def _int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRule(field, f"{field} is a whole number from {low:,} to {high:,}")
    return value


def _text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit or any(ord(c) < 32 for c in value):
        raise InvalidRule(field, f"{field} is 1-{limit} characters of text on one line")
    return value.strip()


def _only(value: dict, keys: tuple[str, ...], field: str) -> None:
    unknown = sorted(set(value) - set(keys))
    if unknown:
        where = f"{field}.{unknown[0]}" if field else unknown[0]
        raise InvalidRule(where, f"{field or 'a rule'} has no field {unknown[0]!r}")


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None
