"""transform.aggregate through deployed flows (both backends): a 500-line order split and gathered back in order, a
timed-out group emitted on `partial` with its missing indexes, parts of one group brought by several runs (and
replayed), a part after its group was emitted, and the bounds of its config and values."""
from __future__ import annotations

import marshmallow
import pytest
from sqlalchemy import func, select

from nodes import catalog, transform_aggregate
from runtime.aggregate_models import AggregateGroup, AggregatePart
from support import wait_for
from support.api import deploy, finished
from support.flowdocs import edge


def gather_flow(flow_id: str, *, split: bool = True, **gather) -> dict:
    """manual -> [split ->] aggregate -> discard, `partial` to the same end: the run's output is what was gathered."""
    nodes = [{"id": "start", "type": "event.manual", "config": {}}]
    edges = []
    if split:
        nodes.append({"id": "split", "type": "transform.split",
                      "config": {"lines": "order.lines", "keep": "{'number': order.number}"}})
        edges += [edge(1, "start", "split"), edge(2, "split", "gather"), edge(3, "split", "done", "empty")]
    else:
        edges.append(edge(1, "start", "gather"))
    nodes += [{"id": "gather", "type": "transform.aggregate", "config": gather},
              {"id": "done", "type": "control.discard", "config": {"reason": "the run's output"}}]
    edges += [edge(4, "gather", "done"), edge(5, "gather", "done", "partial")]
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id, "nodes": nodes, "edges": edges}


def start(client, flow_id: str, message) -> int:
    r = client.post(f"/api/v1/flows/{flow_id}/runs", json={"input": message})
    assert r.status_code == 202, r.json
    return r.json["run"]["id"]


def part(correlation: str, index: int, count: int, **extra) -> dict:
    return {"split": {"correlation": correlation, "index": index, "count": count}, **extra}


def parked(client, run_id: int) -> bool:
    """The run waits `queued` at its aggregate (its first execution stored, with the step that waits)."""
    run = client.get(f"/api/v1/runs/{run_id}").json["run"]
    return run["status"] == "queued" and any(s["status"] == "waiting" for s in run["steps"])


def rows(rt, workspace: str, flow_id: str):
    with rt.read_sessions() as s:
        groups = s.scalars(select(AggregateGroup).where(AggregateGroup.workspace == workspace,
                                                        AggregateGroup.flow_id == flow_id)).all()
        parts = s.scalar(select(func.count()).select_from(AggregatePart).where(
            AggregatePart.group_id.in_([g.id for g in groups]))) if groups else 0
    return groups, parts


def test_a_500_line_order_is_split_and_aggregated_back_with_all_500_lines_in_order(client, rt, workspace):
    deploy(client, gather_flow("split-500",
                               result="{'number': parts[0].number, 'lines': parts.line, 'complete': complete}",
                               timeout_s=600))
    lines = [{"sku": f"S{i}", "qty": i % 7 + 1} for i in range(500)]
    run = finished(client, start(client, "split-500", {"order": {"number": "PO-500", "lines": lines}}), 60)
    assert run["status"] == "succeeded", run.get("error")
    assert run["output"] == {"number": "PO-500", "lines": lines, "complete": True}
    gather = [s for s in run["steps"] if s["node_id"] == "gather"]
    assert len(gather) == 501  # each part once, and the owner's part again once the group was complete
    assert [s["status"] for s in gather].count("waiting") == 1
    assert [s.get("port") for s in gather if s.get("port")] == ["out"]  # the result went out once
    groups, parts = rows(rt, workspace, "split-500")
    assert [(g.status, g.expected, g.received, g.owner_run) for g in groups] == [("complete", 500, 500, run["id"])]
    assert parts == 500


def test_a_group_that_times_out_goes_on_partial_flagged_with_its_missing_indexes(client, rt, workspace):
    deploy(client, gather_flow("split-late", split=False, timeout_s=0.3))
    run_id = start(client, "split-late", part("PO-7", 1, 3, line="B"))
    run = finished(client, run_id, 30)
    assert run["status"] == "succeeded", run.get("error")
    assert run["output"] == {"correlation": "PO-7", "parts": [part("PO-7", 1, 3, line="B")], "count": 3,
                             "received": 1, "complete": False, "missing": [0, 2]}
    gather = [(s["status"], s.get("port")) for s in run["steps"] if s["node_id"] == "gather"]
    assert gather[0] == ("waiting", None) and gather[-1] == ("succeeded", "partial")
    assert [g.status for g in rows(rt, workspace, "split-late")[0]] == ["timed_out"]
    # a part that comes after its group was emitted is in no result: an error, never a silent end
    late = finished(client, start(client, "split-late", part("PO-7", 0, 3, line="A")), 30)
    assert late["status"] == "failed" and late["error"]["code"] == "group_closed"
    assert late["error"]["node"] == "gather" and rows(rt, workspace, "split-late")[1] == 1


def test_parts_brought_by_several_runs_complete_the_group_of_the_run_that_opened_it(client, rt, workspace):
    deploy(client, gather_flow("split-runs", split=False, correlation="po", index="n", count="3", part="sku",
                               timeout_s=120))
    owner = start(client, "split-runs", {"po": "PO-9", "n": 2, "sku": "C"})
    wait_for(lambda: parked(client, owner), 20)
    second = finished(client, start(client, "split-runs", {"po": "PO-9", "n": 0, "sku": "A"}))
    assert second["status"] == "succeeded" and second["output"] is None  # its part lives in the group now
    [gathered] = [s for s in second["steps"] if s["node_id"] == "gather"]
    assert gathered["port"] is None and gathered["output"] == {"gathered": {
        "correlation": "PO-9", "index": 0, "count": 3, "owner_run": str(owner), "stored": True}}
    assert parked(client, owner)  # still waiting for the rest
    [waiting] = [s for s in client.get(f"/api/v1/runs/{owner}").json["run"]["steps"] if s["status"] == "waiting"]
    assert waiting["output"]["waiting"]["after_s"] == transform_aggregate.RECHECK_S  # a lost wake is a minute late
    assert waiting["output"]["waiting"]["details"]["received"] == 1
    third = finished(client, start(client, "split-runs", {"po": "PO-9", "n": 1, "sku": "B"}))
    assert third["status"] == "succeeded"
    run = finished(client, owner, 20)  # woken by the last part, long before its timeout
    assert run["status"] == "succeeded"
    assert run["output"]["parts"] == ["A", "B", "C"] and run["output"]["complete"] is True
    # the same part delivered again (a webhook retried by its sender) is no second part and ends quietly
    again = finished(client, start(client, "split-runs", {"po": "PO-9", "n": 1, "sku": "B"}))
    assert again["status"] == "succeeded" and rows(rt, workspace, "split-runs")[1] == 3
    # an operator's replay of the run that emitted the result emits it again (its targets' idempotency keys are the
    # original's); a replay of a run whose part only went into the group ends it there again
    replayed = client.post(f"/api/v1/runs/{owner}/replay", json={}).json["run"]["id"]
    assert finished(client, replayed)["output"] == run["output"]
    other = client.post(f"/api/v1/runs/{third['id']}/replay", json={}).json["run"]["id"]
    assert finished(client, other)["output"] is None and rows(rt, workspace, "split-runs")[1] == 3


def test_a_part_whose_count_differs_from_its_group_is_rejected_naming_count(client, rt, workspace):
    deploy(client, gather_flow("split-count", split=False, timeout_s=60))
    start(client, "split-count", part("PO-3", 0, 2))
    wait_for(lambda: rows(rt, workspace, "split-count")[1] == 1, 20)
    run = finished(client, start(client, "split-count", part("PO-3", 1, 3)))
    assert run["status"] == "failed"
    assert (run["error"]["code"], run["error"]["field"]) == ("count_mismatch", "count")


@pytest.mark.parametrize("config,field", [
    ({"timeout_s": 0}, "timeout_s"),
    ({"timeout_s": transform_aggregate.MAX_TIMEOUT_S + 1}, "timeout_s"),
    ({"correlation": ""}, "correlation"),
    ({"index": ""}, "index"),
])
def test_config_out_of_bounds_is_refused_naming_the_field(config, field):
    with pytest.raises(marshmallow.ValidationError) as err:
        catalog.load_config(transform_aggregate.SPEC, config)
    assert field in err.value.messages


@pytest.mark.parametrize("message,code,field", [
    (part("X", 0, transform_aggregate.MAX_PARTS + 1), "count_invalid", "count"),
    (part("X", 0, 0), "count_invalid", "count"),
    (part("X", 3, 3), "index_invalid", "index"),
    (part("X", 0.5, 3), "index_invalid", "index"),
    ({"split": {"index": 0, "count": 1}}, "correlation_invalid", "correlation"),
])
def test_values_out_of_bounds_are_business_errors_naming_the_field(env, ctx, message, code, field):
    from nodes.base import NodeError

    prepared = transform_aggregate.prepare(catalog.load_config(transform_aggregate.SPEC, {}), env)
    with pytest.raises(NodeError) as err:
        list(transform_aggregate.run(prepared, message, ctx))  # refused before any group is touched
    assert (err.value.code, err.value.field, err.value.error_class) == (code, field, "business")
