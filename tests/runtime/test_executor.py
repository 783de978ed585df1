"""Executing one run of a plan with scripted nodes: fan-out, several emits, the error port, dead letters,
crashing nodes, retries deferred into a checkpoint and resumed, filters, and the events of each step."""
from __future__ import annotations

from types import SimpleNamespace

from flows.spec import Port
from nodes.base import TECHNICAL, NodeError, Wait
from runtime.executor import execute
from runtime.plan import Plan, PlannedNode, RetryPolicy, compile


class Ctx:
    """The step context the executor hands to nodes; records which (node, attempt) each call saw."""

    workspace, flow_id, flow_version, run_id, params = "ws", "f", 1, "7", {}

    def __init__(self, business_key=None):
        self.node_id, self.attempt, self.calls, self.business_key, self.branch = "", 1, [], business_key, ""

    def at(self, node_id, attempt, branch="", in_port="in"):
        self.node_id, self.attempt, self.branch, self.in_port, self.noted = node_id, attempt, branch, in_port, None
        self.calls.append((node_id, attempt))
        return self

    def log(self, message):
        self.calls.append(("log", message))

    def note(self, value):
        self.noted = value


class Events:
    def __init__(self):
        self.seen = []

    def publish(self, event, data):
        self.seen.append((event, data))


def module(run, trigger=False, outputs=(Port("out"), Port("count"), Port("error"))):
    return SimpleNamespace(SPEC=SimpleNamespace(trigger=trigger, outputs=outputs), run=run)


def passing(message, ctx):
    yield "out", message


def end(message, ctx):
    """A node with no output ports (like control.discard): the message ends here, by design."""
    yield from ()


def make_plan(nodes: dict, wires: dict, retry=RetryPolicy(3, 0.5), connectors=(), document=None) -> Plan:
    """nodes: id -> run function (the first is the trigger; `end` has no output ports); wires: (id, port) ->
    [target ids]; connectors: ids whose `out` is optional, like a connector's answer."""
    planned = {}
    for i, (node_id, run) in enumerate(nodes.items()):
        outputs = () if run is end else (Port("out", optional=node_id in connectors), Port("count"), Port("error"))
        planned[node_id] = PlannedNode(
            id=node_id, type=f"test.{node_id}", module=module(lambda _p, m, c, run=run: run(m, c), trigger=i == 0,
                                                              outputs=outputs),
            prepared=None, retry=retry, error_wired=bool(wires.get((node_id, "error"))))
    return Plan("ws", "f", 1, document or {}, {}, planned, {k: [(t, "in") for t in v] for k, v in wires.items()})


def run_row(message=None, **extra):
    return {"id": 7, "input": message, "checkpoint": None, "trigger_node": None, "start_node": None, **extra}


def test_a_message_fans_out_to_every_wired_target():
    got = []
    plan = make_plan({"src": passing, "a": lambda m, c: got.append(("a", m)) or passing(m, c),
                      "b": lambda m, c: got.append(("b", m)) or passing(m, c), "end": end},
                     {("src", "out"): ["a", "b"], ("a", "out"): ["end"], ("b", "out"): ["end"]})
    out = execute(plan, run_row({"n": 1}), Ctx())
    assert out.status == "succeeded"
    assert got == [("a", {"n": 1}), ("b", {"n": 1})]
    assert [s["node_id"] for s in out.steps] == ["src", "a", "b", "end", "end"]
    assert [s["seq"] for s in out.steps] == [1, 2, 3, 4, 5]
    assert out.output == [{"n": 1}, {"n": 1}]  # what reached the end, once per path


def test_several_emits_each_travel_on():
    def split(message, ctx):
        for item in message["items"]:
            yield "out", item
        yield "count", len(message["items"])

    plan = make_plan({"split": split, "each": lambda m, c: passing({"seen": m}, c), "end": end},
                     {("split", "out"): ["each"], ("split", "count"): ["end"], ("each", "out"): ["end"]})
    out = execute(plan, run_row({"items": [1, 2, 3]}), Ctx())
    first = out.steps[0]
    assert first["port"] == "out,count" and first["output"] == [1, 2, 3, 3]
    assert [s["input"] for s in out.steps[1:4]] == [1, 2, 3]
    assert out.output == [3, {"seen": 1}, {"seen": 2}, {"seen": 3}]  # in the order they reached the end


def test_each_of_several_emits_gets_a_branch_of_its_own_that_its_retry_keeps():
    """A step after a node that emitted several messages knows which one it has (its idempotency key differs
    per message: two orders read from one interchange are two writes), and keeps it when retried."""
    seen = []

    def split(message, ctx):
        yield from (("out", item) for item in message["items"])

    def post(message, ctx):
        seen.append((ctx.node_id, message, ctx.branch, ctx.attempt))
        if message == 2 and ctx.attempt == 1:
            raise NodeError("timeout", "no answer", error_class=TECHNICAL, retryable=True)
        yield "out", message

    plan = make_plan({"src": passing, "split": split, "post": post, "end": end},
                     {("src", "out"): ["split"], ("split", "out"): ["post"], ("post", "out"): ["end"]},
                     connectors=("post",))
    first = execute(plan, run_row({"items": [1, 2]}), Ctx())
    assert first.status == "retry"
    assert execute(plan, run_row({"items": [1, 2]}, checkpoint=first.checkpoint), Ctx()).status == "succeeded"
    assert seen == [("post", 1, "/split.0", 1), ("post", 2, "/split.1", 1), ("post", 2, "/split.1", 2)]
    ctx = Ctx()
    execute(make_plan({"src": passing, "post": post}, {("src", "out"): ["post"]}, connectors=("post",)),
            run_row(1), ctx)
    assert ctx.branch == ""  # one message all along: the run's own line


def unknown_sku(message, ctx):
    raise NodeError("unknown_sku", "SKU-9 is not an item", field="lines[0].sku", details={"sku": "SKU-9"})
    yield  # a generator, like real nodes


def test_a_node_error_goes_to_the_wired_error_port():
    handled = []
    plan = make_plan({"src": passing, "erp": unknown_sku, "fix": lambda m, c: handled.append(m) or passing(m, c),
                      "end": end}, {("src", "out"): ["erp"], ("erp", "error"): ["fix"], ("fix", "out"): ["end"]})
    out = execute(plan, run_row({"sku": "SKU-9"}), Ctx())
    assert out.status == "succeeded" and out.dead_letters == [] and out.error is None
    failed = out.steps[1]
    assert failed["status"] == "failed" and failed["port"] == "error"
    assert failed["error"] == {"code": "unknown_sku", "message": "SKU-9 is not an item", "class": "business",
                               "retryable": False, "field": "lines[0].sku", "details": {"sku": "SKU-9"}}
    assert handled == [{"error": failed["error"], "node": "erp", "input": {"sku": "SKU-9"}}]
    assert out.steps[2]["status"] == "succeeded"


def test_an_unwired_error_is_a_dead_letter_and_fails_the_run():
    plan = make_plan({"src": passing, "erp": unknown_sku}, {("src", "out"): ["erp"]})
    out = execute(plan, run_row({"sku": "SKU-9"}), Ctx())
    assert out.status == "failed"
    assert out.error["node"] == "erp" and out.error["code"] == "unknown_sku"
    assert out.dead_letters == [{"node_id": "erp", "error_class": "business", "code": "unknown_sku",
                                 "message": "SKU-9 is not an item", "payload": {"sku": "SKU-9"}}]
    assert out.steps[1].get("port") is None


def test_an_unexpected_exception_becomes_node_crashed_and_never_escapes():
    def buggy(message, ctx):
        return iter([("out", 1 / 0)])

    plan = make_plan({"src": passing, "bug": buggy}, {("src", "out"): ["bug"]})
    out = execute(plan, run_row({}), Ctx())
    assert out.status == "failed"
    error = out.steps[1]["error"]
    assert error["code"] == "node_crashed" and error["class"] == TECHNICAL
    assert error["message"] == "ZeroDivisionError: division by zero"
    assert out.dead_letters[0]["code"] == "node_crashed"


def test_a_crash_midway_through_a_generator_keeps_nothing_of_its_emits():
    def half(message, ctx):
        yield "out", "first"
        raise KeyError("lines")

    got = []
    plan = make_plan({"src": half, "next": lambda m, c: got.append(m) or passing(m, c)}, {("src", "out"): ["next"]})
    out = execute(plan, run_row(), Ctx())
    assert out.status == "failed" and got == []
    assert out.steps[0]["error"]["message"] == "KeyError: 'lines'"


def flaky(failures: int, retry_after_s=None):
    calls = {"n": 0}

    def run(message, ctx):
        calls["n"] += 1
        if calls["n"] <= failures:
            raise NodeError("http_5xx", "503 from ERP", error_class=TECHNICAL, retryable=True,
                            retry_after_s=retry_after_s)
        yield "out", {"posted": message}

    return run


def test_a_retryable_failure_defers_into_a_checkpoint_that_resumes_only_that_item():
    ctx = Ctx()
    plan = make_plan({"src": passing, "wms": passing, "erp": flaky(1)}, {("src", "out"): ["wms", "erp"]},
                     connectors=("wms", "erp"))
    first = execute(plan, run_row({"n": 1}), ctx)
    assert first.status == "retry" and first.retry_in_s == 0.5
    assert first.steps[2]["error"]["retry_in_s"] == 0.5
    assert first.checkpoint == {"pending": [{"node": "erp", "message": {"n": 1}, "attempt": 2}], "seq": 3,
                                "sinks": [{"n": 1}], "failed": False, "error": None}
    ctx.calls.clear()
    resumed = execute(plan, run_row({"n": 1}, checkpoint=first.checkpoint), ctx)
    assert ctx.calls == [("erp", 2)]  # neither the trigger nor the wms branch runs again
    assert resumed.status == "succeeded"
    assert [(s["seq"], s["node_id"], s["attempt"]) for s in resumed.steps] == [(4, "erp", 2)]
    assert resumed.output == [{"n": 1}, {"posted": {"n": 1}}]  # the earlier sink is kept


def test_retry_after_lengthens_the_delay_and_exhausted_retries_dead_letter():
    plan = make_plan({"src": passing, "erp": flaky(5, retry_after_s=7)}, {("src", "out"): ["erp"]},
                     retry=RetryPolicy(2, 0.5))
    first = execute(plan, run_row({"n": 1}), Ctx())
    assert first.retry_in_s == 7
    last = execute(plan, run_row({"n": 1}, checkpoint=first.checkpoint), Ctx())
    assert last.status == "failed" and last.dead_letters[0]["code"] == "http_5xx"
    assert "retry_in_s" not in last.steps[0]["error"]


def test_exhausted_retries_go_to_a_wired_error_port():
    handled = []
    plan = make_plan({"src": passing, "erp": flaky(5), "log": lambda m, c: handled.append(m) or passing(m, c),
                      "end": end}, {("src", "out"): ["erp"], ("erp", "error"): ["log"], ("log", "out"): ["end"]},
                     retry=RetryPolicy(1, 0.5))
    out = execute(plan, run_row({"n": 1}), Ctx())
    assert out.status == "succeeded" and out.dead_letters == []
    assert [(h["node"], h["error"]["code"], h["input"]) for h in handled] == [("erp", "http_5xx", {"n": 1})]


def test_a_branch_that_failed_before_the_retry_still_fails_the_run():
    plan = make_plan({"src": passing, "bad": unknown_sku, "erp": flaky(1)}, {("src", "out"): ["bad", "erp"]},
                     connectors=("erp",))
    first = execute(plan, run_row({"n": 1}), Ctx())
    assert first.status == "retry" and first.checkpoint["failed"] is True
    resumed = execute(plan, run_row({"n": 1}, checkpoint=first.checkpoint), Ctx())
    assert resumed.status == "failed" and resumed.error["code"] == "unknown_sku"
    assert resumed.dead_letters == []  # stored with the first execution already


def test_a_filter_drops_what_does_not_match():
    doc = {"schema": "crossdock.flow/1", "id": "f", "name": "f",
           "nodes": [{"id": "start", "type": "event.manual"},
                     {"id": "open", "type": "branch.filter", "config": {"when": "status = 'open'"}},
                     {"id": "map", "type": "transform.map", "config": {"expression": "{'ref': ref}"}},
                     {"id": "done", "type": "control.discard", "config": {"reason": "the run's output"}}],
           "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "open", "target_port": "in"},
                     {"id": "e2", "source": "open", "source_port": "out", "target": "map", "target_port": "in"},
                     {"id": "e3", "source": "map", "source_port": "out", "target": "done", "target_port": "in"}]}
    plan = compile(doc, "ws", "f", 1, {"max_attempts": 3, "backoff_s": 1.0})
    dropped = execute(plan, run_row({"status": "closed", "ref": "A"}), Ctx())
    assert dropped.status == "succeeded" and dropped.output is None
    assert [s["node_id"] for s in dropped.steps] == ["start", "open"]
    assert dropped.steps[1]["port"] is None and dropped.steps[1]["output"] is None
    kept = execute(plan, run_row({"status": "open", "ref": "B"}), Ctx())
    assert kept.output == {"ref": "B"} and [s["node_id"] for s in kept.steps] == ["start", "open", "map", "done"]


def test_steps_publish_started_then_their_outcome_in_order():
    events, beats = Events(), []
    plan = make_plan({"src": passing, "erp": unknown_sku}, {("src", "out"): ["erp"]})
    execute(plan, run_row({}), Ctx(), events, heartbeat=lambda: beats.append(1))
    assert [(e, d["node_id"], d["seq"]) for e, d in events.seen] == [
        ("step.started", "src", 1), ("step.succeeded", "src", 1), ("step.started", "erp", 2), ("step.failed", "erp", 2)]
    assert all(d["workspace"] == "ws" and d["flow_id"] == "f" and d["run_id"] == 7 for _, d in events.seen)
    assert events.seen[1][1]["port"] == "out" and events.seen[3][1]["error"]["code"] == "unknown_sku"
    assert len(beats) == 2


def test_the_run_starts_at_its_start_node_or_trigger_node():
    plan = make_plan({"a": passing, "b": passing, "c": end}, {("a", "out"): ["b"], ("b", "out"): ["c"]})
    assert [s["node_id"] for s in execute(plan, run_row(1), Ctx()).steps] == ["a", "b", "c"]
    assert [s["node_id"] for s in execute(plan, run_row(1, trigger_node="b"), Ctx()).steps] == ["b", "c"]
    assert [s["node_id"] for s in execute(plan, run_row(1, trigger_node="a", start_node="c"), Ctx()).steps] == ["c"]


def test_a_message_for_a_node_not_in_the_plan_stops_there():
    plan = make_plan({"a": passing}, {("a", "out"): ["gone"]})
    out = execute(plan, run_row(1), Ctx())
    assert out.status == "succeeded" and [s["node_id"] for s in out.steps] == ["a"] and out.output is None


def not_found(message, ctx):
    yield "not_found", {"rejection": {"field": "lines[0].sku"}, **message}


XREF_DOC = {"nodes": [{"id": "src", "name": "OMS order"}, {"id": "xref", "name": "SKU cross-reference"}]}


def test_a_message_on_a_port_with_no_edge_fails_the_run_unrouted_and_is_a_dead_letter():
    # a version deployed before validate refused unwired ports: the message must not vanish
    events = Events()
    plan = make_plan({"src": passing, "xref": not_found, "end": end},
                     {("src", "out"): ["xref"], ("xref", "out"): ["end"]}, document=XREF_DOC)
    out = execute(plan, run_row({"sku": "X-9"}), Ctx(business_key="order 4711"), events)
    text = "order 4711 stopped at 'SKU cross-reference': not_found, not routed"
    assert out.status == "failed" and out.output is None
    assert out.error == {"code": "unrouted", "message": text, "class": "business", "retryable": False,
                         "field": "not_found", "details": {"node": "xref", "ports": ["not_found"]}, "node": "xref"}
    step = out.steps[1]
    assert (step["status"], step["port"], step["error"]["code"]) == ("failed", "not_found", "unrouted")
    assert step["output"] == {"rejection": {"field": "lines[0].sku"}, "sku": "X-9"}  # kept for the trace
    assert out.dead_letters == [{"node_id": "xref", "error_class": "business", "code": "unrouted", "message": text,
                                 "payload": step["output"]}]
    assert [e for e, d in events.seen if d["node_id"] == "xref"] == ["step.started", "step.failed"]


def test_unrouted_without_a_business_key_or_a_node_name_names_the_run_and_the_node_id():
    plan = make_plan({"src": passing, "xref": not_found}, {("src", "out"): ["xref"]})
    out = execute(plan, run_row({}), Ctx())
    assert out.error["message"] == "run 7 stopped at 'xref': not_found, not routed"


def test_messages_on_wired_ports_of_the_same_step_still_travel():
    def split(message, ctx):
        yield "out", 1
        yield "count", 1

    plan = make_plan({"src": split, "end": end}, {("src", "out"): ["end"]})
    out = execute(plan, run_row({}), Ctx())
    assert [s["node_id"] for s in out.steps] == ["src", "end"] and out.output == 1
    assert out.status == "failed" and out.error["field"] == "count"
    assert [d["payload"] for d in out.dead_letters] == [1]


def test_an_unwired_optional_port_ends_the_message_and_the_run_succeeds():
    plan = make_plan({"src": passing, "erp": flaky(0)}, {("src", "out"): ["erp"]}, connectors=("erp",))
    out = execute(plan, run_row({"n": 1}), Ctx())
    assert out.status == "succeeded" and out.output == {"posted": {"n": 1}}


def test_a_port_wired_only_to_a_disabled_node_stops_there_as_the_flow_says():
    # graph.successors leaves out edges into disabled nodes; the document still has the edge
    doc = {"edges": [{"id": "e1", "source": "src", "source_port": "out", "target": "off", "target_port": "in"}]}
    plan = make_plan({"src": passing}, {}, document=doc)
    out = execute(plan, run_row({"n": 1}), Ctx())
    assert out.status == "succeeded" and out.output == {"n": 1}


def test_an_unrouted_message_before_a_retry_still_fails_the_resumed_run():
    plan = make_plan({"src": passing, "xref": not_found, "erp": flaky(1)}, {("src", "out"): ["xref", "erp"]},
                     connectors=("erp",))
    first = execute(plan, run_row({}), Ctx())
    assert first.status == "retry" and first.checkpoint["failed"] is True
    resumed = execute(plan, run_row({}, checkpoint=first.checkpoint), Ctx())
    assert resumed.status == "failed" and resumed.error["code"] == "unrouted" and resumed.dead_letters == []


def test_a_node_that_waits_parks_its_message_without_failing_or_using_an_attempt():
    def throttled(message, ctx):
        raise Wait("no token", 2.5, {"target": "erp"})

    plan = make_plan({"src": passing, "gate": throttled, "end": end},
                     {("src", "out"): ["gate"], ("gate", "out"): ["end"]})
    out = execute(plan, run_row({"n": 1}), Ctx())
    assert out.status == "retry" and out.retry_in_s == 2.5 and out.dead_letters == []
    gate = out.steps[1]
    assert gate["status"] == "waiting" and gate["output"] == {
        "waiting": {"reason": "no token", "after_s": 2.5, "details": {"target": "erp"}}}
    assert out.checkpoint["pending"] == [{"node": "gate", "message": {"n": 1}, "attempt": 1}]
    ctx = Ctx()  # resumed: the same message and attempt at the same node, and this time it goes on
    resumed = execute(make_plan({"src": passing, "gate": passing, "end": end},
                                {("src", "out"): ["gate"], ("gate", "out"): ["end"]}),
                      run_row(checkpoint=out.checkpoint), ctx)
    assert resumed.status == "succeeded" and ctx.calls == [("gate", 1), ("end", 1)]


def test_a_parked_message_is_tried_once_more_after_the_later_steps_of_its_run():
    gathered = []

    def gather(message, ctx):  # the first part opens the group and waits for the others
        if message != "first":
            gathered.append(message)
            return
        if len(gathered) < 2:
            raise Wait("group open", 60)
        yield "out", gathered

    def fan(message, ctx):
        yield from (("out", m) for m in ("first", "a", "b"))

    out = execute(make_plan({"src": fan, "agg": gather, "end": end}, {("src", "out"): ["agg"], ("agg", "out"): ["end"]}),
                  run_row(None), Ctx())
    assert out.status == "succeeded" and out.output == ["a", "b"]
    assert [s["status"] for s in out.steps if s["node_id"] == "agg"] == ["waiting", "succeeded", "succeeded",
                                                                          "succeeded"]


def test_a_message_still_waiting_after_its_second_try_parks_the_run():
    calls = []

    def never(message, ctx):
        calls.append(message)
        raise Wait("not yet", 30)

    plan = make_plan({"src": lambda m, c: iter([("out", 1), ("count", 2)]), "w": never, "end": end},
                     {("src", "out"): ["w"], ("src", "count"): ["end"], ("w", "out"): ["end"]})
    out = execute(plan, run_row(None), Ctx())
    assert out.status == "retry" and out.retry_in_s == 30 and calls == [1, 1]
    assert [p["node"] for p in out.checkpoint["pending"]] == ["w"] and "rechecked" not in out.checkpoint["pending"][0]


def test_a_node_learns_the_input_port_its_message_came_in_on():
    seen = []

    def two_inputs(message, ctx):
        seen.append((ctx.in_port, message))
        return iter(())

    plan = make_plan({"src": lambda m, c: iter([("out", 1), ("count", 2)]), "join": two_inputs},
                     {("src", "out"): ["join"], ("src", "count"): ["join"]})
    plan.wires[("src", "count")] = [("join", "arrival")]
    execute(plan, run_row(None), Ctx())
    assert seen == [("in", 1), ("arrival", 2)]


def test_a_message_that_ends_at_a_node_shows_what_the_node_noted_of_it():
    def gather(message, ctx):
        ctx.note({"gathered": message})
        return iter(())

    out = execute(make_plan({"src": passing, "agg": gather}, {("src", "out"): ["agg"]}), run_row({"n": 1}), Ctx())
    assert out.status == "succeeded" and out.steps[1]["output"] == {"gathered": {"n": 1}}
    assert out.steps[1]["port"] is None and out.output is None  # not a message that reached an end
