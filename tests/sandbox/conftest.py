"""Fixtures for the sandbox systems: a fresh app on a temporary SQLite file, its test client, and a local
HTTP server that records the webhooks it receives."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.app import create_app


@pytest.fixture
def sandbox_app(tmp_path):
    app = create_app(f"sqlite:///{tmp_path}/sandbox.sqlite")
    app.config["TESTING"] = True
    return app


@pytest.fixture
def sbx(sandbox_app):
    return sandbox_app.test_client()


def _eventually(check, timeout_s: float = 10.0, interval_s: float = 0.02):
    """Poll until `check()` returns something truthy; fail with its last value. Not a timing assertion."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"condition not met within {timeout_s}s (last value {value!r})"
            return value
        time.sleep(interval_s)


class Receiver:
    """Answers POSTs with `fail_first` 500s, then 200s; keeps every request it got."""

    def __init__(self, fail_first: int = 0):
        self.requests: list[dict] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "raw": body,
                                          "json": json.loads(body)})
                failing = len(receiver.requests) <= receiver.fail_first
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def eventually():
    return _eventually


@pytest.fixture
def make_receiver():
    """Receivers answering `fail_first` 500s first; all are closed after the test."""
    made = []

    def make(fail_first: int = 0) -> Receiver:
        made.append(Receiver(fail_first))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def receiver(make_receiver):
    return make_receiver()
