"""Browser and API helpers of the browser tests: a page in a context of its own that fails its test on an
uncaught page error, and a user's session through the API the pages use."""
from __future__ import annotations

import contextlib
import json
import urllib.request
from pathlib import Path

import requests

from designer.access import CSRF_HEADER


@contextlib.contextmanager
def browser_page(chromium, out_dir: Path, cookies: list | None = None):
    """A page in a browser context of its own (its own cookie jar), failing the test on an uncaught page
    error; its final state is saved as final.png."""
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    if cookies:
        context.add_cookies(cookies)
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.page_errors = errors  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        try:
            pg.screenshot(path=str(out_dir / "final.png"))
        finally:
            context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


class AdminSession(requests.Session):
    """A user through the API the page uses: logged in once (session cookie plus CSRF header)."""

    def __init__(self, base: str, email: str, password: str):
        super().__init__()
        self.base = base
        r = self.post(f"{base}/api/v1/session", json={"email": email, "password": password}, timeout=10)
        r.raise_for_status()
        self.headers[CSRF_HEADER] = r.json()["csrf_token"]

    def call(self, method: str, path: str, body=None):
        r = self.request(method, f"{self.base}/api/v1{path}", json=body, timeout=10)
        assert r.ok, (r.status_code, r.text)
        return r.json() if r.content else None


def call(url: str, method: str = "GET", body=None, workspace: str | None = None, login: dict | None = None):
    """A JSON call to the live server or the sandbox; with `login` (tests/web/conftest.py's live_login) as the
    logged-in admin."""
    headers = {"Content-Type": "application/json"}
    if workspace:
        headers["X-Crossdock-Workspace"] = workspace
    if login:
        headers.update({"Cookie": f"crossdock_session={login['cookie']}", CSRF_HEADER: login["csrf"]})
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), method=method,
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=10) as res:
        raw = res.read()
        return json.loads(raw) if raw else None


def run_with_sample(page, source: str = "trigger", real: bool = False, message=None) -> None:
    """The editor's "Run with sample" (web/src/editor/RunDialog.tsx): pick the sample (`trigger`, `last`, or `pasted`
    with `message`), a dry run or, with `real`, a real run with the systems it writes to confirmed."""
    page.click("[data-testid=run]")
    page.check(f"[data-testid=run-source-{source}]")
    if message is not None:
        page.fill("[data-testid=run-pasted]", json.dumps(message))
    if real:
        page.check("[data-testid=run-real]")
        if page.locator("[data-testid=run-confirm]").count():
            page.check("[data-testid=run-confirm]")
    page.click("[data-testid=run-go]")
