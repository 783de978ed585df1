"""web/src/runStatus.ts lists the statuses the UI offers, colours and waits on; they must be the runtime's
(runtime/states.py), so a status added or dropped there fails here until the UI module follows."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runtime.states import TERMINAL, RunStatus, StepStatus

MODULE = Path(__file__).resolve().parents[2] / "web" / "src" / "runStatus.ts"


def ts_list(name: str, source: str) -> list[str]:
    """The string items of `export const NAME = [...] as const;` in the TypeScript source."""
    found = re.search(rf"export const {name} = (\[[^\]]*\]) as const;", source)
    assert found, f"{name} is not a literal list in {MODULE.name}"
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def source() -> str:
    return MODULE.read_text()


def test_the_ui_run_statuses_are_the_runtimes(source):
    assert ts_list("RUN_STATUSES", source) == [s.value for s in RunStatus]


def test_the_ui_terminal_statuses_are_the_runtimes(source):
    assert sorted(ts_list("TERMINAL_STATUSES", source)) == sorted(s.value for s in TERMINAL)


def test_the_ui_step_statuses_are_the_runtimes(source):
    assert ts_list("STEP_STATUSES", source) == [s.value for s in StepStatus]


def test_every_status_has_a_label_and_a_tone(source):
    """A status added to the lists but not to TONE/LABEL would draw uncoloured; tsc catches it in the build,
    this in a test run without Node.js."""
    statuses = set(ts_list("RUN_STATUSES", source)) | set(ts_list("STEP_STATUSES", source))
    for table in ("TONE", "LABEL"):
        body = re.search(rf"const {table}: Record<AnyStatus, \w+> = \{{([^}}]*)\}};", source)
        assert body, table
        assert set(re.findall(r"(\w+):", body.group(1))) == statuses, table


def test_the_list_parser_sees_a_divergence():
    changed = 'export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;'
    assert ts_list("RUN_STATUSES", changed) != [s.value for s in RunStatus]
