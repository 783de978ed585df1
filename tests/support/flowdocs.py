"""Small flow documents the runtime tests deploy."""
from __future__ import annotations


def edge(i, source, target, source_port="out"):
    return {"id": f"e{i}", "source": source, "source_port": source_port, "target": target, "target_port": "in"}


def done(reason: str = "the run's output") -> dict:
    """An explicit end (control.discard): every flow says where its messages stop; validate refuses an unwired port."""
    return {"id": "done", "type": "control.discard", "config": {"reason": reason}}


def http_sink(flow_id: str, url: str, *, path: str = "orders", retry=None, respond: str = "async",
              sequence_key: str | None = None) -> dict:
    """webhook -> map -> connector.http posting to `url`."""
    sink = {"id": "sink", "type": "connector.http", "config": {"url": url, "method": "POST"}}
    if retry:
        sink["config"]["retry"] = retry
    doc = {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
           "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": path, "respond": respond}},
                     {"id": "map", "type": "transform.map",
                      "config": {"expression": "{'ref': order.number, 'qty': $sum(order.lines.qty)}"}},
                     sink],
           "edges": [edge(1, "hook", "map"), edge(2, "map", "sink")]}
    if sequence_key:
        doc["settings"] = {"sequence_key": sequence_key}
    return doc


def order(number: str, *qty: int) -> dict:
    return {"order": {"number": number, "lines": [{"sku": f"SKU-{i}", "qty": q} for i, q in enumerate(qty or (1,))]}}
