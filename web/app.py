"""The Flask app factory: one line per blueprint, the runtime in app.extensions, JSON errors."""
from __future__ import annotations

from flask import Flask

from designer import (access, connections_api, flows_api, lookups_api, palette_api, records_api, runs_api,
                      session_api, stats_api, templates_api)
from designer import keys_api
from designer import audit_api, audit_trail  # the audit log: every change recorded, read and exported
from designer import partner_api, users_api, workspaces_api  # tenancy: workspaces, users, partner and brand
from designer import openapi, published_api  # the /api/v1 OpenAPI document; publishing experience APIs
from designer import trading_partners_api  # EDI trading partners (issue 15)
from designer import diff_api  # the version diff of a flow (issue 13)
from designer import events_api  # business events between flows (issue 16)
from designer import threads_api  # the document thread (issue 14)
from designer import mappings_api  # the no-code mapper: compile, parse, schemas, sample previews (issue 13)
from designer import alerts_api  # alerts (issue 14)
from designer import reports_api  # the SLA report (issue 14)
from designer import exceptions_api  # the exception workbench (issue 14)
from designer import dashboard_api  # the dashboard, business KPIs and flow health (issue 14)
from designer.request_context import refuse_nul
from runtime.wiring import Runtime
from web import canvas, errors, hooks, live
from web import ext_api
from web import limits
from web import metrics  # GET /metrics for Prometheus (issue 14)


def create_app(runtime: Runtime) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = runtime.settings.max_body_bytes
    app.config["SECRET_KEY"] = runtime.settings.secret_key
    app.json.sort_keys = False
    app.url_map.merge_slashes = False  # a double slash is a 404 in JSON, not an HTML redirect
    app.extensions["crossdock.runtime"] = runtime
    errors.register(app)
    app.before_request(refuse_nul)  # every endpoint: PostgreSQL text cannot hold the NUL of a path or query
    access.register(app)  # session cookie; cross-site requests refused before any /api/v1 view
    audit_trail.register(app)  # every change through /api/v1 and every login goes to the audit log
    app.register_blueprint(session_api.bp)
    app.register_blueprint(palette_api.bp)
    app.register_blueprint(mappings_api.bp)
    app.register_blueprint(flows_api.bp)
    app.register_blueprint(runs_api.bp)
    app.register_blueprint(stats_api.bp)
    app.register_blueprint(templates_api.bp)
    app.register_blueprint(diff_api.bp)
    app.register_blueprint(connections_api.bp)
    app.register_blueprint(lookups_api.bp)
    app.register_blueprint(trading_partners_api.bp)
    app.register_blueprint(events_api.bp)
    app.register_blueprint(threads_api.bp)
    app.register_blueprint(alerts_api.bp)
    app.register_blueprint(reports_api.bp)
    app.register_blueprint(exceptions_api.bp)
    app.register_blueprint(dashboard_api.bp)
    app.register_blueprint(records_api.bp)
    app.register_blueprint(workspaces_api.bp)
    app.register_blueprint(users_api.bp)
    app.register_blueprint(partner_api.bp)
    app.register_blueprint(published_api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(ext_api.bp)
    app.register_blueprint(keys_api.bp)
    app.register_blueprint(audit_api.bp)
    limits.register(app, runtime)  # rate limits of API keys and workspaces: /hooks/, /api/v1, /api/ext/
    app.register_blueprint(hooks.bp)
    app.register_blueprint(metrics.bp)
    live.register(app, runtime)
    app.register_blueprint(canvas.bp)
    return app
