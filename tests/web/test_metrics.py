"""GET /metrics: off without a token, refused without the right one, and in Prometheus text the runs and steps
this process counted and the queue as the run store holds it. (Several processes sharing one registry:
tests/test_run.py, the web and two workers.)"""
from __future__ import annotations

import dataclasses

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from runtime.models import Run
from support.api import deploy, finished
from support.flowdocs import http_sink, order

TOKEN = "a-scrapers-token"


def _samples(text: str) -> list[tuple[str, dict, float]]:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def _total(samples, name, **labels) -> float:
    return sum(v for n, got, v in samples if n == name and labels.items() <= got.items())


def test_metrics_are_off_without_a_token_and_refused_with_a_wrong_one(client, rt):
    assert client.get("/metrics").status_code == 404
    rt.settings = dataclasses.replace(rt.settings, metrics_token=TOKEN)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}):
        r = client.get("/metrics", headers=headers)
        assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"


def test_a_scrape_counts_the_runs_and_steps_of_a_flow_and_the_queue(client, rt, workspace, http_target):
    rt.settings = dataclasses.replace(rt.settings, metrics_token=TOKEN)
    flow = http_sink("counted", http_target.url)
    deploy(client, flow)
    ids = [client.post(f"/hooks/{workspace}/orders", json=order(f"M-{i}", 1)).json["run_id"] for i in range(3)]
    for run_id in ids:
        assert finished(client, run_id)["status"] == "succeeded"
    with rt.sessions.begin() as s:  # one run back in the queue, as a parked run waits
        s.execute(update(Run).where(Run.id == ids[0]).values(status="queued"))
    r = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.content_type.startswith("text/plain")
    samples = _samples(r.get_data(as_text=True))
    mine = {"workspace": workspace, "flow": "counted"}
    assert _total(samples, "crossdock_runs_accepted_total", **mine, trigger="webhook") == 3
    assert _total(samples, "crossdock_runs_finished_total", **mine, status="succeeded") == 3
    assert _total(samples, "crossdock_steps_total", **mine, status="succeeded") == 3 * len(flow["nodes"])
    assert _total(samples, "crossdock_steps_total", **mine, status="failed") == 0
    assert _total(samples, "crossdock_run_execution_seconds_count", **mine) == 3
    assert _total(samples, "crossdock_queue_depth", workspace=workspace) == 1
    assert _total(samples, "crossdock_queue_oldest_age_seconds", workspace=workspace) >= 0
