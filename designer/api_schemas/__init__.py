"""Marshmallow schemas of the /api/v1 request and response bodies, one module per area, and the registry
(operations.py) that names each endpoint's schemas; designer/openapi.py turns them into the OpenAPI
document. They describe the handlers' JSON; the handlers keep their own checks."""
