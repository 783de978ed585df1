"""Browser fixtures for the canvas tests: one headless Debian Chromium per session, a page per test.

Every test gets a folder under test-results/ for its screenshots; the page's final state is saved there too.
"""
from __future__ import annotations

import json
import re
import shutil
import urllib.request
import uuid
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from designer.access import CSRF_HEADER, KEY_HEADER, SESSION_COOKIE
from support.browser import AdminSession, browser_page, call

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium():
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed for the browser tests (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def out_dir(request) -> Path:
    folder = RESULTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="session")
def live_login(live_server) -> dict:
    """The live server's admin logged in once through the API for the whole run: the session cookie's
    value and the CSRF token (argon2 makes a login cost ~170 ms; a login's cookie stays valid)."""
    req = urllib.request.Request(f"{live_server}/api/v1/session", method="POST",
                                 data=json.dumps({"email": live_server.admin_email,
                                                  "password": live_server.admin_password}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        cookie = SimpleCookie(res.headers["Set-Cookie"])[SESSION_COOKIE].value
        return {"cookie": cookie, "csrf": json.loads(res.read())["csrf_token"]}


@pytest.fixture
def page(chromium, out_dir, request):
    """A page whose browser context is logged in as the live server's admin (when the test uses it)."""
    cookies = None
    if {"canvas_url", "canvas", "live_server", "canvas_api"} & set(request.fixturenames):
        login = request.getfixturevalue("live_login")
        cookies = [{"name": SESSION_COOKIE, "value": login["cookie"],
                    "url": request.getfixturevalue("live_server").rstrip("/")}]
    with browser_page(chromium, out_dir, cookies) as pg:
        yield pg


@pytest.fixture
def admin(live_server) -> AdminSession:
    """The live server's admin, by the API."""
    return AdminSession(live_server.rstrip("/"), live_server.admin_email, live_server.admin_password)


@pytest.fixture
def canvas_url(request) -> str:
    """The embedded Crossdock the lead's tests/conftest.py starts (API, worker, sandbox systems)."""
    return request.getfixturevalue("live_server").rstrip("/")


class Api:
    """Arranges test data through the HTTP API the page itself uses, logged in as the page is."""

    def __init__(self, base: str, login: dict):
        self.base = base
        self.auth = {"Cookie": f"{SESSION_COOKIE}={login['cookie']}", CSRF_HEADER: login["csrf"]}

    def call(self, method: str, path: str, body=None, headers: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}/api/v1{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json", **self.auth, **(headers or {})})
        with urllib.request.urlopen(req, timeout=10) as res:
            raw = res.read()
            return json.loads(raw) if raw else None

    def create_flow(self, doc: dict) -> dict:
        return self.call("POST", "/flows", doc)


@pytest.fixture
def canvas_api(canvas_url, live_login) -> Api:
    return Api(canvas_url, live_login)


class Canvas:
    """The editor page as a test sees it: opening flows, reading the test hook, wiring handles."""

    def __init__(self, page: Page, base_url: str, out_dir: Path):
        self.page, self.base_url, self.out_dir = page, base_url, out_dir

    def open(self, flow_id: str) -> None:
        self.page.goto(f"{self.base_url}/flows/{flow_id}")
        self.wait_ready()

    def wait_ready(self) -> None:
        self.page.wait_for_function("window.__crossdock && window.__crossdock.ready")

    def flow(self) -> dict:
        return self.page.evaluate("window.__crossdock.getFlow()")

    def problems(self) -> list[dict]:
        return self.page.evaluate("window.__crossdock.getProblems()")

    def selection(self) -> list[str]:
        return self.page.evaluate("window.__crossdock.getSelection()")

    def node(self, node_id: str):
        return self.page.locator(f".react-flow__node[data-id='{node_id}']")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.out_dir / f"{name}.png"))

    def wire(self, source: str, source_port: str, target: str, target_port: str = "in") -> None:
        """Drags from an output handle to an input handle in small mouse steps, as a person would."""
        s = self.node(source).locator(f".react-flow__handle.source[data-handleid='{source_port}']").bounding_box()
        t = self.node(target).locator(f".react-flow__handle.target[data-handleid='{target_port}']").bounding_box()
        self.page.mouse.move(s["x"] + s["width"] / 2, s["y"] + s["height"] / 2)
        self.page.mouse.down()
        self.page.mouse.move(s["x"] + 30, s["y"] + 10, steps=3)
        self.page.mouse.move(t["x"] + t["width"] / 2, t["y"] + t["height"] / 2, steps=6)
        self.page.mouse.up()

    def type_expression(self, path: str, text: str) -> None:
        self.page.click(f"[data-testid='editor-{path}'] .cm-content")
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(text)


@pytest.fixture
def canvas(page, canvas_url, out_dir) -> Canvas:
    return Canvas(page, canvas_url, out_dir)


class OrderTarget:
    """The system an HTTP sink posts orders to, run by the test: 500 for an order whose ref starts with BAD,
    200 otherwise; an order whose ref starts with HOLD is answered once the test sets `release`. Keeps every
    body it received."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list = []
        self.release = threading.Event()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                target.received.append(body)
                if isinstance(body, dict) and str(body.get("ref", "")).startswith("HOLD"):
                    target.release.wait(10)
                bad = isinstance(body, dict) and str(body.get("ref", "")).startswith("BAD")
                data = json.dumps({"error": "ERP rejected the order"} if bad else {"accepted": True}).encode()
                self.send_response(500 if bad else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/orders"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def order_target(live_server):
    """An OrderTarget that workspace `default` of the live server may reach (it listens on loopback)."""
    from runtime import egress

    t = OrderTarget()
    egress.allow_origin(live_server.runtime, "default", t.url)
    yield t
    t.close()


def _order_flow(flow_id: str, path: str, url: str, ref: str = "order.number") -> dict:
    """webhook -> map (ref, qty) -> connector.http posting to url, without retries; business key order.number."""
    def node(id, type, x, config):
        return {"id": id, "type": type, "type_version": 1, "config": config, "position": {"x": x, "y": 120}}
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": "Orders to ERP", "settings": {"business_key": "order.number"},
            "nodes": [node("intake", "event.webhook", 40, {"path": path}),
                      node("shape", "transform.map", 330, {"expression": f"{{ 'ref': {ref}, 'qty': $sum(order.lines.qty) }}"}),
                      node("erp", "connector.http", 620, {"url": url, "method": "POST", "retry": {"max_attempts": 1, "backoff_s": 0}})],
            "edges": [{"id": "e1", "source": "intake", "source_port": "out", "target": "shape", "target_port": "in"},
                      {"id": "e2", "source": "shape", "source_port": "out", "target": "erp", "target_port": "in"}]}


def _post_order(base: str, path: str, number: str, key: str) -> int:
    """Posts an order to the flow's webhook with the hook key; the run id."""
    body = {"order": {"number": number, "lines": [{"sku": "SKU-1", "qty": 2}, {"sku": "SKU-2", "qty": 1}]}}
    req = urllib.request.Request(f"{base}/hooks/default/{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", KEY_HEADER: key})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())["run_id"]


@pytest.fixture
def order_flow():
    return _order_flow


@pytest.fixture
def post_order(live_server):
    """post_order(base, path, number) -> run id, sent with the live server's hook key."""
    return lambda base, path, number: _post_order(base, path, number, live_server.hook_key)


@pytest.fixture
def templated_workspace(live_server):
    """A workspace of this test's own in the live Crossdock with the bundled templates deployed against the sandbox;
    its OMS webhook subscriptions go at teardown."""
    from designer import templates

    ws = f"tpl{uuid.uuid4().hex[:8]}"
    live_server.runtime.ensure_workspace(ws)
    templates.install_bundled(live_server.runtime, ws, live_server.sandbox_url, hook_base=str(live_server))
    yield ws
    for sub in call(f"{live_server.sandbox_url}/oms/api/webhook-subscriptions")["webhooks"]:
        if f"/hooks/{ws}/" in sub["address"]:
            call(f"{live_server.sandbox_url}/oms/api/webhook-subscriptions/{sub['id']}", "DELETE")
