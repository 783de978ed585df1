"""The plain-HTTP sends past requests' adapter (nodes/http_direct.py): answers read as requests reads them (chunked,
gzip, repeated headers, no body), one kept-alive connection reused, and a connection the server closed while idle
replaced before the request goes out."""
import gzip
import socket
import threading

import pytest

from nodes import http_client

ANSWERS = {
    b"/chunked": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"4\r\n{\"a\"\r\n4;ext=1\r\n: 1}\r\n0\r\nX-Trailer: t\r\n\r\n",
    b"/gzip": (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n"
               b"\r\n" % len(gzip.compress(b'{"z": 1}'))) + gzip.compress(b'{"z": 1}'),
    b"/twice": b"HTTP/1.1 200 OK\r\nX-Seen: a\r\nX-Seen: b\r\nContent-Length: 2\r\n\r\nok",
    b"/empty": b"HTTP/1.1 204 No Content\r\n\r\n",
    b"/close": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    b"/interim": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    b"/to-close": b"HTTP/1.1 200 OK\r\n\r\nuntil the end",
    b"/cut": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok",
    b"/crowded": b"HTTP/1.1 200 OK\r\n" + b"X-H: v\r\n" * 101 + b"Content-Length: 2\r\n\r\nok",
}
CLOSING = {b"/close", b"/to-close", b"/cut", b"/crowded"}


class Server:
    """Answers each request with ANSWERS[path]; counts the connections accepted and what each request said."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections, self.requests = 0, []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        reader = conn.makefile("rb")
        with conn:
            while (line := reader.readline()):
                head = [line]
                while (h := reader.readline()) not in (b"\r\n", b""):
                    head.append(h)
                length = next((int(h.split(b":")[1]) for h in head if h.lower().startswith(b"content-length")), 0)
                self.requests.append((b"".join(head), reader.read(length)))
                path = line.split()[1]
                conn.sendall(ANSWERS[path])
                if path in CLOSING:
                    return

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def server():
    s = Server()
    yield s
    s.sock.close()


@pytest.fixture
def session():
    s = http_client._GuardedSession(http_client.Egress.parse(["127.0.0.0/8"]))
    yield s
    s.close()


def get(session, url, **body):
    return http_client.send(session, "POST" if body else "GET", url, headers={}, timeout=5, **body)


def test_chunked_and_gzip_answers_are_read_whole(server, session):
    assert get(session, server.url("/chunked")).json() == {"a": 1}
    assert get(session, server.url("/gzip")).json() == {"z": 1}


def test_a_repeated_header_is_joined_as_urllib3_joins_it(server, session):
    assert get(session, server.url("/twice")).headers["x-seen"] == "a, b"


def test_no_content_and_interim_answers(server, session):
    assert (get(session, server.url("/empty")).status_code, get(session, server.url("/empty")).content) == (204, b"")
    r = get(session, server.url("/interim"))
    assert (r.status_code, r.text) == (201, "ok")


def test_one_connection_carries_the_requests_and_one_write_carries_each(server, session):
    for _ in range(3):
        r = get(session, server.url("/twice"), json={"n": 1})
    assert server.connections == 1 and r.request.method == "POST"
    head, body = server.requests[-1]
    assert body == b'{"n": 1}' and b"Host: 127.0.0.1:%d\r\n" % server.port in head
    assert b"Content-Type: application/json" in head and b"User-Agent: python-requests/" in head


def test_a_connection_the_server_closed_is_not_reused(server, session):
    get(session, server.url("/close"))
    assert get(session, server.url("/twice")).text == "ok"
    assert server.connections == 2


def test_a_refused_connection_is_reported_by_requests(session):
    import requests
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(requests.ConnectionError, match="Max retries exceeded"):  # requests' own words
        get(session, f"http://127.0.0.1:{port}/x")


def test_an_answer_that_runs_to_the_close_is_read_whole_and_its_connection_not_reused(server, session):
    assert get(session, server.url("/to-close")).text == "until the end"
    assert get(session, server.url("/twice")).text == "ok" and server.connections == 2


@pytest.mark.parametrize("path", ["/cut", "/crowded"])
def test_a_broken_off_or_overlong_answer_is_requests_connection_error(server, session, path):
    import requests
    with pytest.raises(requests.ConnectionError, match="Connection aborted"):
        get(session, server.url(path))
    assert get(session, server.url("/twice")).text == "ok"


def _header_blocks(seed, count):
    """Header blocks made of the parts where parsers disagree: folds, bare CR, empty names, "From " lines, colons."""
    import random
    rnd = random.Random(seed)
    atoms = [b"Content-Type", b"X-A", b"x-a", b"From ", b":", b" ", b"\t", b"\r", b"value", b"a:b", b"\xe9", b"  v ", b"::"]
    for _ in range(count):
        lines = [b"".join(rnd.choice(atoms) for _ in range(rnd.randint(0, 5))) + rnd.choice([b"\r\n", b"\n"])
                 for _ in range(rnd.randint(0, 6))]
        yield b"".join(lines) + b"\r\n"


def test_an_answers_header_fields_are_those_http_client_parses():
    import http.client
    import io
    from nodes import http_direct
    for block in _header_blocks(1, 5000):
        expected = http.client.parse_headers(io.BytesIO(block))
        got = http_direct.read_headers(io.BytesIO(block))
        assert got.pairs == list(expected.items()), block
        assert [got.get(name) for name in ("x-a", "X-A", "content-type", "absent")] == [
            expected.get(name) for name in ("x-a", "X-A", "content-type", "absent")], block


def test_a_folded_header_reaches_the_response_as_http_client_gives_it(server, session):
    ANSWERS[b"/folded"] = b"HTTP/1.1 200 OK\r\nX-Long: one\r\n two\r\nContent-Length: 2\r\n\r\nok"
    try:
        r = get(session, server.url("/folded"))
    finally:
        del ANSWERS[b"/folded"]
    assert (r.headers["x-long"], r.text) == ("one\r\n two", "ok")


def test_an_overlong_header_line_is_requests_connection_error(server, session):
    import requests
    ANSWERS[b"/long"] = b"HTTP/1.1 200 OK\r\nX-Long: " + b"v" * 70000 + b"\r\nContent-Length: 2\r\n\r\nok"
    CLOSING.add(b"/long")
    try:
        with pytest.raises(requests.ConnectionError, match="Connection aborted"):
            get(session, server.url("/long"))
    finally:
        del ANSWERS[b"/long"]
        CLOSING.discard(b"/long")
