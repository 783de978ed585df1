"""The HTTP client of the connector nodes: one requests.Session per thread (and egress policy) for the whole
process, shared by every node, so that a worker keeps one pooled keep-alive connection per target instead of one
per node.

requests reads the proxy variables and ~/.netrc again on every request (its `trust_env`), which cost about a
third of a call's CPU. Here the environment is read once per origin, as requests reads it: the proxies for the
URL (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY) and the CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE).
Two differences, on purpose: ~/.netrc is not read (a connection carries its own credentials; the server
account's netrc must not add any to a flow's requests), and no cookie is kept (one session serves every flow
and workspace of the process, and a cookie one target sets must not travel with another run's request).

Egress policy: a connector reaches public addresses only, plus what its workspace allows (`Egress`, built by
runtime/egress.py from the workspace's settings). The check is made where the socket is opened: the host name is
resolved once, every address it resolves to is checked, and the socket connects to those checked addresses, so
a DNS answer that changes between a check and the connect (rebinding) cannot slip through; a redirect opens its
own connection and is checked the same way. Each policy has its own sessions, so a pooled keep-alive connection
opened under one workspace's allowances is never reused under another's. Residual risk: through a proxy
(HTTP(S)_PROXY, set by the operator) the proxy resolves the name itself; the name is checked here beforehand.
"""
from __future__ import annotations

import contextlib
import contextvars
import http.cookiejar
import ipaddress
import os
import re
import socket
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies, select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family, create_connection

from nodes import http_direct, remote_errors, turns

MAX_ORIGINS = 1000  # origins whose environment is kept; past this it is read again
MAX_POLICIES = 64  # sessions a thread keeps, one per distinct egress policy; past this the oldest is closed
_local = threading.local()
_environment: dict[tuple[str, str], dict[str, Any]] = {}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# IPv6 forms that carry an IPv4 address, checked as that address too
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class EgressDenied(Exception):
    """The policy refuses the destination; connectors report it as `egress_denied`. Deliberately no OSError,
    so that neither urllib3 nor requests retries it or turns it into a connection error."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Egress:
    """Where connectors may connect: any public address, plus the allowed `hosts` ((name or address, port))
    and `networks` (address ranges, any port)."""
    hosts: frozenset[tuple[str, int]] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, allow: Iterable[str]) -> "Egress":
        """From allow-list entries: "host:port", "[v6 address]:port", or an address range ("10.0.0.0/8",
        a bare address is one address); ValueError naming the first entry that is none of these."""
        hosts, networks = set(), []
        for entry in allow:
            if not isinstance(entry, str) or not entry.strip():
                raise ValueError(f"{entry!r} is not a host:port or an address range")
            entry = entry.strip()
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            host, sep, port = entry.rpartition(":")
            if not sep or not port.isdigit() or not 0 < int(port) < 65536 or not _name(host) or "/" in host:
                raise ValueError(f"{entry!r} is not a host:port or an address range")
            hosts.add((_name(host), int(port)))
        return cls(frozenset(hosts), tuple(networks))

    def denies(self, host: str, port: int, addresses: Iterable[str]) -> str | None:
        """Why a connection to `host`:`port`, which resolved to `addresses`, is refused; None when allowed."""
        if (_name(host), port) in self.hosts:
            return None
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if (str(ip), port) in self.hosts or any(ip in net for net in self.networks if net.version == ip.version):
                continue
            kind = non_public(ip)
            if kind:
                where = f"[{address}]:{port}" if ip.version == 6 else f"{address}:{port}"
                shown = where if _name(host) == str(ip) else f"{host}:{port} ({where})"
                return (f"{shown} is a {kind} address, and the workspace's egress allow list "
                        f"(settings.egress.allow) does not list it")
        return None


def non_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What kind of non-public address `ip` is (loopback, private, ...), or None for a public one."""
    embedded = []
    if ip.version == 6:
        embedded = [a for a in (ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())) if a is not None]
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    for candidate in (*embedded, ip):
        for kind in ("loopback", "unspecified", "link_local", "multicast", "private", "reserved"):
            if getattr(candidate, f"is_{kind}"):
                return kind.replace("_", "-")
        if not candidate.is_global:
            return "non-public"
    return None


def _name(host: str) -> str:
    name = host.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(name))  # one spelling per address: "::1", never "0::1"
    except ValueError:
        return name


class _Guarded:
    """The connection of an HTTPConnection(Pool) under a policy: resolve, check every address, connect to them."""
    egress: Egress

    def _new_conn(self) -> socket.socket:
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, allowed_gai_family(), socket.SOCK_STREAM)
        except socket.gaierror as e:
            raise NameResolutionError(self.host, self, e) from e
        reason = self.egress.denies(self.host, self.port, [info[4][0] for info in infos])
        if reason:
            raise EgressDenied(reason)
        error: OSError | None = None
        for info in infos:  # the checked addresses themselves: a second lookup might answer differently
            try:
                sock = create_connection((info[4][0], self.port), self.timeout, source_address=self.source_address,
                                         socket_options=self.socket_options)
            except socket.timeout as e:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out. "
                                                f"(connect timeout={self.timeout})") from e
            except OSError as e:
                error = e
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, egress: Egress):
        self.egress = egress
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        conns = {scheme: type(f"Guarded{cls.__name__}", (_Guarded, cls), {"egress": self.egress})
                 for scheme, cls in (("http", HTTPConnection), ("https", HTTPSConnection))}
        self.poolmanager.pool_classes_by_scheme = {
            scheme: type(f"Guarded{pool.__name__}", (pool,), {"ConnectionCls": conns[scheme]})
            for scheme, pool in (("http", HTTPConnectionPool), ("https", HTTPSConnectionPool))}


class _GuardedSession(requests.Session):
    def __init__(self, egress: Egress):
        super().__init__()
        self.egress = egress
        for prefix in ("http://", "https://"):
            self.mount(prefix, _GuardedAdapter(egress))
        self.direct = http_direct.Pool(self._open)  # plain-HTTP sends past the adapter (nodes/http_direct.py)

    def _open(self, host: str, port: int, timeout: float) -> socket.socket:
        """A socket to host:port under the policy, as _Guarded opens one; any failure is reported by requests, which
        opens it again."""
        name = host.rstrip(".")
        infos = socket.getaddrinfo(name, port, allowed_gai_family(), socket.SOCK_STREAM)
        reason = self.egress.denies(name, port, [info[4][0] for info in infos])
        if reason:
            raise EgressDenied(reason)
        error: OSError | None = None
        for info in infos:  # the checked addresses themselves
            try:
                return create_connection((info[4][0], port), timeout)
            except OSError as e:
                error = e
        raise error or OSError(f"no address for {host}")

    def close(self) -> None:
        self.direct.close()
        super().close()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # through a proxy the socket goes to the proxy, not to the target: check the target's name here
        # (also on each redirect, which requests sends through this method)
        if select_proxy(request.url, kwargs.get("proxies") or {}):
            check(self.egress, request.url)
        return super().send(request, **kwargs)


def check(egress: Egress, url: str) -> None:
    """EgressDenied unless `egress` allows what `url`'s host resolves to now (without connecting)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname or "", port, 0, socket.SOCK_STREAM)
    except socket.gaierror:
        return  # the proxy answers for a name only it can resolve
    reason = egress.denies(parts.hostname or "", port, [info[4][0] for info in infos])
    if reason:
        raise EgressDenied(reason)


def session(egress: Egress | None = None) -> requests.Session:
    """This thread's session under `egress` (requests.Session is not documented as thread-safe); without one,
    public addresses only."""
    egress = egress or Egress()
    kept: OrderedDict[Egress, requests.Session] | None = getattr(_local, "sessions", None)
    if kept is None:
        kept = _local.sessions = OrderedDict()
    found = kept.get(egress)
    if found is None:
        found = kept[egress] = _GuardedSession(egress)
        found.trust_env = False  # read once per origin instead, by environment()
        found.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        while len(kept) > MAX_POLICIES:
            kept.popitem(last=False)[1].close()
    else:
        kept.move_to_end(egress)
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
    which still follows redirects. `body` is json= or data=, as requests takes them. Under `dry_run()` nothing is
    sent: DryRunStop carries the request as it would have gone out, secrets masked."""
    prepared = _prepared(method, url, {**session_.headers, **headers}, body)
    if _dry.get():  # the body whole, as it would go (sent() cuts it for an error's excerpt)
        raise DryRunStop({**remote_errors.sent(prepared), "body": body["json"] if "json" in body else (
            body["data"].decode("utf-8", "replace") if isinstance(body.get("data"), bytes) else body.get("data"))})
    env = environment(url)
    if (isinstance(session_, _GuardedSession) and prepared.url[:7].lower() == "http://"
            and isinstance(prepared.body, (bytes, str, type(None)))
            and not (env.get("proxies") and select_proxy(prepared.url, env["proxies"]))):
        parts = urlsplit(prepared.url)
        try:
            with turns.waiting():
                response = http_direct.send(session_.direct, prepared, parts.hostname, parts.port or 80, timeout)
        except http_direct.Unopened:
            pass  # nothing went out: requests opens its own connection, and says why that fails
        else:
            if response.is_redirect:
                prepared.prepare_cookies(None)  # what resolve_redirects merges the session's jar into
            return http_direct.redirected(session_, response, timeout=timeout, **env)
    prepared.prepare_cookies(None)
    with turns.waiting():
        return session_.send(prepared, timeout=timeout, allow_redirects=True, **env)


def _prepared(method: str, url: str, headers: dict[str, str], body: dict[str, Any]) -> requests.PreparedRequest:
    """PreparedRequest.prepare but for its cookies: an empty jar made and asked for a Cookie header on every call was
    a third of it (the session keeps none: see the module docstring). A request that goes to requests, or follows a
    redirect, has them prepared as prepare would have (an empty jar adds no header)."""
    unknown = set(body) - {"json", "data", "params"}
    if unknown:
        raise TypeError(f"send() got unexpected keyword arguments {sorted(unknown)}")
    prepared = requests.PreparedRequest()
    prepared.prepare_method(method)
    as_is = body.get("params") is None and prepared_as_is(url)
    if as_is:
        prepared.url = url
    else:
        prepared.prepare_url(url, body.get("params"))
    prepared.prepare_headers(headers)
    prepared.prepare_body(body.get("data"), None, body.get("json"))
    if not as_is:  # a URL taken as it is has no user info, of which prepare_auth would make Basic auth
        prepared.prepare_auth(None, url)
    prepared.prepare_hooks(None)
    return prepared


# URLs that PreparedRequest.prepare_url gives back unchanged (a third of preparing a request, for a connector's
# URL that is most often already in this form): http(s), a lower-case host name or IPv4 address, a port without
# leading zeros, a path of the characters urllib3 leaves alone without dot segments, a query of them (non-empty),
# percent-escapes in upper case only, no user info, no fragment. Anything else goes through prepare_url.
_AS_IS = re.compile(r"https?://(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
                    r"(?::([1-9][0-9]{0,4}))?(/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*)(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]+)?")
_ESCAPE = re.compile(r"%(..)")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def prepared_as_is(url: str) -> bool:
    """Whether requests would prepare `url` as it is (see _AS_IS)."""
    found = _AS_IS.fullmatch(url)
    if found is None or "/." in found.group(2) or (found.group(1) and int(found.group(1)) > 65535):
        return False
    return "%" not in url or all(_hex(escape) for escape in _ESCAPE.findall(url)) and url.count("%") == len(
        _ESCAPE.findall(url))


def _hex(escape: str) -> bool:
    """An upper-case escape of a character that requests leaves escaped (it unescapes the unreserved ones)."""
    return all(c in "0123456789ABCDEF" for c in escape) and chr(int(escape, 16)) not in _UNRESERVED


# A dry run (runtime/dry_steps.py) executes connectors up to the call: per thread (and asyncio task), so a dry
# run's step never stops another run's request in the same process.
_dry: contextvars.ContextVar[bool] = contextvars.ContextVar("crossdock_dry_run", default=False)


class DryRunStop(Exception):
    """A connector reached the point of sending during a dry run; `request` is what it would send."""

    def __init__(self, request: dict | None):
        super().__init__("dry run: stopped before the call")
        self.request = request


@contextlib.contextmanager
def dry_run():
    """Within it, `send` sends nothing and raises DryRunStop with the request instead."""
    token = _dry.set(True)
    try:
        yield
    finally:
        _dry.reset(token)


def dry() -> bool:
    """Whether requests are being held back for a dry run (connectors skip their reads before a write)."""
    return _dry.get()


def forget_environment() -> None:
    """Read the environment again on the next request (tests that change it)."""
    _environment.clear()
