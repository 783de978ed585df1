"""JSON log lines (issue 14): every record emitted while a run executes carries its workspace, flow, run id and
business key, in process (a handler on the flow logger) and from a real `run.py` process's stderr."""
from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys

from designer import drafts
from runtime import deployments, intake, jobs, logs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def flow(flow_id: str) -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": "Logged",
            "settings": {"business_key": "order.number"},
            "nodes": [{"id": "start", "type": "event.manual", "config": {"sample": {}}},
                      {"id": "done", "type": "control.discard", "config": {"reason": "logged for the test"}}],
            "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "done", "target_port": "in"}]}


def json_lines(text: str) -> list[dict]:
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def test_records_of_an_executing_run_carry_its_context_as_json(store, workspace):
    doc = flow("logged")
    drafts.create(store, workspace, doc)
    version = deployments.deploy(store, workspace, "logged", doc)
    stream = io.StringIO()
    handler = logs.handler("json", stream)
    flow_log = logging.getLogger("crossdock.flow")
    before = flow_log.level
    flow_log.addHandler(handler)
    flow_log.setLevel(logging.DEBUG)
    try:
        run = intake.start(store, workspace, "logged", version, {"order": {"number": "PO-4711"}}, trigger="manual")
        assert jobs.run_claimed(store, run.id) == "succeeded"
        logging.getLogger("crossdock.flow").info("after the run")
    finally:
        flow_log.removeHandler(handler)
        flow_log.setLevel(before)
    lines = json_lines(stream.getvalue())
    during = [r for r in lines if "discarded: logged for the test" in r["message"]]
    assert len(during) == 1, lines
    assert {k: during[0][k] for k in logs.FIELDS} == {"workspace": workspace, "flow_id": "logged",
                                                       "run_id": run.id, "business_key": "PO-4711"}
    assert during[0]["level"] == "DEBUG" and during[0]["logger"] == "crossdock.flow"
    assert dt.datetime.fromisoformat(during[0]["time"]).utcoffset() == dt.timedelta(0)  # ISO 8601, UTC
    after = [r for r in lines if r["message"] == "after the run"]
    assert after and all(after[0][k] is None for k in logs.FIELDS)  # outside a run: no context left behind


def test_a_bad_format_falls_back_to_text_and_says_so():
    fmt, level, wrong = logs.chosen({"CROSSDOCK_LOG_FORMAT": "yaml", "CROSSDOCK_LOG_LEVEL": "loud"})
    assert (fmt, level) == ("text", "INFO") and len(wrong) == 2 and "CROSSDOCK_LOG_FORMAT" in wrong[0]
    assert logs.chosen({})[:2] == ("text", "INFO")  # the default: text for a person at a terminal
    assert logs.chosen({"CROSSDOCK_LOG_FORMAT": "JSON"})[0] == "json"


def test_run_py_writes_json_lines_with_the_run_context_to_stderr(tmp_path):
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow("logged-cli")))
    env = {**os.environ, "CROSSDOCK_LOG_FORMAT": "json", "CROSSDOCK_LOG_LEVEL": "DEBUG"}
    result = subprocess.run([sys.executable, "run.py", "run", str(path), "--input",
                             json.dumps({"order": {"number": "SO-1001"}})],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = json_lines(result.stderr)
    assert lines and len(lines) == len([x for x in result.stderr.splitlines() if x.strip()]), result.stderr
    during = [r for r in lines if "discarded: logged for the test" in r["message"]]
    assert len(during) == 1, result.stderr
    assert during[0]["workspace"] == "default" and during[0]["flow_id"] == "logged-cli"
    assert during[0]["business_key"] == "SO-1001" and isinstance(during[0]["run_id"], int)
