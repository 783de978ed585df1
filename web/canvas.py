"""The browser canvas: serves the built single-page app (web/static/app, built from web/src by Vite).

One catch-all route returns the same index.html for every GET path outside the server's own prefixes; the
app's pages are listed once, in web/src/routes.ts, which also draws the not-found page of a path it does not
know. index.html holds no data, and every API call the app makes is authenticated (a page without a session
goes to /login).
"""
from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, send_from_directory
from werkzeug.routing import PathConverter

BUILD = Path(__file__).resolve().parent / "static" / "app"
# first path segments the app never owns: the APIs, webhooks, assets, live events and operations endpoints
SERVER_PREFIXES = ("api", "hooks", "static", "socket.io", "metrics", "health", "healthz", "readyz")


class AppPath(PathConverter):
    """A path of the app: any path whose first segment is not one of SERVER_PREFIXES. Such a path matches
    no rule here at all, so an unknown API path stays a JSON 404 for every method (not a 405 of this GET)."""
    regex = "(?!(?:" + "|".join(re.escape(p) for p in SERVER_PREFIXES) + ")(?:/|$))" + PathConverter.regex


bp = Blueprint("canvas", __name__, static_folder=str(BUILD), static_url_path="/static/app")
bp.record_once(lambda state: state.app.url_map.converters.setdefault("app_path", AppPath))  # before the rule


def _index():
    if not (BUILD / "index.html").is_file():
        abort(404, description="The canvas bundle is missing; run `npm --prefix web run build`.")
    response = send_from_directory(BUILD, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"  # assets are content-hashed; only index.html must be fresh
    return response


@bp.get("/", defaults={"path": ""})
@bp.get("/<app_path:path>")
def app_page(path: str):
    return _index()
