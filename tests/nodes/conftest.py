"""A stand-in for the runtime's step context (nodes.base.Context), recording what a node asked of it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from nodes.http_client import Egress

LOCAL = Egress.parse(["127.0.0.0/8"])  # the tests' HTTP servers listen on 127.0.0.1


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
