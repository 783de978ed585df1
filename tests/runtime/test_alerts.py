"""Alert rules of each kind on both backends: what fires, the dedupe (one open alert per rule and key, repeats
counted and not delivered again), resolution when the condition clears, one evaluation per rule at a time, and
deliveries retried with backoff until they succeed or, bounded, fail visibly; destinations under egress."""
from __future__ import annotations

import datetime as dt
import socket

import pytest

from runtime import alert_delivery, alerts, egress
from runtime.alert_models import SmtpSettings
from runtime.models import DeadLetter, Run, Workspace, utcnow
from runtime.thread_models import ThreadEntry
from support import wait_for
from support.services import ONLY_EMBEDDED

MIN = dt.timedelta(minutes=1)


def rule(store, workspace, http_target, kind, params, **extra):
    return alerts.create(store, workspace, {"name": f"{kind} rule", "kind": kind, "params": params,
                                            "channels": {"webhooks": [f"{http_target.url}/hook"]}, **extra})


def run(store, workspace, flow_id="f1", status="succeeded", created=None, finished=None, not_before=None) -> int:
    with store.sessions.begin() as s:
        row = Run(workspace=workspace, flow_id=flow_id, version=1, status=status, trigger="manual",
                  created_at=created or utcnow(), finished_at=finished, not_before=not_before)
        s.add(row)
        s.flush()
        return row.id


def dead_letter(store, workspace, error_class, at, code="timeout"):
    with store.sessions.begin() as s:
        s.add(DeadLetter(workspace=workspace, run_id=1, flow_id="f1", version=1, node_id="n", error_class=error_class,
                         code=code, message="boom", created_at=at))


def pass_at(store, workspace, now):
    """A maintenance pass's part at `now`: the workspace's alerts after it, newest first."""
    alerts.evaluate_due(store, now)
    alert_delivery.deliver_due(store, now)
    return alerts.alerts(store, workspace)


def test_failures_fire_per_error_class_once_count_on_and_resolve_when_the_window_passes(store, workspace, http_target):
    now = utcnow()
    rule(store, workspace, http_target, "failures", {"count": 3, "window_s": 600})
    for i in range(3):
        dead_letter(store, workspace, "technical", now - i * MIN)
    for i in range(2):
        dead_letter(store, workspace, "business", now - i * MIN, code="unknown_sku")
    [fired] = pass_at(store, workspace, now)
    assert (fired["key"], fired["status"], fired["detail"]["count"]) == ("technical", "firing", 3)
    assert [r["body"]["event"] for r in http_target.requests] == ["alert.fired"]
    # still three within ten minutes: the same alert, nobody told again
    [again] = pass_at(store, workspace, now + 2 * MIN)
    assert (again["id"], again["count"]) == (fired["id"], 2) and len(http_target.requests) == 1
    [done] = pass_at(store, workspace, now + 12 * MIN)
    assert (done["status"], done["resolved_by"]) == ("resolved", "rule")
    assert [r["body"]["event"] for r in http_target.requests] == ["alert.fired", "alert.resolved"]
    dead_letter(store, workspace, "technical", now + 13 * MIN)  # it happens again: a new alert
    for i in range(2):
        dead_letter(store, workspace, "technical", now + 13 * MIN)
    assert [(a["key"], a["status"]) for a in pass_at(store, workspace, now + 14 * MIN)] == [
        ("technical", "firing"), ("technical", "resolved")]


def test_latency_fires_per_flow_with_enough_slow_runs(store, workspace, http_target):
    now = utcnow()
    rule(store, workspace, http_target, "latency", {"threshold_s": 60, "window_s": 3600, "count": 2})
    for flow, took in (("slow", 120), ("slow", 90), ("slow", 5), ("once", 300), ("fast", 1)):
        run(store, workspace, flow, created=now - dt.timedelta(seconds=took + 10),
            finished=now - dt.timedelta(seconds=10))
    [fired] = pass_at(store, workspace, now)
    assert (fired["key"], fired["detail"]["slow_runs"], fired["detail"]["slowest_s"]) == ("slow", 2, 120.0)
    [done] = pass_at(store, workspace, now + 2 * dt.timedelta(hours=1))
    assert done["status"] == "resolved"


def test_queue_age_counts_runnable_runs_only_and_resolves_when_the_queue_moves(store, workspace, http_target):
    now = utcnow()
    rule(store, workspace, http_target, "queue_age", {"threshold_s": 300})
    run(store, workspace, status="queued", created=now - 30 * MIN, not_before=now + 10 * MIN)  # parked: on purpose
    assert pass_at(store, workspace, now) == []
    stuck = run(store, workspace, status="queued", created=now - 10 * MIN)
    [fired] = pass_at(store, workspace, now + MIN)
    assert (fired["key"], fired["detail"]["oldest_run"]) == ("queue", stuck)
    with store.sessions.begin() as s:
        s.get(Run, stuck).status = "succeeded"
    assert pass_at(store, workspace, now + 2 * MIN)[0]["status"] == "resolved"


def test_absence_of_a_periodic_event_fires_and_resolves_when_it_happens(store, workspace, http_target):
    now = utcnow()
    rule(store, workspace, http_target, "absence", {"expect_label": "Inventory snapshot", "window_s": 86400})
    [fired] = pass_at(store, workspace, now)
    assert (fired["key"], fired["status"]) == ("every", "firing")
    done = run(store, workspace, "snapshot")
    with store.sessions.begin() as s:
        s.add(ThreadEntry(workspace=workspace, kind="day", value="2026-11-28", run_id=done, flow_id="snapshot",
                          label="Inventory snapshot", at=now + MIN))
    assert pass_at(store, workspace, now + 2 * MIN)[0]["status"] == "resolved"


def test_absence_per_document_keeps_its_alert_until_the_late_event_arrives(store, workspace, http_target):
    now = utcnow()
    rule(store, workspace, http_target, "absence", {"after_label": "Released", "expect_label": "Confirmed",
                                                    "key_kind": "po", "window_s": 3600, "lookback_s": 7200})
    for po, at in (("PO-1", now - 90 * MIN), ("PO-2", now - 80 * MIN), ("PO-3", now - 10 * MIN)):
        with store.sessions.begin() as s:
            s.add(ThreadEntry(workspace=workspace, kind="po", value=po, run_id=run(store, workspace), flow_id="rel",
                              label="Released", at=at))
    with store.sessions.begin() as s:  # PO-2 was confirmed; PO-3 is within its window
        s.add(ThreadEntry(workspace=workspace, kind="po", value="PO-2", run_id=run(store, workspace), flow_id="conf",
                          label="Confirmed", at=now - 5 * MIN))
    [fired] = pass_at(store, workspace, now)
    assert fired["key"] == "PO-1"
    # PO-1's release is past the lookback now, but its alert stays open: nothing confirmed it; PO-3's window ended
    assert [(a["key"], a["status"]) for a in pass_at(store, workspace, now + 60 * MIN)] == [("PO-3", "firing"),
                                                                                ("PO-1", "firing")]
    with store.sessions.begin() as s:
        s.add(ThreadEntry(workspace=workspace, kind="po", value="PO-1", run_id=run(store, workspace), flow_id="conf",
                          label="Confirmed", at=now + 65 * MIN))
    assert [(a["key"], a["status"], a["count"]) for a in pass_at(store, workspace, now + 70 * MIN)] == [
        ("PO-3", "firing", 2), ("PO-1", "resolved", 1)]
    assert [r["body"]["alert"]["key"] for r in http_target.requests] == ["PO-1", "PO-3", "PO-1"]


def test_a_rule_is_evaluated_by_one_process_at_a_time(store, workspace, http_target):
    now = utcnow()
    made = rule(store, workspace, http_target, "queue_age", {"threshold_s": 60})
    assert alerts._take(store, made["id"], "other-process", now)
    assert alerts.evaluate_due(store, now, holder="this-process") == []
    assert alerts.evaluate_due(store, now + dt.timedelta(seconds=alerts.LEASE_S + 1), holder="this-process") == [
        made["id"]]  # the other process died: its lease expired
    assert alerts.evaluate_due(store, now + dt.timedelta(seconds=alerts.LEASE_S + 2)) == []  # due again in 60 s
    with store.sessions.begin() as s:
        s.get(Workspace, workspace).status = "suspended"
    assert alerts.evaluate_due(store, now + dt.timedelta(hours=1)) == []  # a suspended workspace's rules rest


def test_a_failing_webhook_is_retried_with_backoff_and_given_up_visibly(store, workspace, http_target):
    now = utcnow()
    http_target.script = [(503, {"busy": True}, {}), (200, {"ok": True}, {})]
    rule(store, workspace, http_target, "queue_age", {"threshold_s": 60})
    run(store, workspace, status="queued", created=now - 10 * MIN)
    [alert] = pass_at(store, workspace, now)
    [d] = alert["deliveries"]
    assert (d["status"], d["attempts"], d["last_error"]) == ("pending", 1, "the webhook answered 503")
    assert alert_delivery.deliver_due(store, now + dt.timedelta(seconds=10)) == 0  # backing off
    assert alert_delivery.deliver_due(store, now + dt.timedelta(seconds=31)) == 1
    assert alerts.alerts(store, workspace)[0]["deliveries"][0]["status"] == "sent"
    assert len(http_target.requests) == 2

    http_target.script = [(500, {}, {})]
    with store.sessions.begin() as s:
        s.query(Run).filter(Run.workspace == workspace).update({"status": "succeeded"})
    when = now + MIN
    alerts.evaluate_due(store, when)
    for _ in range(alert_delivery.MAX_ATTEMPTS):
        alert_delivery.deliver_due(store, when)
        when += dt.timedelta(seconds=alert_delivery.MAX_BACKOFF_S)
    resolved = alerts.alerts(store, workspace)[0]["deliveries"][1]
    assert (resolved["event"], resolved["status"], resolved["attempts"]) == ("resolved", "failed",
                                                                              alert_delivery.MAX_ATTEMPTS)
    assert resolved["last_error"] == "the webhook answered 500"
    assert alert_delivery.deliver_due(store, when + dt.timedelta(days=1)) == 0


def test_destinations_go_through_the_egress_policy(store, workspace, http_target):
    with pytest.raises(alerts.InvalidRule) as err:
        alerts.create(store, workspace, {"name": "r", "kind": "queue_age", "params": {"threshold_s": 60},
                                         "channels": {"webhooks": ["http://127.0.0.1:9/x"]}})
    assert err.value.field == "channels.webhooks[0]" and "egress" in err.value.message
    # mail to an SMTP server on an address the policy does not allow is refused at delivery, visibly
    partner = store_partner(store, workspace)
    alert_delivery.save_smtp(store, partner, {"host": "127.0.0.1", "port": 2525, "tls": "none", "from": "a@b.test",
                                              "username": "u", "password": "s3cret-pass"})
    shown = alert_delivery.smtp_of(store, partner)
    assert shown["password"] == alert_delivery.MASK
    with store.read_sessions() as s:
        assert "s3cret-pass" not in s.get(SmtpSettings, partner).password
    alerts.create(store, workspace, {"name": "m", "kind": "queue_age", "params": {"threshold_s": 60},
                                     "channels": {"emails": ["ops@b.test"]}})
    now = utcnow()
    run(store, workspace, status="queued", created=now - 10 * MIN)
    [alert] = pass_at(store, workspace, now)
    [d] = alert["deliveries"]
    assert d["status"] == "pending" and d["last_error"].startswith("egress_denied")


def store_partner(store, workspace) -> str:
    with store.read_sessions() as s:
        return s.get(Workspace, workspace).partner_id


@pytest.mark.parametrize("body, field", [
    ({"kind": "absence", "params": {"window_s": 3600}}, "params.expect_label"),
    ({"kind": "absence", "params": {"expect_label": "B", "after_label": "A", "window_s": 3600}}, "params.key_kind"),
    ({"kind": "failures", "params": {"count": 0, "window_s": 600}}, "params.count"),
    ({"kind": "latency", "params": {"threshold_s": 5, "window_s": 10}}, "params.window_s"),
    ({"kind": "queue_age", "params": {"threshold_s": 60, "extra": 1}}, "params.extra"),
    ({"kind": "nope", "params": {}}, "kind"),
    ({"kind": "queue_age", "params": {"threshold_s": 60}, "channels": {}}, "channels"),
    ({"kind": "queue_age", "params": {"threshold_s": 60}, "channels": {"emails": ["not an address"]}},
     "channels.emails[0]"),
    ({"kind": "queue_age", "params": {"threshold_s": 60}, "channels": {"emails": ["a\x00@b.test"]}},
     "channels.emails[0]"),
    ({"kind": "queue_age", "params": {"threshold_s": 60}, "channels": {"webhooks": ["http://[::1/x"]}},
     "channels.webhooks[0]"),
    ({"kind": "queue_age", "params": {"threshold_s": 60}, "channels": {"webhooks": ["ftp://example.com/x"]}},
     "channels.webhooks[0]"),
])
def test_bad_rules_are_refused_naming_the_field(store, workspace, body, field):
    with pytest.raises(alerts.InvalidRule) as err:
        alerts.create(store, workspace, {"name": "bad", "channels": {"emails": ["ops@b.test"]}, **body})
    assert err.value.field == field


# embedded only: the pass also requeues every lost run of the session's shared PostgreSQL schema
@pytest.mark.parametrize("backend", ONLY_EMBEDDED, indirect=True)
def test_the_maintenance_pass_evaluates_rules_and_sends_their_deliveries(make_settings, workspace, partner,
                                                                          http_target):
    from runtime.wiring import Runtime

    runtime = Runtime(make_settings(maintenance_s=0.05))
    try:
        runtime.ensure_workspace(workspace)
        egress.allow_origin(runtime, workspace, http_target.url)
        rule(runtime, workspace, http_target, "queue_age", {"threshold_s": 60})
        run(runtime, workspace, status="queued", created=utcnow() - 10 * MIN)
        runtime.start_maintenance()
        wait_for(lambda: http_target.requests, timeout=20)
        [alert] = alerts.alerts(runtime, workspace)
        assert alert["status"] == "firing" and alert["deliveries"][0]["status"] == "sent"
    finally:
        runtime.close()


def test_alert_mail_logs_in_with_the_stored_password(store, workspace, http_target):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    received, logins = [], []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    def authenticate(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret-pass")

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        egress.allow(store, workspace, f"127.0.0.1:{port}")
        alert_delivery.save_smtp(store, store_partner(store, workspace), {
            "host": "127.0.0.1", "port": port, "tls": "none", "from": "alerts@b.test", "username": "alerts",
            "password": "s3cret-pass"})
        alerts.create(store, workspace, {"name": "m", "kind": "queue_age", "params": {"threshold_s": 60},
                                         "channels": {"emails": ["ops@b.test", "oncall@b.test"]}})
        now = utcnow()
        run(store, workspace, status="queued", created=now - 10 * MIN)
        [alert] = pass_at(store, workspace, now)
    finally:
        controller.stop()
    assert [d["status"] for d in alert["deliveries"]] == ["sent", "sent"]
    assert logins == [(b"alerts", b"s3cret-pass")] * 2
    assert sorted(e.rcpt_tos[0] for e in received) == ["oncall@b.test", "ops@b.test"]
