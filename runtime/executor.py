"""Executes one run of a plan: messages travel by named port from node to node; each node attempt is
a step. Retryable failures are deferred with backoff (the run waits `queued` and resumes from a
checkpoint); exhausted or business failures go to the `error` port if wired, else to dead letters.
A node that raises Wait parks its message the same way, as no failure and without using an attempt."""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from nodes.base import TECHNICAL, NodeError, Wait
from runtime import dry_steps, jsontext
from runtime import logs
from runtime.context import StepContext
from runtime.events import Publisher
from runtime.models import utcnow
from runtime.plan import Plan, PlannedNode
from runtime.states import StepStatus


@dataclass
class Outcome:
    status: str  # succeeded | failed | retry
    steps: list[dict] = field(default_factory=list)
    output: Any = None
    error: dict | None = None
    dead_letters: list[dict] = field(default_factory=list)
    checkpoint: dict | None = None
    retry_in_s: float = 0.0
    output_text: str | None = None  # the JSON of `output` when the executor made it already (one sink)


@logs.in_run  # every log record of the run carries its workspace, flow, run id and business key
def execute(plan: Plan, run: dict, ctx: StepContext, events: Publisher | None = None,
            heartbeat: Callable[[], None] | None = None, stop: Callable[[], bool] | None = None,
            payload_max: int | None = None) -> Outcome:
    """`run` holds id, input, checkpoint, trigger_node and start_node of the run row (and input_text,
    the input's stored JSON, when the caller has it). `stop` is asked
    after each step: when it says yes the rest of the run is handed back in the checkpoint. A step
    whose input or output JSON is over `payload_max` bytes fails with `payload_too_large`; each
    message is serialised once, and its text rides on the step (`texts`) for the store to reuse."""
    events = events or Publisher()
    checkpoint = run.get("checkpoint") or {}
    if checkpoint.get("pending"):
        pending = deque(checkpoint["pending"])
        seq = checkpoint.get("seq", 0)
    else:
        first = run.get("start_node") or run.get("trigger_node") or _first_trigger(plan)
        pending = deque([{"node": first, "message": run.get("input"), "attempt": 1}])
        if run.get("input_text") is not None:  # the input's JSON as stored: not made again
            pending[0]["text"] = run["input_text"]
        seq = 0
    out = Outcome(status="succeeded")
    sinks: list[Any] = list(checkpoint.get("sinks") or [])
    sink_texts: list[str | None] = [None] * len(sinks)  # the JSON made of each, where the executor has it
    deferred: list[tuple[float, dict]] = []
    parked: list[tuple[int, float, dict]] = []  # (seq of its step, after_s, item) of the messages that raised Wait
    base = {"workspace": plan.workspace, "flow_id": plan.flow_id, "run_id": run["id"]}
    dry = getattr(ctx, "dry_run", False)  # a dry run: each node through runtime/dry_steps.py

    while pending or (pending := _recheck(parked, seq)):
        item = pending.popleft()
        node = plan.nodes.get(item["node"])
        if node is None:  # disabled or removed node: the message stops here
            continue
        seq += 1
        attempt = item.get("attempt", 1)
        step = {"seq": seq, "node_id": node.id, "node_type": node.type, "attempt": attempt,
                "input": item["message"], "started_at": utcnow(), "status": StepStatus.RUNNING.value}
        events.publish("step.started", {**base, "node_id": node.id, "seq": seq, "attempt": attempt,
                                        "status": "running"})
        t0 = time.perf_counter()
        if "text" not in item:  # a message passed on from the step before keeps the JSON made of it there
            item["text"] = payload_text(item["message"])
        step["texts"] = {"input": item["text"]}
        waiting = None
        try:
            _check_size(item["text"], payload_max, "input")
            step_ctx = ctx.at(node.id, attempt, item.get("branch", ""), item.get("port", "in"))
            emits = (dry_steps.run(node, item["message"], step_ctx) if dry
                     else list(node.module.run(node.prepared, item["message"], step_ctx)))
            texts = [item["text"] if m is item["message"] else payload_text(m) for _, m in emits]
            for text in texts:
                _check_size(text, payload_max, "output")
            error = None
        except Wait as wait:
            error, waiting = None, wait
        except NodeError as err:
            error = err
        except Exception as err:  # a bug in a node must fail the step, never the worker
            error = NodeError("node_crashed", f"{type(err).__name__}: {err}", error_class=TECHNICAL)
        step["duration_ms"] = round((time.perf_counter() - t0) * 1000, 3)
        step["finished_at"] = utcnow()
        if waiting is not None:
            step["status"] = StepStatus.WAITING.value
            step["output"] = {"waiting": waiting.to_dict()}  # what the inspector shows it waits for
            parked.append((seq, waiting.after_s, item))
        elif error is None:
            step["status"] = StepStatus.SUCCEEDED.value
            ports = [p for p, _ in emits]
            step["port"] = ",".join(dict.fromkeys(ports)) or None
            step["output"] = emits[0][1] if len(emits) == 1 else [m for _, m in emits] if emits else getattr(
                step_ctx, "noted", None)
            unrouted: list[tuple[str, Any]] = []
            if not emits and _ends_here(plan, node, None):
                sinks.append(item["message"])
                sink_texts.append(item["text"])
            if len(emits) == 1:
                step["texts"]["output"] = texts[0]
            for index, ((port, message), text) in enumerate(zip(emits, texts)):
                branch = _branch(item, node.id, index, len(emits))
                targets = plan.targets(node.id, port)
                if not targets and _ends_here(plan, node, port):
                    sinks.append(message)
                    sink_texts.append(text)
                elif not targets:
                    unrouted.append((port, message))
                for target, in_port in targets:
                    pending.append({"node": target, "message": message, "attempt": 1, "text": text, **branch,
                                    **_port(in_port)})
            if unrouted:
                _fail_unrouted(plan, node, run, ctx.business_key, unrouted, step, out)
        else:
            step["status"] = StepStatus.FAILED.value
            step["error"] = error.to_dict()
            if error.retryable and attempt < node.retry.max_attempts:
                delay = node.retry.delay(attempt, error.retry_after_s)
                step["error"]["retry_in_s"] = round(delay, 3)
                deferred.append((delay, {**item, "attempt": attempt + 1}))
            elif node.error_wired:
                step["port"] = "error"
                failure = {"error": error.to_dict(), "node": node.id, "input": item["message"]}
                for target, in_port in plan.targets(node.id, "error"):
                    pending.append({"node": target, "message": failure, "attempt": 1, **_branch(item, node.id, 0, 1),
                                    **_port(in_port)})
            else:
                payload = item["message"] if (error.details or {}).get("kind") != "input" else {
                    "_truncated": True, "bytes": error.details["bytes"], "preview": item["text"][:2000]}
                out.dead_letters.append({"node_id": node.id, "error_class": error.error_class, "code": error.code,
                                         "message": error.message, "payload": payload})
                if out.error is None:
                    out.error = {**error.to_dict(), "node": node.id}
        out.steps.append(step)
        events.publish(f"step.{step['status']}", {**base, "node_id": node.id, "seq": seq, "attempt": attempt,
                                                  "status": step["status"], "port": step.get("port"),
                                                  "duration_ms": step["duration_ms"], "error": step.get("error")})
        if heartbeat:
            heartbeat()
        if pending and stop is not None and stop():
            deferred = [(0.0, i) for i in pending] + deferred  # handed back: another worker goes on at once
            break

    deferred += [(after_s, item) for _, after_s, item in parked]

    out.output = sinks[0] if len(sinks) == 1 else (sinks or None)
    out.output_text = sink_texts[0] if len(sinks) == 1 else None
    if deferred:
        out.status = "retry"
        out.retry_in_s = min(d for d, _ in deferred)
        out.checkpoint = {"pending": [{k: v for k, v in i.items() if k not in ("text", "rechecked")}
                                      for _, i in deferred],
                          "seq": seq, "sinks": sinks,
                          "failed": bool(out.dead_letters), "error": out.error}
    elif out.dead_letters or checkpoint.get("failed"):
        out.status = "failed"
        out.error = out.error or checkpoint.get("error")
    return out


def _port(in_port: str) -> dict:
    """The input port a message goes in on, kept on its pending item only when it is not the usual `in`."""
    return {} if in_port == "in" else {"port": in_port}


def _recheck(parked: list[tuple[int, float, dict]], seq: int) -> deque:
    """Once the run has nothing else to do: the parked messages that later steps of this run may have
    unblocked (an aggregate's group completed by the parts after it), to run once more before the run parks.
    Each is run again once per execution, so a message that still waits parks for real."""
    again = [entry for entry in parked if entry[0] < seq and not entry[2].get("rechecked")]
    for entry in again:
        parked.remove(entry)
        entry[2]["rechecked"] = True
    return deque(entry[2] for entry in again)


def payload_text(message: Any) -> str:
    """A message's JSON as stored (values JSON has no type for become text), measured and kept once."""
    return jsontext.dumps(message)


def _check_size(text: str, limit: int | None, kind: str) -> None:
    if limit is not None and len(text) > limit and (size := len(text.encode())) > limit:
        raise NodeError("payload_too_large", f"the step's {kind} is {size:,} bytes of JSON, over the limit of "
                        f"{limit:,} (CROSSDOCK_STEP_PAYLOAD_MAX); it is not stored", error_class=TECHNICAL,
                        details={"kind": kind, "bytes": size, "limit": limit})


def _ends_here(plan: Plan, node: PlannedNode, port: str | None) -> bool:
    """Whether a message may end at `port` of `node` (None: at the node itself) without an edge: a node
    with no output ports is an end (control.discard, control.respond); an optional port's message has
    left the flow (a connector's answer); an edge to a disabled node stops it there, as the flow says."""
    outputs = getattr(node.module.SPEC, "outputs", None)
    if port is None:
        return outputs == ()
    if any(p.name == port and p.optional for p in outputs or ()):
        return True
    return any(e.get("source") == node.id and e.get("source_port") == port for e in plan.document.get("edges") or ())


def _branch(item: dict, node_id: str, index: int, count: int) -> dict:
    """The branch of the index-th of the `count` messages a step emitted: its input's, extended by the node and
    index when the step emitted several (so each writes under an idempotency key of its own, the same on a retry
    or replay, which emits them again in the same order); {} for the run's own line."""
    branch = item.get("branch", "")
    if count > 1:
        branch = f"{branch}/{node_id}.{index}"
    return {"branch": branch} if branch else {}


def _fail_unrouted(plan: Plan, node: PlannedNode, run: dict, business_key: str | None,
                   unrouted: list[tuple[str, Any]], step: dict, out: Outcome) -> None:
    """Messages on ports with no edge (a version deployed before validate refused that): the step and
    the run fail `unrouted`, and each message becomes a dead letter, never a silent success."""
    name = next((n.get("name") for n in plan.document.get("nodes") or () if n.get("id") == node.id), None)
    subject = business_key or f"run {run['id']}"
    ports = list(dict.fromkeys(port for port, _ in unrouted))
    error = NodeError("unrouted", f"{subject} stopped at {name or node.id!r}: {', '.join(ports)}, not routed",
                      field=ports[0], details={"node": node.id, "ports": ports})
    step["status"], step["error"] = StepStatus.FAILED.value, error.to_dict()
    for _port, message in unrouted:
        out.dead_letters.append({"node_id": node.id, "error_class": error.error_class, "code": error.code,
                                 "message": error.message, "payload": message})
    if out.error is None:
        out.error = {**error.to_dict(), "node": node.id}


def _first_trigger(plan: Plan) -> str | None:
    for node in plan.nodes.values():
        if node.module.SPEC.trigger:
            return node.id
    return None
