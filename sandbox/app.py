"""The sandbox app factory: one blueprint per simulated system, the record pages, and errors rendered in the
style of the system a request went to, so that no bad input ever reaches a client as an HTML 500.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from sandbox import (admin, edi_partner, erp, erp_sales, netsuite, oms, oms_catalog, pages, store, tms, webhooks, wms,
                     wms_inventory)
from sandbox import request_log
from sandbox.rest import Problem

log = logging.getLogger(__name__)

# path prefix -> how that system writes an error
RENDERERS = {
    "oms": oms.render_problem,
    "erp": erp.render_problem,
    "wms": wms_inventory.render_problem,
    "tms": tms.render_problem,
    "netsuite": netsuite.render_problem,
    "edi": edi_partner.render_problem,
}


def create_app(database_url: str | None = None) -> Flask:
    """database_url defaults to the SQLite file ./data/sandbox.sqlite; each system is seeded on first start."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    app.json.sort_keys = False
    engine = store.make_engine(database_url)
    app.extensions["sandbox.engine"] = engine
    with store.transaction(engine) as conn:
        for system in store.SYSTEMS:
            admin.ensure_seeded(conn, system)

    dispatcher = webhooks.Dispatcher(engine)
    app.extensions["sandbox.webhooks"] = dispatcher
    dispatcher.resume()

    app.register_blueprint(oms.bp, url_prefix="/oms")
    app.register_blueprint(oms_catalog.bp, url_prefix="/oms")
    app.register_blueprint(erp.bp, url_prefix="/erp")
    app.register_blueprint(erp_sales.bp, url_prefix="/erp")
    app.register_blueprint(wms.bp, url_prefix="/wms")
    app.register_blueprint(wms_inventory.bp, url_prefix="/wms")
    app.register_blueprint(tms.bp, url_prefix="/tms")
    app.register_blueprint(netsuite.bp, url_prefix="/netsuite")
    app.register_blueprint(edi_partner.bp, url_prefix="/edi")
    app.register_blueprint(pages.bp)
    app.register_blueprint(admin.bp)
    request_log.install(app)  # each system's log of the requests it received (GET /_requests)

    app.register_error_handler(Problem, _render)
    app.register_error_handler(HTTPException, lambda e: _render(
        Problem(e.code or 500, (e.name or "error").lower().replace(" ", "_"), e.description or e.name)))
    app.register_error_handler(Exception, _crash)
    return app


def _render(problem: Problem):
    system = request.path.strip("/").split("/", 1)[0]
    renderer = RENDERERS.get(system, _default_renderer)
    response = jsonify(renderer(problem))
    response.status_code = problem.status
    return response


def _default_renderer(problem: Problem) -> dict:
    return {"error": {"code": problem.code, "message": problem.message}}


def _crash(error: Exception):
    log.exception("sandbox bug on %s %s", request.method, request.path)
    return _render(Problem(500, "internal_error", f"Internal error: {type(error).__name__}"))
