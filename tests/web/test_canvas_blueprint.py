"""web.canvas serves the single-page app: its routes return the built index.html, its assets come from the build."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from web import canvas


@pytest.fixture
def client():
    app = Flask(__name__, static_folder=None)
    app.register_blueprint(canvas.bp)
    return app.test_client()


@pytest.mark.parametrize("path", ["/", "/flows", "/flows/order-release", "/login", "/admin/users", "/admin/branding",
                                  "/flows/order-release/", "/runs/12?workspace=default"])
def test_spa_routes_return_the_built_index(client, path):
    res = client.get(path)
    assert res.status_code == 200
    assert res.mimetype == "text/html"
    assert res.headers["Cache-Control"] == "no-cache"
    assert b'<div id="root"></div>' in res.data


def test_the_index_names_no_product(client):
    """The partner's brand names the product once the app runs; the page served before it names none, so a
    white-labelled partner's customer never sees another name, not even in the tab while the app loads."""
    assert b"crossdock" not in client.get("/login").data.lower().replace(b"/static/app/", b"")


def test_assets_named_by_the_index_are_served(client):
    index = client.get("/").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/app/assets/[^"]+)"', index)
    assert len(assets) >= 2
    for url in assets:
        res = client.get(url)
        assert res.status_code == 200, url
        assert res.mimetype in ("text/javascript", "application/javascript", "text/css")


def test_unknown_asset_is_404(client):
    assert client.get("/static/app/assets/nope.js").status_code == 404


ROUTES_TS = Path(__file__).resolve().parents[2] / "web" / "src" / "routes.ts"


def app_paths() -> list[str]:
    """The paths of the app's route table (web/src/routes.ts), ":id" filled in."""
    paths = re.findall(r'\{ path: "([^"]+)", page: "', ROUTES_TS.read_text())
    assert len(paths) >= 10, "routes.ts lists the app's pages as { path: ..., page: ... }"
    return [p.replace(":id", "some%20id") for p in paths]


def test_every_page_of_the_route_table_is_served_the_app(client):
    for path in app_paths():
        res = client.get(path)
        assert res.status_code == 200 and b'<div id="root"></div>' in res.data, path


@pytest.mark.parametrize("path", ["/nowhere", "/flows/a/b/c", "/admin/nope", "/apis", "/hooksmith"])
def test_a_path_no_page_owns_is_the_app_too_which_shows_its_not_found_page(client, path):
    res = client.get(path)
    assert res.status_code == 200 and res.mimetype == "text/html"


@pytest.mark.parametrize("path", ["/api", "/api/v1/nope", "/hooks/ws", "/static/nope.js", "/socket.io/", "/metrics",
                                  "/healthz"])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_the_servers_own_prefixes_never_get_the_app(client, path, method):
    """Not the app's HTML, and not a 405 of its GET route: a 404, as if the app were not there."""
    res = client.open(path, method=method)
    assert res.status_code == 404 and b"<div id=\"root\">" not in res.data
