"""Running the sandbox: blocking for `python run.py sandbox`, in a daemon thread, or in a child process of
its own for the embedded mode (`start_in_process`: its own interpreter and GIL, so that the sandbox's work does
not take turns with Crossdock's threads on one core; in threads, the two share one).

Werkzeug's server answers every request with `Connection: close` (its handler cannot drain an unread body
before the next request line), so each call from a connector cost a TCP connect, a DNS lookup and a thread
start on both sides, a tenth of a loaded run. The handler here keeps HTTP/1.1 connections alive: it reads the
whole body before the app runs, so the stream always stands at the next request line. Bodies it will not
hold (chunked, `Expect: 100-continue`, over the app's size limit) go to Werkzeug's handler, which closes.
"""
from __future__ import annotations

import io
import logging
import os
import pathlib
import socket
import subprocess
import sys
import threading
import time

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.app import create_app

log = logging.getLogger(__name__)
IDLE_S = 60  # a kept-alive connection with no request for this long is closed (and its thread ends)
NO_BODY = frozenset({204, 304})


class KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_S

    def setup(self) -> None:
        super().setup()
        # headers and body are two writes: without this, Nagle holds the body until the client's delayed ACK
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run_wsgi(self) -> None:
        length = self._length()
        if length is None:
            return super().run_wsgi()
        body = self.rfile.read(length) if length else b""
        environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(body)
        response: list = []  # [status, headers]
        chunks: list[bytes] = []

        def start_response(status, headers, exc_info=None):
            if exc_info and response:
                raise exc_info[1].with_traceback(exc_info[2])
            response[:] = [status, headers]
            return chunks.append

        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception:  # the app renders its own errors; this is a bug in it
            log.exception("sandbox request %s %s failed", self.command, self.path)
            response[:], chunks[:] = ["500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")]], [b"error"]
            self.close_connection = True
        self._send(*response, b"".join(chunks))

    def _length(self) -> int | None:
        """The body's length when it can be read whole before the app runs, else None."""
        if self.headers.get("Transfer-Encoding") or self.headers.get("Expect"):
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        limit = getattr(self.server.app, "config", {}).get("MAX_CONTENT_LENGTH")
        return None if length < 0 or (limit is not None and length > limit) else length

    def _send(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        named = set()
        for key, value in headers:
            if key.lower() != "connection":
                self.send_header(key, value)
                named.add(key.lower())
        head = self.command == "HEAD" or int(code) in NO_BODY or int(code) < 200
        if "content-length" not in named and not head:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(payload)
        self.wfile.flush()

    def log_request(self, code="-", size="-") -> None:
        pass  # no access log: the record pages show what each system did

    def log_error(self, format: str, *args) -> None:
        log.debug("sandbox http: " + format, *args)  # an idle keep-alive connection timing out, a reset


def _server(host: str, port: int, database_url: str | None) -> BaseWSGIServer:
    return make_server(host, port, create_app(database_url), threaded=True, request_handler=KeepAliveHandler)


def start_in_thread(host: str = "127.0.0.1", port: int = 5001, database_url: str | None = None) -> BaseWSGIServer:
    """Serve in a daemon thread. `server.server_port` is the bound port (pass 0 for any free one);
    `server.shutdown()` stops it."""
    server = _server(host, port, database_url)
    threading.Thread(target=server.serve_forever, name="sandbox-http", daemon=True).start()
    return server


class SandboxProcess:
    """The child process serving the sandbox: `server_port` and `shutdown()`, as a server in a thread has."""

    def __init__(self, process: subprocess.Popen, port: int):
        self.process, self.server_port = process, port

    def shutdown(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def server_close(self) -> None:
        pass


def start_in_process(host: str = "127.0.0.1", port: int = 5001, database_url: str | None = None) -> SandboxProcess:
    """Serve from a child process, answering once the port listens; the child ends when this process ends,
    however it ends (it watches its parent)."""
    root = pathlib.Path(__file__).resolve().parent.parent
    process = subprocess.Popen([sys.executable, "-m", "sandbox.serve", host, str(port), database_url or "",
                                str(os.getpid())], cwd=root, stdout=subprocess.PIPE, text=True)
    ready = process.stdout.readline().split()
    process.stdout.close()
    if ready[:1] != ["listening"]:
        process.kill()
        process.wait()
        raise RuntimeError(f"the sandbox process did not start on {host}:{port} (see its output above)")
    return SandboxProcess(process, int(ready[1]))


def _child(host: str, port: int, database_url: str | None, parent: int) -> None:
    server = _server(host, port, database_url)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)  # the parent is gone (a kill included): so is the sandbox

    threading.Thread(target=watch, name="sandbox-parent-watch", daemon=True).start()
    print("listening", server.server_port, flush=True)
    server.serve_forever()


def serve(host: str = "127.0.0.1", port: int = 5001, database_url: str | None = None) -> None:
    server = _server(host, port, database_url)
    print(f"Sandbox systems on http://{host}:{server.server_port}/ (OMS, ERP, WMS, TMS)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":  # start_in_process's child: HOST PORT DATABASE_URL PARENT_PID
    _child(sys.argv[1], int(sys.argv[2]), sys.argv[3] or None, int(sys.argv[4]))
