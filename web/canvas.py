"""The browser canvas: serves the built single-page app (web/static/app, built from web/src by Vite).

The SPA routes (`/`, `/login`, `/flows`, `/flows/<id>`, `/monitor/<id>`, `/runs`, `/runs/<id>`, `/templates`,
`/admin/<page>`) all return the same index.html, which holds no data; the app reads the path, and every API
call it makes is authenticated (a page without a session goes to /login).
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

BUILD = Path(__file__).resolve().parent / "static" / "app"

bp = Blueprint("canvas", __name__, static_folder=str(BUILD), static_url_path="/static/app")


def _index():
    if not (BUILD / "index.html").is_file():
        abort(404, description="The canvas bundle is missing; run `npm --prefix web run build`.")
    response = send_from_directory(BUILD, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"  # assets are content-hashed; only index.html must be fresh
    return response


@bp.get("/")
def home():
    return _index()


@bp.get("/login")
def login():
    return _index()


@bp.get("/flows")
def flow_list():
    return _index()


@bp.get("/flows/<flow_id>")
def editor(flow_id: str):
    return _index()


@bp.get("/monitor/<flow_id>")
def monitor(flow_id: str):
    return _index()


@bp.get("/runs")
def run_list():
    return _index()


@bp.get("/runs/<run_id>")
def run_inspector(run_id: str):
    return _index()


@bp.get("/templates")
def templates():
    return _index()


@bp.get("/admin/<page>")
def admin(page: str):
    return _index()
