"""Alert deliveries (issue 14): each alert's notice per channel, a webhook POST or an e-mail through its workspace's
partner's SMTP server, sent by the maintenance pass, each delivery by one process (a guarded claim), retried with
backoff up to MAX_ATTEMPTS and then left `failed` with its last error for operators to see. Webhook URLs and SMTP
hosts are user-controlled destinations: both go through the workspace's egress policy (runtime/egress.py)."""
from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import socket
import ssl
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from sqlalchemy import select, update

from nodes import http_client
from runtime import clock, egress
from runtime.alert_models import Alert, AlertDelivery, AlertRule, SmtpSettings
from runtime.connections import keyring
from runtime.models import Workspace, utcnow

if TYPE_CHECKING:
    from runtime.wiring import Runtime

log = logging.getLogger(__name__)
MAX_WEBHOOKS, MAX_EMAILS = 5, 10  # per rule
MAX_ATTEMPTS = 6
BACKOFF_S, MAX_BACKOFF_S = 30, 3600  # 30 s, 1 min, 2 min ... doubling, at most an hour
CLAIM_S = 120  # a claimed delivery is tried again after this when its process died sending it
TIMEOUT_S = 10.0  # per webhook request and per SMTP conversation step
PER_PASS = 50  # deliveries one pass sends at most
TLS_MODES = ("none", "starttls", "tls")
MASK = "********"
EMAIL = re.compile(r"[^@\s<>\"',;\x00-\x1f\x7f]+@[^@\s<>\"',;\x00-\x1f\x7f]+\.[^@\s<>\"',;\x00-\x1f\x7f]+\Z")
HOST = re.compile(r"[A-Za-z0-9.-]{1,253}\Z|\[[0-9A-Fa-f:.]+\]\Z")
DUE = AlertDelivery.__table__


class DeliveryError(Exception):
    """A delivery that did not go out this time (refused by egress, no SMTP settings, the server said no)."""


class Invalid(ValueError):
    """Alert input the API answers with 400 (runtime/alerts.py's InvalidRule): `field` names what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


# -- channels ----------------------------------------------------------------------------------------------------

def check_channels(rt: Runtime, workspace: str, channels: Any) -> dict:
    """{"webhooks": [http(s) URL, ...], "emails": [address, ...]}, at least one target; each webhook's host
    allowed by the workspace's egress policy now (and again at each delivery)."""
    if not isinstance(channels, dict) or set(channels) - {"webhooks", "emails"}:
        raise Invalid("channels", 'channels is {"webhooks": [url, ...], "emails": [address, ...]}')
    webhooks, emails = channels.get("webhooks") or [], channels.get("emails") or []
    if not isinstance(webhooks, list) or len(webhooks) > MAX_WEBHOOKS:
        raise Invalid("channels.webhooks", f"webhooks is a list of at most {MAX_WEBHOOKS} URLs")
    if not isinstance(emails, list) or len(emails) > MAX_EMAILS:
        raise Invalid("channels.emails", f"emails is a list of at most {MAX_EMAILS} addresses")
    if not webhooks and not emails:
        raise Invalid("channels", "an alert rule delivers somewhere: a webhook URL or an e-mail address")
    policy = egress.policy(rt, workspace)
    for i, url in enumerate(webhooks):
        field = f"channels.webhooks[{i}]"
        try:
            parts = urlsplit(url) if isinstance(url, str) and len(url) <= 2000 else None
            if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or any(
                    c.isspace() or ord(c) < 32 for c in url):
                raise Invalid(field, "a webhook is an http(s) URL of at most 2,000 characters")
            http_client.check(policy, url)
        except Invalid:
            raise
        except http_client.EgressDenied as err:
            raise Invalid(field, str(err)) from None
        except ValueError:  # urlsplit's bad [address], the port's range, an IDNA label too long
            raise Invalid(field, "a webhook is an http(s) URL with a valid port") from None
    for i, address in enumerate(emails):
        if not isinstance(address, str) or len(address) > 254 or not EMAIL.match(address):
            raise Invalid(f"channels.emails[{i}]", "an e-mail address, e.g. ops@partner.example")
    return {"webhooks": list(dict.fromkeys(webhooks)), "emails": list(dict.fromkeys(emails))}


# -- SMTP settings -----------------------------------------------------------------------------------------------

def smtp_of(rt: Runtime, partner_id: str) -> dict | None:
    """The partner's SMTP settings as the API shows them (the password as MASK), or None."""
    with rt.read_sessions() as s:
        row = s.get(SmtpSettings, partner_id)
        return None if row is None else {"host": row.host, "port": row.port, "tls": row.tls, "from": row.sender,
                                         "username": row.username, "password": MASK if row.password else None}


def save_smtp(rt: Runtime, partner_id: str, body: Any) -> dict:
    """Replace the partner's SMTP settings: {host, port, tls, from, username?, password?}; a password given as
    MASK keeps the stored one."""
    if not isinstance(body, dict):
        raise Invalid("", "the body is a JSON object")
    unknown = sorted(set(body) - {"host", "port", "tls", "from", "username", "password"})
    if unknown:
        raise Invalid(unknown[0], f"SMTP settings have no field {unknown[0]!r}")
    host, port, tls, sender = body.get("host"), body.get("port", 587), body.get("tls", "starttls"), body.get("from")
    if not isinstance(host, str) or not HOST.match(host):
        raise Invalid("host", "host is the SMTP server's name or address")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise Invalid("port", "port is a whole number from 1 to 65535")
    if tls not in TLS_MODES:
        raise Invalid("tls", f"tls is one of {', '.join(TLS_MODES)}")
    if not isinstance(sender, str) or len(sender) > 254 or not EMAIL.match(sender):
        raise Invalid("from", "from is the sender's e-mail address")
    username, password = body.get("username"), body.get("password")
    if username is not None and (not isinstance(username, str) or not 1 <= len(username) <= 254
                                 or any(ord(c) < 32 or ord(c) == 127 for c in username)):
        raise Invalid("username", "username is 1-254 characters of text")
    if password is not None and (not isinstance(password, str) or not 1 <= len(password) <= 1000):
        raise Invalid("password", "password is 1-1,000 characters")
    with rt.sessions.begin() as s:
        row = s.get(SmtpSettings, partner_id)
        if password == MASK:
            sealed = row.password if row is not None else None
        else:
            sealed = keyring(rt.settings).encrypt(password.encode()).decode() if password else None
        if row is None:
            row = SmtpSettings(partner_id=partner_id)
            s.add(row)
        row.host, row.port, row.tls, row.sender = host, port, tls, sender
        row.username, row.password, row.updated_at = username, sealed, utcnow()
    return smtp_of(rt, partner_id)


def rotate_smtp(rt: Runtime) -> int:
    """Re-encrypt every partner's stored SMTP password with the current key (`run.py rotate-secrets`); the count."""
    box = keyring(rt.settings)
    with rt.sessions.begin() as s:
        rows = s.scalars(select(SmtpSettings).where(SmtpSettings.password.is_not(None))).all()
        for row in rows:
            try:
                row.password = box.rotate(row.password.encode()).decode()
            except InvalidToken:
                raise KeyError(f"the SMTP password of partner {row.partner_id} was encrypted with a key that is "
                               "neither the current nor a previous one") from None
    return len(rows)


def delete_smtp(rt: Runtime, partner_id: str) -> None:
    with rt.sessions.begin() as s:
        row = s.get(SmtpSettings, partner_id)
        if row is not None:
            s.delete(row)


# -- sending -----------------------------------------------------------------------------------------------------

def of(s, alert_ids: list[int]) -> dict[int, list[dict]]:
    """The deliveries of these alerts, oldest first, as the API shows them."""
    out: dict[int, list[dict]] = {}
    if alert_ids:
        for d in s.scalars(select(AlertDelivery).where(AlertDelivery.alert_id.in_(alert_ids))
                           .order_by(AlertDelivery.id)):
            out.setdefault(d.alert_id, []).append({
                "id": d.id, "event": d.event, "channel": d.channel, "target": d.target, "status": d.status,
                "attempts": d.attempts, "next_at": _iso(d.next_at) if d.status == "pending" else None,
                "last_error": d.last_error, "sent_at": _iso(d.sent_at)})
    return out


def deliver_due(rt: Runtime, now: dt.datetime | None = None) -> int:
    """Send the deliveries that are due; the number sent."""
    now = now or clock.now(rt.settings)
    with rt.read_sessions() as s:
        due = s.execute(select(DUE.c.id).where(DUE.c.status == "pending", DUE.c.next_at <= now)
                        .order_by(DUE.c.next_at, DUE.c.id).limit(PER_PASS)).scalars().all()
    sent = 0
    for delivery_id in due:
        sent += deliver(rt, delivery_id, now)
    return sent


def deliver(rt: Runtime, delivery_id: int, now: dt.datetime) -> bool:
    """One attempt of one due delivery, if this process claims it; whether it went out."""
    with rt.sessions.begin() as s:
        claimed = s.execute(update(DUE).where(DUE.c.id == delivery_id, DUE.c.status == "pending",
                                              DUE.c.next_at <= now).values(
            attempts=DUE.c.attempts + 1, next_at=now + dt.timedelta(seconds=CLAIM_S))).rowcount == 1
    if not claimed:
        return False
    with rt.read_sessions() as s:
        d = s.get(AlertDelivery, delivery_id)
        alert = s.get(Alert, d.alert_id)
        rule = s.get(AlertRule, alert.rule_id)
        partner_id = s.execute(select(Workspace.partner_id).where(Workspace.id == d.workspace)).scalar()
        notice = _notice(d, alert, rule)
        channel, target, attempts, workspace = d.channel, d.target, d.attempts, d.workspace
    try:
        if channel == "webhook":
            _post(rt, workspace, target, notice)
        else:
            _mail(rt, workspace, partner_id, target, notice)
    except Exception as err:  # noqa: BLE001 - any failure of the channel is this attempt's, recorded below
        reason = str(err) if isinstance(err, DeliveryError) else f"{type(err).__name__}: {err}"
        final = attempts >= MAX_ATTEMPTS
        log.warning("alert delivery %s to %s failed (attempt %s%s): %s", delivery_id, target, attempts,
                    ", giving up" if final else "", reason)
        backoff = min(BACKOFF_S * 2 ** (attempts - 1), MAX_BACKOFF_S)
        with rt.sessions.begin() as s:
            s.execute(update(DUE).where(DUE.c.id == delivery_id).values(
                status="failed" if final else "pending", last_error=reason[:1000],
                next_at=now + dt.timedelta(seconds=backoff)))
        return False
    with rt.sessions.begin() as s:
        s.execute(update(DUE).where(DUE.c.id == delivery_id).values(status="sent", sent_at=now, last_error=None))
    return True


def _notice(d: AlertDelivery, alert: Alert, rule: AlertRule) -> dict:
    return {"event": f"alert.{d.event}", "workspace": d.workspace,
            "alert": {"id": alert.id, "rule_id": rule.id, "rule_name": rule.name, "kind": rule.kind,
                      "key": alert.key, "status": alert.status, "count": alert.count, "detail": alert.detail,
                      "first_seen": _iso(alert.first_seen), "last_seen": _iso(alert.last_seen),
                      "resolved_at": _iso(alert.resolved_at)}}


def _post(rt: Runtime, workspace: str, url: str, notice: dict) -> None:
    session = http_client.session(egress.policy(rt, workspace))  # refuses what the policy does not allow
    try:
        res = http_client.send(session, "POST", url, headers={"Content-Type": "application/json",
                                                              "User-Agent": "Crossdock-Alerts"},
                               timeout=TIMEOUT_S, json=notice)
    except http_client.EgressDenied as err:
        raise DeliveryError(f"egress_denied: {err}") from None
    if not 200 <= res.status_code < 300:
        raise DeliveryError(f"the webhook answered {res.status_code}")


def _mail(rt: Runtime, workspace: str, partner_id: str | None, to: str, notice: dict) -> None:
    with rt.read_sessions() as s:
        smtp = s.get(SmtpSettings, partner_id) if partner_id else None
        if smtp is None:
            raise DeliveryError("the workspace's partner has no SMTP settings (PUT /api/v1/partner/smtp)")
        host, port, tls, sender, username, sealed = (smtp.host, smtp.port, smtp.tls, smtp.sender, smtp.username,
                                                     smtp.password)
    name = host.strip("[]")
    try:
        infos = socket.getaddrinfo(name, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise DeliveryError(f"SMTP host {host}: {err}") from None
    reason = egress.policy(rt, workspace).denies(name, port, [info[4][0] for info in infos])
    if reason:
        raise DeliveryError(f"egress_denied: {reason}")
    alert = notice["alert"]
    message = EmailMessage()
    message["From"], message["To"] = sender, to
    state = "Resolved" if notice["event"] == "alert.resolved" else "Alert"
    message["Subject"] = f"[{state}] {alert['rule_name']}: {alert['key']}"[:200]
    message.set_content(_body(notice))
    context = ssl.create_default_context()
    client = (smtplib.SMTP_SSL(timeout=TIMEOUT_S, context=context, local_hostname="crossdock") if tls == "tls"
              else smtplib.SMTP(timeout=TIMEOUT_S, local_hostname="crossdock"))
    client._host = name  # the name TLS checks the certificate against: we connect to the checked address
    try:
        client.connect(infos[0][4][0], port)
        if tls == "starttls":
            client.starttls(context=context)
        if username:
            client.login(username, keyring(rt.settings).decrypt(sealed.encode()).decode() if sealed else "")
        client.send_message(message)
    except (smtplib.SMTPException, OSError) as err:
        raise DeliveryError(f"SMTP {host}:{port}: {err}") from None
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _body(notice: dict) -> str:
    alert = notice["alert"]
    lines = [f"Rule: {alert['rule_name']} ({alert['kind']})", f"Key: {alert['key']}", f"Status: {alert['status']}",
             f"Workspace: {notice['workspace']}", f"First seen: {alert['first_seen']}",
             f"Last seen: {alert['last_seen']} (seen {alert['count']} times)"]
    if alert["resolved_at"]:
        lines.append(f"Resolved: {alert['resolved_at']}")
    for key, value in (alert["detail"] or {}).items():
        lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None
