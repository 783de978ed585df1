"""POST /api/v1/connections/<name>/test (issue 13): each outcome a clear JSON result, never a 500, and no side
effect on the system (the sandbox's request log shows one GET of its harmless authenticated read)."""
from __future__ import annotations

import json
import socket
import urllib.request

import pytest

from runtime import egress


@pytest.fixture
def sandbox(rt, workspace, tmp_path):
    from sandbox.serve import start_in_thread

    server = start_in_thread("127.0.0.1", 0, f"sqlite:///{tmp_path}/sandbox.sqlite")
    url = f"http://127.0.0.1:{server.server_port}"
    egress.allow_origin(rt, workspace, url)
    yield url
    server.shutdown()


def _requests(sandbox: str) -> list[dict]:
    with urllib.request.urlopen(f"{sandbox}/_requests?system=erp", timeout=10) as res:
        return json.loads(res.read())["requests"]


def _save(client, name: str, base_url: str, auth: dict, system: str = "erp"):
    r = client.put(f"/api/v1/connections/{name}", json={"system": system, "base_url": base_url, "auth": auth})
    assert r.status_code == 200, r.json


def test_right_credentials_are_reachable_and_accepted(client, sandbox):
    _save(client, "erp-ok", sandbox + "/erp/api", {"type": "bearer", "token": "sandbox-token"})
    r = client.post("/api/v1/connections/erp-ok/test")
    assert r.status_code == 200, r.json
    assert r.json["ok"] is True and r.json["outcome"] == "reachable" and r.json["status"] == 200
    assert "credentials accepted" in r.json["message"]
    assert [(q["method"], q["path"]) for q in _requests(sandbox)] == [("GET", "/erp/api/whoami")]
    assert "sandbox-token" not in json.dumps(r.json)


def test_basic_and_api_key_credentials_too(client, sandbox):
    _save(client, "erp-basic", sandbox + "/erp/api", {"type": "basic", "username": "sandbox", "password": "sandbox"})
    _save(client, "erp-key", sandbox + "/erp/api", {"type": "api_key", "header": "X-API-Key", "key": "sandbox-key"})
    for name in ("erp-basic", "erp-key"):
        assert client.post(f"/api/v1/connections/{name}/test").json["outcome"] == "reachable"


def test_bad_credentials_are_named_as_such(client, sandbox):
    _save(client, "erp-bad", sandbox + "/erp/api", {"type": "basic", "username": "sandbox", "password": "wrong"})
    r = client.post("/api/v1/connections/erp-bad/test")
    assert r.status_code == 200
    assert r.json["ok"] is False and r.json["outcome"] == "bad_credentials" and r.json["status"] == 401
    assert "wrong" not in json.dumps(r.json)


def test_an_unreachable_system_is_named_as_such(client, rt, workspace):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    egress.allow_origin(rt, workspace, url)
    _save(client, "erp-gone", url + "/erp/api", {"type": "bearer", "token": "t"})
    r = client.post("/api/v1/connections/erp-gone/test")
    assert r.status_code == 200
    assert r.json["ok"] is False and r.json["outcome"] == "unreachable" and str(port) in r.json["message"]


def test_a_destination_the_egress_policy_refuses_is_named(client):
    _save(client, "erp-private", "http://10.255.255.1/erp/api", {"type": "none"})
    r = client.post("/api/v1/connections/erp-private/test")
    assert r.status_code == 200 and r.json["outcome"] == "egress_denied"


def test_a_sql_connection_is_tested_read_only(client, rt, workspace, tmp_path):
    r = client.put("/api/v1/connections/db", json={"system": "sql", "base_url": "postgresql+psycopg://u@10.255.255.1/x",
                                                   "auth": {"password": "pw"}})
    assert r.status_code == 200, r.json
    r = client.post("/api/v1/connections/db/test")
    assert r.status_code == 200 and r.json["ok"] is False and r.json["outcome"] in ("egress_denied", "unreachable")


def test_an_unknown_connection_is_404(client):
    r = client.post("/api/v1/connections/nope/test")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
