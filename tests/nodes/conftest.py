"""A stand-in for the runtime's step context (nodes.base.Context), recording what a node asked of it."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from nodes.http_client import Egress
from support import services
from support.databases import postgres_database

LOCAL = Egress.parse(["127.0.0.0/8"])  # the tests' HTTP servers listen on 127.0.0.1


@pytest.fixture(scope="module")
def pg_url(request):
    """A PostgreSQL database of the test module's own, as the source or target a node reaches (None without the
    services): e.g. `test_connector_sql` gets a database `cd_connector_sql_...`."""
    if not services.SERVICES:
        yield None
        return
    with postgres_database(request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]) as url:
        yield url


ACME = {"name": "acme", "description": "", "partner": {"qualifier": "ZZ", "id": "ACMEHW", "application_id": "ACMEHW"},
        "us": {"qualifier": "ZZ", "id": "CROSSDOCK", "application_id": "CROSSDOCK"}, "version": "004010", "usage": "P",
        "delimiters": {"element": "*", "segment": "~", "component": ">", "repetition": "^", "suffix": "\n"},
        "ack": {"expected": True, "window_minutes": 1440}}


@dataclass
class FakePartners:
    """ctx.trading_partners (nodes.base.TradingPartners): partner records by name, one counter per partner, and
    what was registered as sent and acknowledged."""
    records: dict = field(default_factory=lambda: {"acme": json.loads(json.dumps(ACME))})
    last: dict = field(default_factory=dict)
    sent_log: list = field(default_factory=list)
    acks: list = field(default_factory=list)

    def get(self, partner: str) -> dict:
        return json.loads(json.dumps(self.records[partner]))

    def next_control_number(self, partner: str) -> int:
        self.records[partner]  # KeyError for an unknown partner, as the runtime's
        self.last[partner] = self.last.get(partner, 0) + 1
        return self.last[partner]

    def sent(self, partner: str, control_number: int, groups: list) -> None:
        self.sent_log.append((partner, control_number, groups))

    def acknowledged(self, partner: str, ack: Any) -> list:
        self.acks.append((partner, ack))
        return [{"interchange_control_number": number, "functional_id": g["functional_id"],
                 "group_control_number": g["control_number"], "status": "accepted"}
                for p, number, groups in self.sent_log if p == partner for g in groups]

    def find(self, qualifier: str, partner_id: str) -> str | None:
        return next((name for name, r in self.records.items()
                     if (r["partner"]["qualifier"], r["partner"]["id"]) == (qualifier, partner_id)), None)


@dataclass
class FakeContext:
    params: dict = field(default_factory=dict)
    workspace: str = "default"
    flow_id: str = "order-release"
    flow_version: int = 3
    run_id: str = "run-1"
    node_id: str = "node-1"
    attempt: int = 1
    ledger: Any = None
    trading_partners: FakePartners = field(default_factory=FakePartners)
    responses: list = field(default_factory=list)
    logs: list = field(default_factory=list)

    def idempotency_key(self, business_key: str | None = None) -> str:
        return f"{self.flow_id}:{business_key or '-'}:{self.node_id}"

    def respond(self, status: int, body: Any, headers: Any = None) -> None:
        self.responses.append((status, body, headers))

    def connection(self, name: str) -> dict:
        raise KeyError(name)

    def log(self, message: str) -> None:
        self.logs.append(message)

    def note(self, value: Any) -> None:
        self.noted = value


@dataclass
class FakeEnv:
    params: dict = field(default_factory=dict)
    egress: Any = field(default=lambda: LOCAL)


@pytest.fixture
def ctx() -> FakeContext:
    return FakeContext(params={"erp_url": "http://erp.example", "threshold": 1000})


@pytest.fixture
def make_ctx():
    """For tests that need several contexts, e.g. one per thread."""
    return FakeContext


@pytest.fixture
def env() -> FakeEnv:
    return FakeEnv(params={"erp_url": "http://erp.example", "threshold": 1000})
