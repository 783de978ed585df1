"""web.canvas serves the single-page app: its routes return the built index.html, its assets come from the build."""
from __future__ import annotations

import re

import pytest
from flask import Flask

from web import canvas


@pytest.fixture
def client():
    app = Flask(__name__, static_folder=None)
    app.register_blueprint(canvas.bp)
    return app.test_client()


@pytest.mark.parametrize("path", ["/", "/flows", "/flows/order-release", "/login", "/admin/users", "/admin/branding"])
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
