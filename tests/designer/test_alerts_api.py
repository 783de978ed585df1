"""The alerts API: consultants keep rules (400s name the field), operators acknowledge and resolve alerts, the
list shows each alert with its deliveries, and a partner's SMTP password is stored encrypted and never shown."""
from __future__ import annotations

import dataclasses
import datetime as dt

from runtime import alert_delivery, alerts
from runtime.connections import keyring
from runtime.alert_models import SmtpSettings
from runtime.models import Run, Workspace, utcnow
from support import identity

RULE = {"name": "Stuck queue", "kind": "queue_age", "params": {"threshold_s": 60},
        "channels": {"emails": ["ops@example.com"]}}


def test_rules_are_created_changed_listed_and_deleted(api):
    made = api.post("/api/v1/alert-rules", json=RULE)
    assert made.status_code == 201, made.json
    rule = made.json["rule"]
    assert (rule["kind"], rule["params"], rule["enabled"], rule["every_s"]) == ("queue_age", {"threshold_s": 60},
                                                                                True, 60)
    assert api.post("/api/v1/alert-rules", json=RULE).json["error"]["details"] == [{"field": "name"}]  # taken
    changed = api.put(f"/api/v1/alert-rules/{rule['id']}", json={**RULE, "enabled": False, "every_s": 300})
    assert changed.status_code == 200 and changed.json["rule"]["enabled"] is False
    assert [r["id"] for r in api.get("/api/v1/alert-rules").json["rules"]] == [rule["id"]]
    bad = api.post("/api/v1/alert-rules", json={**RULE, "name": "x", "params": {"threshold_s": -1}})
    assert (bad.status_code, bad.json["error"]["details"]) == (400, [{"field": "params.threshold_s"}])
    assert api.delete(f"/api/v1/alert-rules/{rule['id']}").status_code == 204
    assert api.delete(f"/api/v1/alert-rules/{rule['id']}").status_code == 404
    assert api.get("/api/v1/alert-rules").json["rules"] == []


def test_operators_acknowledge_and_resolve_alerts_and_consultants_alone_keep_rules(api, store, workspace):
    rule = api.post("/api/v1/alert-rules", json=RULE).json["rule"]
    now = utcnow()
    with store.sessions.begin() as s:
        s.add(Run(workspace=workspace, flow_id="f", version=1, status="queued", trigger="manual",
                  created_at=now - dt.timedelta(minutes=5)))
    alerts.evaluate_due(store, now)
    [alert] = api.get("/api/v1/alerts?status=firing").json["alerts"]
    assert (alert["rule_id"], alert["key"], alert["status"]) == (rule["id"], "queue", "firing")
    assert [(d["channel"], d["status"]) for d in alert["deliveries"]] == [("email", "pending")]
    operator = identity.login_as(api, "operator", workspace)
    assert operator.post("/api/v1/alert-rules", json={**RULE, "name": "mine"}).status_code == 403
    acked = operator.post(f"/api/v1/alerts/{alert['id']}/acknowledge")
    assert acked.status_code == 200 and acked.json["alert"]["status"] == "acknowledged"
    assert acked.json["alert"]["acknowledged_by"]
    done = operator.post(f"/api/v1/alerts/{alert['id']}/resolve").json["alert"]
    assert (done["status"], done["resolved_by"]) == ("resolved", acked.json["alert"]["acknowledged_by"])
    assert api.get("/api/v1/alerts?status=firing").json["alerts"] == []
    assert api.get("/api/v1/alerts?status=nope").status_code == 400
    assert operator.post("/api/v1/alerts/999999/resolve").status_code == 404


def test_smtp_settings_keep_the_password_encrypted_and_masked(api, store, workspace):
    assert api.get("/api/v1/partner/smtp").json == {"smtp": None}
    body = {"host": "smtp.example.com", "port": 587, "tls": "starttls", "from": "alerts@example.com",
            "username": "alerts", "password": "smtp-secret-42"}
    shown = api.put("/api/v1/partner/smtp", json=body).json["smtp"]
    assert shown == {**body, "password": "********"}
    with store.read_sessions() as s:
        partner = s.get(Workspace, workspace).partner_id
        sealed = s.get(SmtpSettings, partner).password
    assert "smtp-secret-42" not in sealed
    api.put("/api/v1/partner/smtp", json={**body, "port": 465, "tls": "tls", "password": "********"})
    with store.read_sessions() as s:
        assert s.get(SmtpSettings, partner).password == sealed  # the mask kept it
    old = store.settings.secret_key  # a new secret key: rotate-secrets re-encrypts the password under it
    store.settings = dataclasses.replace(store.settings, secret_key="smtp-new-key", previous_secret_keys=(old,))
    assert alert_delivery.rotate_smtp(store) >= 1
    store.settings = dataclasses.replace(store.settings, previous_secret_keys=())
    with store.read_sessions() as s:
        rotated = s.get(SmtpSettings, partner).password
    assert rotated != sealed and keyring(store.settings).decrypt(rotated.encode()) == b"smtp-secret-42"
    bad = api.put("/api/v1/partner/smtp", json={**body, "tls": "maybe"})
    assert (bad.status_code, bad.json["error"]["details"]) == (400, [{"field": "tls"}])
    assert api.delete("/api/v1/partner/smtp").status_code == 204
    assert api.get("/api/v1/partner/smtp").json == {"smtp": None}
