"""Running the sandbox: blocking for `python run.py sandbox`, or in a daemon thread for the embedded mode."""
from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, make_server

from sandbox.app import create_app


def start_in_thread(host: str = "127.0.0.1", port: int = 5001, database_url: str | None = None) -> BaseWSGIServer:
    """Serve in a daemon thread. `server.server_port` is the bound port (pass 0 for any free one);
    `server.shutdown()` stops it."""
    server = make_server(host, port, create_app(database_url), threaded=True)
    threading.Thread(target=server.serve_forever, name="sandbox-http", daemon=True).start()
    return server


def serve(host: str = "127.0.0.1", port: int = 5001, database_url: str | None = None) -> None:
    server = make_server(host, port, create_app(database_url), threaded=True)
    print(f"Sandbox systems on http://{host}:{server.server_port}/ (OMS, ERP, WMS, TMS)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
