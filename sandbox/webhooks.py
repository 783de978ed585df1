"""The OMS's webhook deliveries: rows written in the same transaction as the change they announce, then
POSTed by one background thread in order, with a few retries, signed like Shopify's (HMAC-SHA256, base64).
"""
from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import json
import logging
import queue
import threading
import time

import requests
from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Engine

from sandbox import clock, store

log = logging.getLogger(__name__)
TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "returns/create")
RETRY_DELAYS_S = (0.5, 2.0, 5.0)  # attempts after the first; then the delivery is marked failed
TIMEOUT_S = 5


_SUBSCRIBERS = select(store.oms_webhook_subscriptions).where(
    store.oms_webhook_subscriptions.c.topic == bindparam("topic")).order_by(store.oms_webhook_subscriptions.c.id)


def record(conn: Connection, topic: str, payload: dict) -> list[int]:
    """Queue `payload` for every subscriber of `topic`; returns the delivery ids to submit after commit."""
    subscriptions = conn.execute(_SUBSCRIBERS, {"topic": topic}).mappings()  # built once
    ids = []
    for sub in subscriptions.all():
        ids.append(conn.execute(store.oms_webhook_deliveries.insert().values(
            subscription_id=sub["id"], topic=topic, address=sub["address"], payload=payload, status="pending",
            attempts=0, created_at=clock.stamp(conn, "oms"))).inserted_primary_key[0])
    return ids


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Dispatcher:
    """One sender thread per app, started on first use; retries wait in a heap so they never block others."""

    def __init__(self, engine: Engine, retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S):
        self.engine = engine
        self.retry_delays_s = retry_delays_s
        self._inbox: queue.Queue[int] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._http = requests.Session()
        self._http.trust_env = False  # subscribers are local; a proxy from the environment must not intercept

    def submit(self, ids: list[int]) -> None:
        if not ids:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="oms-webhooks", daemon=True)
                self._thread.start()
        for delivery_id in ids:
            self._inbox.put(delivery_id)

    def resume(self) -> None:
        """Resubmit deliveries a previous process left pending."""
        with store.transaction(self.engine) as conn:
            ids = conn.execute(select(store.oms_webhook_deliveries.c.id).where(
                store.oms_webhook_deliveries.c.status == "pending").order_by(store.oms_webhook_deliveries.c.id)
            ).scalars().all()
        self.submit(list(ids))

    def _run(self) -> None:
        waiting: list[tuple[float, int, int]] = []  # (due, order of arrival, delivery id)
        arrivals = 0
        while True:
            timeout = max(0.0, waiting[0][0] - time.monotonic()) if waiting else None
            try:
                delivery_id = self._inbox.get(timeout=timeout)
                arrivals += 1
                heapq.heappush(waiting, (time.monotonic(), arrivals, delivery_id))
            except queue.Empty:
                pass
            while waiting and waiting[0][0] <= time.monotonic():
                _, _, delivery_id = heapq.heappop(waiting)
                try:
                    retry_in = self._attempt(delivery_id)
                except Exception:  # a broken row or database must not kill the sender thread
                    log.exception("webhook delivery %s failed unexpectedly", delivery_id)
                    retry_in = None
                if retry_in is not None:
                    arrivals += 1
                    heapq.heappush(waiting, (time.monotonic() + retry_in, arrivals, delivery_id))

    def _attempt(self, delivery_id: int) -> float | None:
        """POST once; returns seconds until the next attempt, or None when done (delivered or given up)."""
        deliveries = store.oms_webhook_deliveries
        with store.transaction(self.engine) as conn:
            row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().first()
            if row is None or row["status"] != "pending":
                return None
            secret = conn.execute(select(store.oms_webhook_subscriptions.c.secret).where(
                store.oms_webhook_subscriptions.c.id == row["subscription_id"])).scalar() or ""
            triggered_at = clock.stamp(conn, "oms")
        body = json.dumps(row["payload"]).encode()
        status, error = None, None
        try:
            response = self._http.post(row["address"], data=body, timeout=TIMEOUT_S, headers={
                "Content-Type": "application/json", "X-Oms-Topic": row["topic"],
                "X-Oms-Webhook-Id": str(delivery_id), "X-Oms-Triggered-At": triggered_at,
                "X-Oms-Hmac-Sha256": signature(secret, body)})
            status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        attempts = row["attempts"] + 1
        done = error is None
        gave_up = not done and attempts > len(self.retry_delays_s)
        with store.transaction(self.engine) as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(
                attempts=attempts, response_status=status, last_error=error,
                status="delivered" if done else ("failed" if gave_up else "pending"),
                delivered_at=clock.stamp(conn, "oms") if done else None))
        return None if done or gave_up else self.retry_delays_s[attempts - 1]
