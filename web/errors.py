"""Every error leaves as JSON with a code: ours (ApiError), Flask's (404, 405, 413) and bugs (500, logged)."""
from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from designer.errors import ApiError

log = logging.getLogger(__name__)
CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
         415: "unsupported_media_type", 429: "rate_limited"}


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        return err.to_dict(), err.status

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        code = CODES.get(err.code or 500, "http_error")
        message = err.description or code
        if err.code == 413:
            message = f"the body is larger than the limit of {app.config['MAX_CONTENT_LENGTH']} bytes"
        # keep what the status needs besides the body (Allow on a 405, Retry-After on a 429)
        headers = [(k, v) for k, v in err.get_headers() if k.lower() != "content-type"]
        return {"error": {"code": code, "message": message}}, err.code, headers

    @app.errorhandler(Exception)
    def _bug(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return {"error": {"code": "internal_error", "message": "an unexpected error occurred; it was logged"}}, 500
