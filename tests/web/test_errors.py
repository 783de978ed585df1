"""web.errors: every error leaves as JSON with a code (ours, Flask's 404/405/413, and bugs as a logged 500),
never as an HTML page or a traceback. The web layer is the same on both backends, so these tests use the
embedded one only, on a runtime with a 1 KiB body limit."""
from __future__ import annotations

import io
import logging

import pytest
from werkzeug.exceptions import TooManyRequests, abort

from designer import drafts
from runtime.wiring import Runtime
from runtime.settings import Settings
from support import identity
from web.app import create_app

LIMIT = 1024


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime(Settings(data_dir=str(tmp_path), load_samples=False, max_body_bytes=LIMIT))
    yield rt
    rt.close()


@pytest.fixture
def app(runtime):
    return create_app(runtime)


@pytest.fixture
def client(app, runtime):
    """Logged in as the admin of partner `default`, acting in workspace `default`, with its hook key."""
    return identity.client_for(app, identity.make_user(runtime, "default", "admin"), "default",
                               identity.hook_key(runtime, "default"))


def assert_json_error(r, status: int, code: str) -> dict:
    assert r.status_code == status
    assert r.mimetype == "application/json"
    assert b"<html" not in r.data.lower() and b"Traceback" not in r.data
    assert set(r.json) == {"error"} and r.json["error"]["code"] == code and r.json["error"]["message"]
    return r.json["error"]


def test_an_unknown_url_is_a_json_404(client):
    """Unknown paths of the server's own prefixes; any other path is the app's (its not-found page)."""
    for url in ("/api/v1/nowhere", "/api/v1/runs/not-a-number", "/static/app/missing.js", "/hooks", "/api"):
        assert_json_error(client.get(url), 404, "not_found")
    for method in ("post", "put", "delete"):
        assert_json_error(getattr(client, method)("/api/v1/nowhere", json={}), 404, "not_found")


def test_a_wrong_method_is_a_json_405_that_names_the_allowed_ones(client):
    r = client.delete("/api/v1/node-types")
    assert_json_error(r, 405, "method_not_allowed")
    assert set(r.headers["Allow"].split(", ")) >= {"GET"}
    r = client.patch("/api/v1/flows")
    assert_json_error(r, 405, "method_not_allowed")
    assert set(r.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_a_body_over_the_limit_is_a_json_413(client):
    big = {"schema": "crossdock.flow/1", "id": "big", "description": "x" * LIMIT}
    for method, url in (("post", "/api/v1/flows"), ("put", "/api/v1/flows/big"),
                        ("post", "/api/v1/flows/validate"), ("post", "/api/v1/preview/map")):
        err = assert_json_error(getattr(client, method)(url, json=big), 413, "payload_too_large")
        assert str(LIMIT) in err["message"]
    assert client.get("/api/v1/flows").json["flows"] == []
    small = {"schema": "crossdock.flow/1", "id": "small", "description": "x" * (LIMIT - 100)}
    assert client.post("/api/v1/flows", json=small).status_code == 201


BODY_ENDPOINTS = [("post", "/api/v1/flows"), ("put", "/api/v1/flows/big"), ("post", "/api/v1/flows/validate"),
                  ("post", "/api/v1/preview/map"), ("post", "/api/v1/flows/big/runs"), ("post", "/api/v1/runs/1/replay"),
                  ("put", "/api/v1/connections/erp"), ("put", "/api/v1/lookups/t"), ("put", "/api/v1/lookups/t/rows/k"),
                  ("post", "/api/v1/lookups/t/import"), ("post", "/api/v1/templates/import"),
                  ("post", "/hooks/default/orders")]


def streamed(client, method: str, url: str, data: bytes, content_type: str = "application/json"):
    """A body sent chunked, without a Content-Length, as the server hands it on (wsgi.input_terminated)."""
    return client.open(url, method=method.upper(), input_stream=io.BytesIO(data),
                       headers={"Transfer-Encoding": "chunked", "Content-Type": content_type},
                       environ_overrides={"wsgi.input_terminated": True})


def test_a_body_over_the_limit_is_413_at_every_endpoint_with_or_without_a_content_length(client):
    hook = {"schema": "crossdock.flow/1", "id": "h",
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "orders"}},
                      {"id": "end", "type": "control.discard", "config": {"reason": "test"}}],
            "edges": [{"id": "e1", "source": "hook", "source_port": "out", "target": "end", "target_port": "in"}]}
    assert client.post("/api/v1/flows", json=hook).status_code == 201
    assert client.post("/api/v1/flows/h/deploy").status_code == 201
    big = b'{"input": "' + b"x" * LIMIT + b'"}'
    for method, url in BODY_ENDPOINTS:
        content_type = "text/csv" if url.endswith("/import") and "lookups" in url else "application/json"
        assert_json_error(getattr(client, method)(url, data=big, content_type=content_type), 413, "payload_too_large")
        # chunked: Werkzeug stops reading at the limit; the cut body was parsed as bad JSON before
        assert_json_error(streamed(client, method, url, big, content_type), 413, "payload_too_large")
    r = streamed(client, "post", "/api/v1/flows/validate", b'{"schema": "crossdock.flow/1", "id": "s"}')
    assert r.status_code == 200 and r.json["valid"] is False


def test_api_errors_carry_details_only_when_there_are_some(client):
    err = assert_json_error(client.post("/api/v1/flows", data="{", content_type="application/json"), 400,
                            "invalid_json")
    assert "details" not in err
    err = assert_json_error(client.post("/api/v1/flows", json={"id": "x"}), 400, "invalid_document")
    assert err["details"] and all(d["code"] == "invalid_document" for d in err["details"])


def test_a_bug_is_a_logged_json_500_without_its_text(client, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise KeyError("secret internal detail")

    monkeypatch.setattr(drafts, "list_flows", broken)
    with caplog.at_level(logging.ERROR, logger="web.errors"):
        r = client.get("/api/v1/flows")
    err = assert_json_error(r, 500, "internal_error")
    assert b"secret internal detail" not in r.data and "logged" in err["message"]
    [record] = [rec for rec in caplog.records if rec.name == "web.errors"]
    assert "GET /api/v1/flows" in record.getMessage() and record.exc_info[0] is KeyError


def test_http_errors_raised_anywhere_keep_their_status_code_and_headers(app):
    def limited():
        raise TooManyRequests(retry_after=7)

    app.add_url_rule("/test/limited", view_func=limited)
    app.add_url_rule("/test/teapot", "teapot", lambda: abort(418))
    app.add_url_rule("/test/bad", "bad", lambda: abort(400, description="the widget is upside down"))
    client = app.test_client()
    r = client.get("/test/limited")
    assert_json_error(r, 429, "rate_limited")
    assert r.headers["Retry-After"] == "7"
    assert_json_error(client.get("/test/teapot"), 418, "http_error")
    assert assert_json_error(client.get("/test/bad"), 400, "bad_request")["message"] == "the widget is upside down"


def test_a_body_declared_as_anything_but_json_is_a_json_415(client):
    doc = '{"schema": "crossdock.flow/1", "id": "typed"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data"):
        for method, url in (("post", "/api/v1/flows"), ("post", "/api/v1/flows/validate"),
                            ("put", "/api/v1/connections/erp"), ("put", "/api/v1/lookups/t"),
                            ("post", "/api/v1/templates/import"), ("post", "/api/v1/preview/map")):
            r = getattr(client, method)(url, data=doc, content_type=content_type)
            err = assert_json_error(r, 415, "unsupported_media_type")
            assert err["details"] == [{"field": "Content-Type"}] and "application/json" in err["message"]
    assert client.get("/api/v1/flows").json["flows"] == []
    for content_type in ("application/json", "application/json; charset=utf-8", "application/vnd.crossdock+json", None):
        r = client.post("/api/v1/flows/validate", data=doc, content_type=content_type)
        assert r.status_code == 200, content_type  # a body without a declared type is read as JSON
