"""The HTTP client of the connector nodes: one requests.Session per thread for the whole process, shared by
every node, so that a worker keeps one pooled keep-alive connection per target instead of one per node.

requests reads the proxy variables and ~/.netrc again on every request (its `trust_env`), which cost about a
third of a call's CPU. Here the environment is read once per origin, as requests reads it: the proxies for the
URL (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY) and the CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE).
Two differences, on purpose: ~/.netrc is not read (a connection carries its own credentials; the server
account's netrc must not add any to a flow's requests), and no cookie is kept (one session serves every flow
and workspace of the process, and a cookie one target sets must not travel with another run's request).
"""
from __future__ import annotations

import http.cookiejar
import os
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.utils import get_environ_proxies

MAX_ORIGINS = 1000  # origins whose environment is kept; past this it is read again
_local = threading.local()
_environment: dict[tuple[str, str], dict[str, Any]] = {}


def session() -> requests.Session:
    """This thread's session (requests.Session is not documented as thread-safe)."""
    found = getattr(_local, "session", None)
    if found is None:
        found = _local.session = requests.Session()
        found.trust_env = False  # read once per origin instead, by environment()
        found.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return found


def environment(url: str) -> dict[str, Any]:
    """The proxies and CA bundle requests would take from the environment for `url`: keyword arguments for
    Session.request."""
    try:
        parts = urlsplit(url)
        origin = (parts.scheme.lower(), parts.netloc.lower())
        found = _environment.get(origin)
        proxies = get_environ_proxies(url) if found is None else None
    except ValueError:  # not a URL: requests refuses it with its own error
        return {}
    if found is None:
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        found = {"proxies": proxies, "verify": bundle or True}
        if len(_environment) >= MAX_ORIGINS:
            _environment.clear()
        _environment[origin] = found
    return found


def send(session_: requests.Session, method: str, url: str, *, headers: dict[str, str], timeout: float,
         **body: Any) -> requests.Response:
    """Session.request without its per-call merging (session settings, cookies, environment: a fifth of a call):
    the request is prepared with the session's default headers under `headers` and sent through the session,
    which still follows redirects. `body` is json= or data=, as requests takes them."""
    prepared = requests.PreparedRequest()
    prepared.prepare(method=method, url=url, headers={**session_.headers, **headers}, **body)
    return session_.send(prepared, timeout=timeout, allow_redirects=True, **environment(url))


def forget_environment() -> None:
    """Read the environment again on the next request (tests that change it)."""
    _environment.clear()
