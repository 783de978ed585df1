import base64
import email.utils
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import marshmallow
import pytest

from nodes import catalog, connector_http
from nodes.base import BUSINESS, TECHNICAL, NodeError
from support.ledger import MemoryLedger

RELEASE = threading.Event()  # lets the slow endpoint finish once the client has given up


class Handler(BaseHTTPRequestHandler):
    """A small REST service: /echo reflects the request; /status/<n> answers n; /slow waits."""

    def _reply(self, status, body, content_type="application/json", headers=()):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        proxied = self.path.startswith("http://")  # a proxy's request line names the whole URL
        path, _, query = ("/" + self.path.split("/", 3)[3] if proxied else self.path).partition("?")
        if path == "/moved":
            return self._reply(307, {}, headers=[("Location", "/echo/moved")])
        if path == "/cookie":
            return self._reply(200, {}, headers=[("Set-Cookie", "session=s1; Path=/")])
        if path.startswith("/echo"):
            return self._reply(200, {"method": self.command, "path": path, "query": query, "proxied": proxied,
                                     "headers": {k.lower(): v for k, v in self.headers.items()},
                                     "body": (json.loads(raw) if "json" in self.headers.get("Content-Type", "")
                                              else raw.decode()) if raw else None})
        if path == "/text":
            return self._reply(200, "plain words", "text/plain")
        if path == "/empty":
            self.send_response(204)
            self.end_headers()
            return None
        if path == "/slow":
            RELEASE.wait(10)
            return self._reply(200, {})
        if path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
            headers = [("Retry-After", self.headers["X-Retry-After"])] if "X-Retry-After" in self.headers else []
            return self._reply(status, {"error": "status %d" % status, "pad": "x" * 2000}, headers=headers)
        return self._reply(404, {"error": "no such route"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    RELEASE.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def ledger(ctx):
    ctx.ledger = MemoryLedger()
    return ctx.ledger


def node(env, **config):
    return connector_http.prepare(catalog.load_config(connector_http.SPEC, config), env)


def call(prepared, message, ctx):
    return list(connector_http.run(prepared, message, ctx))


def failure(prepared, message, ctx) -> NodeError:
    with pytest.raises(NodeError) as err:
        call(prepared, message, ctx)
    return err.value


def test_post_sends_the_message_as_json_with_an_idempotency_key(server, ctx, env):
    [(port, out)] = call(node(env, url=server + "/echo"), {"order": {"number": "PO-4711"}}, ctx)
    assert port == "out"
    assert out["method"] == "POST" and out["body"] == {"order": {"number": "PO-4711"}}
    assert out["headers"]["idempotency-key"] == ctx.idempotency_key()
    assert out["headers"]["content-type"] == "application/json"
    assert "authorization" not in out["headers"]


def test_a_text_body_goes_as_the_text_itself_under_a_content_type_that_is_not_json(server, ctx, env):
    x12 = "ISA*00*          *00~GS*FA~"
    p = node(env, url=server + "/echo", headers={"Content-Type": "application/edi-x12"}, body="body")
    [(_, out)] = call(p, {"body": x12}, ctx)
    assert out["body"] == x12 and out["headers"]["content-type"] == "application/edi-x12"
    [(_, out)] = call(node(env, url=server + "/echo", body="body"), {"body": x12}, ctx)  # JSON: a JSON string
    assert out["body"] == x12 and out["headers"]["content-type"] == "application/json"
    p = node(env, url=server + "/echo", headers={"content-type": "text/plain"}, body="{'a': body}")
    [(_, out)] = call(p, {"body": x12}, ctx)  # an object stays JSON whatever the header says
    assert out["body"] == json.dumps({"a": x12})


def test_get_sends_no_body_and_no_idempotency_key(server, ctx, env):
    [(_, out)] = call(node(env, method="GET", url=server + "/echo"), {"order": 1}, ctx)
    assert out["method"] == "GET" and out["body"] is None
    assert "idempotency-key" not in out["headers"]


def test_url_headers_and_body_are_filled_from_params_and_message(server, ctx, env):
    ctx.params = {"base": server, "tenant": "acme corp"}
    p = node(env, method="PUT", url="{{base}}/echo/orders/{{$.order.number}}?tenant={{tenant}}",
             headers={"X-Order": "{{$.order.number}}", "X-Tenant": "{{tenant}}"},
             body="{'SalesOrder': order.number, 'Run': $run.id, 'Tenant': $tenant}")
    [(_, out)] = call(p, {"order": {"number": "A/B 1"}}, ctx)
    assert out["path"] == "/echo/orders/A%2FB%201" and out["query"] == "tenant=acme%20corp"
    assert out["headers"]["x-order"] == "A/B 1" and out["headers"]["x-tenant"] == "acme corp"
    assert out["body"] == {"SalesOrder": "A/B 1", "Run": "run-1", "Tenant": "acme corp"}


def test_missing_template_value_is_a_business_error_before_any_request(server, ctx, env):
    e = failure(node(env, url=server + "/echo/{{$.order.number}}"), {"order": {}}, ctx)
    assert (e.code, e.error_class, e.retryable, e.field) == ("template_error", BUSINESS, False, "url")


@pytest.mark.parametrize("auth, header, value", [
    ({"type": "basic", "username": "erp", "password": "s3cr:t"}, "authorization",
     "Basic " + base64.b64encode(b"erp:s3cr:t").decode()),
    ({"type": "bearer", "token": "{{erp_token}}"}, "authorization", "Bearer tok-123"),
    ({"type": "api_key", "key": "k-9"}, "x-api-key", "k-9"),
    ({"type": "api_key", "key": "k-9", "header": "X-Partner-Key"}, "x-partner-key", "k-9"),
])
def test_auth_headers(server, ctx, env, auth, header, value):
    ctx.params = {"erp_token": "tok-123"}
    [(_, out)] = call(node(env, url=server + "/echo", auth=auth), {}, ctx)
    assert out["headers"][header] == value


@pytest.mark.parametrize("auth", [{"type": "basic", "username": "u"}, {"type": "bearer"}, {"type": "api_key"}])
def test_auth_without_its_credentials_is_rejected(auth):
    with pytest.raises(marshmallow.ValidationError):
        catalog.load_config(connector_http.SPEC, {"url": "http://h", "auth": auth})


def test_non_json_and_empty_answers_are_wrapped(server, ctx, env):
    assert call(node(env, method="GET", url=server + "/text"), {}, ctx) == [
        ("out", {"status": 200, "text": "plain words"})]
    assert call(node(env, method="DELETE", url=server + "/empty"), {}, ctx) == [("out", {"status": 204, "text": ""})]


def test_503_is_technical_and_retryable_with_a_body_excerpt(server, ctx, env):
    e = failure(node(env, url=server + "/status/503"), {}, ctx)
    assert (e.code, e.error_class, e.retryable) == ("http_5xx", TECHNICAL, True)
    assert e.details["status"] == 503
    assert e.details["body"].startswith('{"error": "status 503"') and len(e.details["body"]) == 500


def test_429_carries_retry_after_seconds(server, ctx, env):
    p = node(env, url=server + "/status/429", headers={"X-Retry-After": "7"})
    e = failure(p, {}, ctx)
    assert (e.code, e.error_class, e.retryable, e.retry_after_s) == ("http_429", TECHNICAL, True, 7.0)


def test_429_with_an_http_date(server, ctx, env):
    later = email.utils.formatdate(time.time() + 120, usegmt=True)
    e = failure(node(env, url=server + "/status/429", headers={"X-Retry-After": later}), {}, ctx)
    assert e.retryable and 60 < e.retry_after_s <= 120
    past = email.utils.formatdate(time.time() - 3600, usegmt=True)
    assert failure(node(env, url=server + "/status/429", headers={"X-Retry-After": past}), {}, ctx).retry_after_s == 0


def test_429_without_retry_after_leaves_backoff_to_the_runtime(server, ctx, env):
    e = failure(node(env, url=server + "/status/429"), {}, ctx)
    assert e.retryable and e.retry_after_s is None


def test_404_is_a_business_error_that_is_not_retried(server, ctx, env):
    e = failure(node(env, url=server + "/status/404"), {}, ctx)
    assert (e.code, e.error_class, e.retryable) == ("http_4xx", BUSINESS, False)
    assert e.details["status"] == 404 and "status 404" in e.details["body"]


def test_ok_statuses_turn_a_409_into_success(server, ctx, env):
    [(port, out)] = call(node(env, url=server + "/status/409", ok_statuses=[200, 409]), {}, ctx)
    assert port == "out" and out["error"] == "status 409"
    assert failure(node(env, url=server + "/echo", ok_statuses=[201]), {}, ctx).code == "http_unexpected_status"


def test_timeout_is_technical_and_retryable(server, ctx, env):
    e = failure(node(env, method="GET", url=server + "/slow", timeout_s=0.2), {}, ctx)
    assert (e.code, e.error_class, e.retryable) == ("timeout", TECHNICAL, True)


def test_connection_refused_is_a_retryable_connection_error(ctx, env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nothing listens there
    e = failure(node(env, url=f"http://127.0.0.1:{port}/x"), {}, ctx)
    assert (e.code, e.error_class, e.retryable) == ("connection_error", TECHNICAL, True)


def test_unsupported_scheme_is_a_business_error(ctx, env):
    e = failure(node(env, url="ftp://127.0.0.1/x"), {}, ctx)
    assert (e.code, e.retryable) == ("invalid_request", False)


def test_line_break_in_a_header_value_is_a_business_error(server, ctx, env):
    e = failure(node(env, url=server + "/echo", headers={"X-Order": "{{$.n}}"}), {"n": "1\r\nX-Evil: 1"}, ctx)
    assert (e.code, e.retryable, e.field) == ("invalid_request", False, "headers")


def test_body_expression_error_names_the_field(server, ctx, env):
    e = failure(node(env, url=server + "/echo", body="$sum(order)"), {"order": "x"}, ctx)
    assert e.field == "body" and e.details["code"] == "T0412"


def test_one_session_per_thread(env):
    p = node(env, url="http://127.0.0.1/x")
    assert p.session() is p.session()
    other = []
    t = threading.Thread(target=lambda: other.append(p.session()))
    t.start()
    t.join()
    assert other[0] is not p.session()


def test_a_redirect_is_followed_with_its_method_and_body(server, ctx, env):
    [(_, answer)] = call(node(env, url=server + "/moved"), {"n": 1}, ctx)
    assert (answer["method"], answer["path"], answer["body"]) == ("POST", "/echo/moved", {"n": 1})
    assert answer["headers"]["user-agent"].startswith("python-requests/")  # the session's own headers go too


def test_every_node_of_a_thread_shares_its_session(env):
    assert node(env, url="http://a/x").session() is node(env, url="http://b/y").session()


def test_a_cookie_a_target_sets_does_not_travel_with_the_next_request(server, ctx, env):
    call(node(env, method="GET", url=server + "/cookie"), {}, ctx)
    [(_, answer)] = call(node(env, method="GET", url=server + "/echo"), {}, ctx)
    assert "cookie" not in answer["headers"]


@pytest.fixture
def environ(monkeypatch):
    """Proxy and netrc variables of the test's own; the client reads them again."""
    from nodes import http_client

    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY",
                 "no_proxy", "NETRC"):
        monkeypatch.delenv(name, raising=False)
    http_client.forget_environment()
    yield monkeypatch
    http_client.forget_environment()


def test_a_proxy_from_the_environment_carries_the_request(server, ctx, env, environ):
    environ.setenv("HTTP_PROXY", server)
    [(_, answer)] = call(node(env, method="GET", url="http://erp.invalid/echo"), {}, ctx)
    assert answer["proxied"] is True and answer["path"] == "/echo"


def test_no_proxy_sends_the_request_direct(server, ctx, env, environ):
    with socket.socket() as s:  # a port nothing listens on: the proxy must not be tried
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    environ.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    environ.setenv("NO_PROXY", "127.0.0.1")
    [(_, answer)] = call(node(env, method="GET", url=server + "/echo"), {}, ctx)
    assert answer["proxied"] is False


def test_the_server_accounts_netrc_adds_no_credentials(server, ctx, env, environ, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password secret\n")
    netrc.chmod(0o600)
    environ.setenv("NETRC", str(netrc))
    [(_, answer)] = call(node(env, method="GET", url=server + "/echo"), {}, ctx)
    assert "authorization" not in answer["headers"]


def test_prepared_node_does_not_show_secrets(env):
    p = node(env, url="http://h/x", auth={"type": "bearer", "token": "very-secret"})
    assert "very-secret" not in repr(p)


class Replaying(BaseHTTPRequestHandler):
    """Answers every POST like a system that honours Idempotency-Keys: the first time fresh, then replayed."""
    seen: set = set()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = self.headers.get("Idempotency-Key")
        again = key in Replaying.seen
        Replaying.seen.add(key)
        data = json.dumps({"no": "SO101001"}).encode()
        self.send_response(200 if again else 201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if again:
            self.send_header("Idempotent-Replayed", "true")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_a_write_the_target_replays_says_which_run_did_it(ctx, env, ledger):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Replaying)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    try:
        prepared = node(env, url=f"http://127.0.0.1:{httpd.server_address[1]}/orders")
        assert call(prepared, {"number": "A1"}, ctx) == [("out", {"no": "SO101001"})]
        ctx.run_id = "run-2"
        [(_, again)] = call(prepared, {"number": "A1"}, ctx)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert again == {"no": "SO101001", "already_done": "already done by run run-1 (the target replayed its first "
                                                       "answer to this Idempotency-Key)"}
    assert list(ledger.claims) == [("effect:order-release:node-1", "order-release:-:node-1")]


def test_the_message_as_body_leaves_an_earlier_steps_note_behind(server, ctx, env):
    [(_, out)] = call(node(env, url=f"{server}/echo"), {"a": 1, "already_done": "already done by run 7"}, ctx)
    assert out["body"] == {"a": 1}
