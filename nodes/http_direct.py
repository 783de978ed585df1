"""The connectors' plain-HTTP sends without requests' adapter and urllib3 (half of a call's CPU, four calls an order
release): a request requests has prepared goes out on a kept-alive http.client connection of the session's own, and
its answer comes back as a requests.Response, so callers, redirects and errors are what requests gives.

What takes this path: http:// targets with no proxy, from a session of nodes/http_client.py. The connection is opened
under the session's egress policy like urllib3's (resolve once, check every address, connect to those). A connection
that cannot be opened (refused, denied, unresolvable) hands the request, not yet sent, to requests, so its errors are
exactly requests' own; a failure after sending is raised as the requests exception urllib3's would have become.
A redirect is followed by requests (Session.resolve_redirects); HTTPS and proxies stay on requests' path."""
from __future__ import annotations

import http.client
import io
import re
import socket
import sys
from datetime import timedelta
from time import perf_counter
from typing import Any, Callable

import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3.exceptions import ProtocolError, ReadTimeoutError
from urllib3.response import HTTPResponse as Urllib3Response
from urllib3.util.wait import wait_for_read

IDLE_KEPT = 4  # idle connections kept per origin and session (a session serves one thread: one is in use at a time)


class Unopened(Exception):
    """The connection could not be opened; nothing was sent."""


class Connection:
    """A kept-alive HTTP/1.1 connection: one write per request (line, headers and body), its answer read by an
    http.client.HTTPResponse of its own. The response's buffered reader may read ahead only within its own answer:
    the next answer's bytes do not exist before the next request is written, and a connection with bytes arriving
    while idle is not reused (Pool.take)."""

    def __init__(self, host: str, port: int, sock: socket.socket):
        self.host, self.port, self.sock = host, port, sock

    def close(self) -> None:
        self.sock.close()


class Pool:
    """The idle kept-alive connections of one session, by (host, port)."""

    def __init__(self, opener: Callable[[str, int, float], socket.socket]):
        self._opener = opener
        self._idle: dict[tuple[str, int], list[Connection]] = {}

    def take(self, host: str, port: int, timeout: float) -> Connection:
        idle = self._idle.get((host, port))
        while idle:
            conn = idle.pop()
            if not wait_for_read(conn.sock, timeout=0.0):  # readable while idle: the server closed it
                conn.sock.settimeout(timeout)
                return conn
            conn.close()
        try:
            sys.audit("http.client.connect", self, host, port)
            sock = self._opener(host, port, timeout)
        except Exception as err:  # noqa: BLE001 - requests opens it again and reports it in its own words
            raise Unopened() from err
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return Connection(host, port, sock)

    def give(self, conn: Connection) -> None:
        idle = self._idle.setdefault((conn.host, conn.port), [])
        if len(idle) < IDLE_KEPT:
            idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


def send(pool: Pool, prepared: requests.PreparedRequest, host: str, port: int, timeout: float) -> requests.Response:
    """Send `prepared` to host:port (its URL's) and read the whole answer; Unopened when no connection could be
    opened (nothing sent)."""
    lines = [f"{prepared.method} {prepared.path_url} HTTP/1.1"]
    if "Host" not in prepared.headers:
        name = f"[{host}]" if ":" in host else host
        lines.append(f"Host: {name}" if port == 80 else f"Host: {name}:{port}")
    lines += [f"{k}: {v}" for k, v in prepared.headers.items()]
    body = prepared.body.encode("utf-8") if isinstance(prepared.body, str) else prepared.body or b""
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    conn = pool.take(host, port, timeout)
    started = perf_counter()
    try:
        conn.sock.sendall(data)
        answer = Answer(conn.sock, method=prepared.method)
        answer.begin()  # skips 100 Continue; limits the header lines' length and count
        content = answer.read()  # chunked, Content-Length, to the close, or none (HEAD, 204, 304)
    except (socket.timeout, TimeoutError) as err:
        conn.close()
        raise requests.ReadTimeout(ReadTimeoutError(None, prepared.url, f"Read timed out. (read timeout={timeout})"),
                                   request=prepared) from err
    except (OSError, http.client.HTTPException, ValueError) as err:
        conn.close()
        raise requests.ConnectionError(ProtocolError("Connection aborted.", err), request=prepared) from err
    if answer.will_close:
        conn.close()
    else:
        pool.give(conn)
    headers: CaseInsensitiveDict = CaseInsensitiveDict()
    for name, value in answer.msg.pairs:  # repeated ones joined by ", ", as urllib3's HTTPHeaderDict joins them
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return _response(prepared, answer.status, answer.reason, headers, content, perf_counter() - started)


MAX_LINE = 65536  # http.client's bounds: the length of a status or header line, and the header lines of an answer
MAX_HEADERS = 100
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]*:")  # a header line as the email package's parser takes one: name, colon


class Headers:
    """An answer's header fields in order, as http.client's HTTPMessage gives them to its response and to us:
    `get` is the first field of a name (any case), a folded field keeps its continuation lines."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs
        self._first: dict[str, str] = {}
        for name, value in pairs:
            self._first.setdefault(name.lower(), value)

    def get(self, name: str, default: Any = None) -> Any:
        return self._first.get(name.lower(), default)

    def get_all(self, name: str, default: Any = None) -> Any:
        name = name.lower()
        return [v for k, v in self.pairs if k.lower() == name] or default

    def items(self) -> list[tuple[str, str]]:
        return list(self.pairs)


def read_headers(fp: Any) -> Headers:
    """The header block of an answer, read up to its empty line within http.client's bounds (LineTooLong,
    HTTPException past MAX_HEADERS lines), and parsed as http.client parses it through the email package (a third of
    a call's CPU, for what a few string operations do): "Name: value" with the value's leading blanks and line end
    cut; a line starting with a blank continues the field before it; a line that is no field ends the fields."""
    lines = []
    while True:
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        if line in (b"\r\n", b"\n", b""):
            break
    pairs: list[tuple[str, str]] = []
    folds = False  # whether a line starting with a blank continues a field: only right after one
    for line in _LINE.findall(b"".join(lines).decode("iso-8859-1")):  # the email package splits at CR too
        if line in ("\r\n", "\n", "\r", ""):
            break
        if line[0] in " \t":
            if folds:  # the email package keeps a folded value's line breaks, as here
                pairs[-1] = (pairs[-1][0], pairs[-1][1] + line)
            continue
        found = _NAME.match(line)
        if found is None and not line.startswith("From "):
            break  # not a field: the email package ends the header block here
        folds = found is not None and found.end() > 1 and not line.startswith("From ")
        if folds:  # ":x" and "From " lines are skipped, as the email package skips them
            pairs.append((line[:found.end() - 1], line[found.end():].lstrip(" \t")))
    return Headers([(name, value.rstrip("\r\n")) for name, value in pairs])


class Answer(http.client.HTTPResponse):
    """http.client's response, its header block read by `read_headers` instead of http.client.parse_headers; the
    rest (status line, 100 Continue, chunked, Content-Length, reading to the close, keep-alive) is http.client's."""

    def begin(self) -> None:
        if self.headers is not None:
            return
        while True:  # skips 100 Continue, as http.client does
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            read_headers(self.fp)
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = read_headers(self.fp)
        coding = self.headers.get("transfer-encoding")
        self.chunked = bool(coding and coding.lower() == "chunked")
        self.chunk_left = None
        self.will_close = self._check_close()
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            else:
                if self.length < 0:
                    self.length = None
        if status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED) or 100 <= status < 200 or self._method == "HEAD":
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True


def _response(prepared: requests.PreparedRequest, status: int, reason: str, headers: CaseInsensitiveDict,
              content: bytes, elapsed: float) -> requests.Response:
    """The answer as requests would have built it (HTTPAdapter.build_response), its body read and decoded."""
    response = requests.Response()
    response.status_code = status
    response.headers = headers
    response.encoding = get_encoding_from_headers(headers)
    response.reason = reason
    response.url = prepared.url
    response.request = prepared
    response.elapsed = timedelta(seconds=elapsed)
    response._content = _decoded(content, headers.get("Content-Encoding"))
    response._content_consumed = True
    return response


def _decoded(raw: bytes, encoding: str | None) -> bytes:
    """The body with its Content-Encoding (gzip, deflate: what the session accepts) undone, as urllib3 does."""
    if not encoding or encoding.strip().lower() == "identity":
        return raw
    return Urllib3Response(body=io.BytesIO(raw), headers={"Content-Encoding": encoding}, preload_content=True,
                           decode_content=True).data


def redirected(session: requests.Session, response: requests.Response, **kwargs: Any) -> requests.Response:
    """`response` after following its redirects as Session.send does (`kwargs`: timeout, verify, proxies)."""
    if not response.is_redirect:
        return response
    history = [response, *session.resolve_redirects(response, response.request, **kwargs)]
    final = history.pop()
    final.history = history
    return final
