"""Schemathesis against a live Crossdock (werkzeug on an ephemeral port, worker threads running), from the
generated /api/v1/openapi.json: every operation gets a few generated requests as a partner admin's
browser session would send them, and none may answer 500. The same for a workspace's experience API
with its API key. Bounded: a few examples per operation, no shrinking, so the module stays within ~90 s
on two cores per backend.

A server of its own, not the session's live_server: generated requests change what they find (flows,
users, the partner's brand) and the browser tests share that one."""
from __future__ import annotations

import os
import threading

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, strategies as st
from schemathesis.checks import not_a_server_error

from designer.access import CSRF_HEADER, KEY_HEADER, SESSION_COOKIE
from designer.request_context import WORKSPACE_HEADER
from support import identity
from support.api import deploy
from support.flowdocs import done, edge

GENERATED_AUTH = {"authorization", KEY_HEADER.lower(), CSRF_HEADER.lower(), "cookie"}
# per operation of /api/v1, each one request; CROSSDOCK_FUZZ_EXAMPLES=50 (with --timeout=0) explores further
EXAMPLES = int(os.environ.get("CROSSDOCK_FUZZ_EXAMPLES", 6))


def bound(examples: int) -> hypothesis.settings:
    return hypothesis.settings(max_examples=examples, deadline=None, database=None, print_blob=True,
                               phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


def seeded_flow(flow_id: str = "seeded") -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id,
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": flow_id}},
                      {"id": "map", "type": "transform.map", "config": {"expression": "{'ref': number}"}}, done()],
            "edges": [edge(1, "hook", "map"), edge(2, "map", "done")]}


@pytest.fixture
def live(rt, client, admin_id, workspace, hook_key):
    """The test's runtime served over HTTP, with a deployed and published flow, one run, a lookup table and a
    connection for generated requests to find; the admin's session cookie and CSRF token."""
    from werkzeug.serving import make_server

    deploy(client, seeded_flow())
    assert client.post("/api/v1/flows/seeded/publish", json={"name": "orders", "version": 1,
                                                               "request_record": "order"}).status_code == 201
    run_id = client.post("/api/v1/flows/seeded/runs", json={"input": {"number": "A-1"}}).json["run"]["id"]
    client.put("/api/v1/lookups/uom", json={"rows": {"EA": "each"}})
    client.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "http://127.0.0.1:9/api"})
    app = client.application
    csrf = identity.log_in(client, admin_id)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield {"base": f"http://127.0.0.1:{server.server_port}", "workspace": workspace, "hook_key": hook_key,
           "cookies": {SESSION_COOKIE: client.get_cookie(SESSION_COOKIE).value}, "csrf": csrf,
           "known": {"flow_id": "seeded", "run_id": run_id, "table": "uom", "name": "erp", "seq": 1}}
    server.shutdown()
    server.server_close()


def fuzz(schema, call, known: dict, examples: int = EXAMPLES) -> list[str]:
    """Each operation's generated cases through `call`; the failures, each with how to reproduce it. Half
    the cases name a thing that exists (`known` path parameters), so handlers get past their 404."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @bound(examples)
        @hypothesis.given(case=operation.as_strategy(), existing=st.booleans())
        def run(case, existing):
            # the caller's own credentials, never generated ones: a random key or cookie is only a 401
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in GENERATED_AUTH}
            case.cookies = {}
            if existing:
                case.path_parameters = {k: known.get(k, v) for k, v in (case.path_parameters or {}).items()}
            case.validate_response(call(case), checks=[not_a_server_error])

        try:
            run()
        except (Exception, BaseExceptionGroup) as err:  # schemathesis' FailureGroup names the curl to reproduce
            failures.append(f"{operation.label}: {err}")
    return failures


def test_no_generated_request_to_the_api_gets_a_500(live):
    document = requests.get(f"{live['base']}/api/v1/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    headers = {WORKSPACE_HEADER: live["workspace"], CSRF_HEADER: live["csrf"]}
    http = requests.Session()

    def call(case):
        http.cookies.clear()  # a generated DELETE /api/v1/session must not log the next request out
        return case.call(base_url=live["base"], session=http, headers=headers, cookies=live["cookies"], timeout=30)

    failures = fuzz(schema, call, live["known"])
    assert not failures, "\n\n".join(failures)
    assert len(document["paths"]) >= 40


def test_no_generated_call_of_a_published_endpoint_gets_a_500(live):
    base, ws = live["base"], live["workspace"]
    headers = {KEY_HEADER: live["hook_key"]}
    document = requests.get(f"{base}/api/ext/{ws}/openapi.json", headers=headers, timeout=10).json()
    assert list(document["paths"]) == [f"/api/ext/{ws}/v1/orders"]
    schema = schemathesis.openapi.from_dict(document)
    http = requests.Session()
    failures = fuzz(schema, lambda case: case.call(base_url=base, session=http, headers=headers, timeout=30), {},
                    examples=5 * EXAMPLES)
    assert not failures, "\n\n".join(failures)
