"""Driving the HTTP API from tests: deploy a flow document, wait for a run to finish."""
from __future__ import annotations

from support import wait_for


def deploy(client, doc) -> int:
    """Create the draft and deploy it; the deployed version number."""
    assert client.post("/api/v1/flows", json=doc).status_code == 201
    r = client.post(f"/api/v1/flows/{doc['id']}/deploy")
    assert r.status_code == 201, r.json
    return r.json["version"]


def finished(client, run_id, timeout=20):
    """The run once it succeeded or failed."""
    def done():
        run = client.get(f"/api/v1/runs/{run_id}").json["run"]
        return run if run["status"] in ("succeeded", "failed") else None
    return wait_for(done, timeout)
