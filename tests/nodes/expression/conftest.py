"""The vendored official JSONata suite for the differential test: case loading, both engines' outcomes,
and the terminal summary of how many cases the compiler accepts and where it differs from the interpreter.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nodes.expression import ExpressionError
from nodes.expression.compiler import Unsupported, compile_closures
from nodes.expression.interpreter import compile_interpreted

SUITE = Path(__file__).parent / "jsonata-suite"
DEFAULT_TIMEOUT_MS = 5000
DEFAULT_DEPTH = 300


@dataclass
class Case:
    id: str
    expr: str
    data: object
    bindings: dict
    timeout_ms: int
    depth: int
    expected: tuple  # ("result", value) | ("undefined", None) | ("code", "T2001")


@dataclass
class Tally:
    total: int = 0
    accepted: int = 0
    invalid: int = 0  # of the accepted: rejected as invalid JSONata (the suite expects an error code)
    rejected: dict = field(default_factory=dict)  # reason -> count
    differing: list = field(default_factory=list)  # (case id, expr, interpreter, compiled, reason)


TALLY = Tally()


def load_cases() -> list[Case]:
    datasets = {}
    cases = []
    for path in sorted((SUITE / "groups").glob("*/*.json")):
        raw = json.loads(path.read_text())
        entries = raw if isinstance(raw, list) else [raw]
        for n, entry in enumerate(entries):
            case_id = f"{path.parent.name}/{path.stem}" + (f"#{n}" if len(entries) > 1 else "")
            if "data" in entry:
                data = entry["data"]
            elif entry.get("dataset"):
                name = entry["dataset"]
                if name not in datasets:
                    datasets[name] = (SUITE / "datasets" / f"{name}.json").read_text()
                data = json.loads(datasets[name])
            else:
                data = None
            if "code" in entry:
                expected = ("code", entry["code"])
            elif entry.get("undefinedResult"):
                expected = ("undefined", None)
            else:
                expected = ("result", entry.get("result"))
            expr = entry["expr"] if "expr" in entry else (path.parent / entry["expr-file"]).read_text()
            cases.append(Case(case_id, expr, data, entry.get("bindings") or {},
                              entry.get("timelimit") or DEFAULT_TIMEOUT_MS,
                              entry.get("depth") or DEFAULT_DEPTH, expected))
    return cases


def outcome(compile_fn, case: Case):
    """("result", value) or ("code", code) of one engine on one case; data is re-read per engine."""
    data = json.loads(json.dumps(case.data)) if case.data is not None else None
    try:
        expr = compile_fn(case.expr)
        value = expr.evaluate(data, dict(case.bindings), timeout_ms=case.timeout_ms, max_depth=case.depth)
    except ExpressionError as err:
        return ("code", _code(err.code))
    return ("result", canonical(value))


def _code(code: str) -> str:
    # both engines report a runaway evaluation (depth or time budget) as the suite's U1001
    return "U1001" if code in ("budget_time", "budget_depth", "U1001", "U1002", "D1011", "D1012") else code


def canonical(v):
    """A comparable form: JSON numbers have no int/float distinction; functions compare as a marker."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            return repr(v)
        f = float(v)
        return int(f) if f.is_integer() and abs(f) < 2 ** 63 else f
    if isinstance(v, list):
        return [canonical(x) for x in v]
    if isinstance(v, dict):
        return {k: canonical(x) for k, x in v.items()}
    return "<function>"


def expected_outcome(case: Case):
    kind, value = case.expected
    if kind == "code":
        return ("code", value)
    if kind == "undefined":
        return ("result", None)
    return ("result", canonical(value))


def run_compiled(case: Case):
    """The compiled engine's outcome, or None when the compiler refuses the expression."""
    try:
        compile_closures(case.expr)
    except Unsupported as why:
        return None, str(why)
    except ExpressionError:
        pass  # a syntax error: the outcome below reports its code
    return outcome(compile_closures, case), None


def run_interpreted(case: Case):
    return outcome(compile_interpreted, case)


def same(a, b) -> bool:
    return a[0] == b[0] and _equal(a[1], b[1])


def _equal(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))
        return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


class Suite:
    """What the differential test uses, handed over as the `suite` fixture."""
    tally = TALLY
    cases = staticmethod(load_cases)
    expected_outcome = staticmethod(expected_outcome)
    run_compiled = staticmethod(run_compiled)
    run_interpreted = staticmethod(run_interpreted)
    same = staticmethod(same)


def accepted_cases() -> list[Case]:
    """All suite cases, tallied; those the compiler accepts (syntax errors included) are returned."""
    if TALLY.total:
        return _ACCEPTED
    cases = load_cases()
    TALLY.total = len(cases)
    for case in cases:
        try:
            compile_closures(case.expr)
        except Unsupported as why:
            TALLY.rejected[str(why)] = TALLY.rejected.get(str(why), 0) + 1
            continue
        except ExpressionError:
            TALLY.invalid += 1
        _ACCEPTED.append(case)
    TALLY.accepted = len(_ACCEPTED)
    return _ACCEPTED


_ACCEPTED: list[Case] = []


def pytest_generate_tests(metafunc):
    if "suite_case" in metafunc.fixturenames:
        cases = accepted_cases()
        metafunc.parametrize("suite_case", cases, ids=[c.id for c in cases])


@pytest.fixture
def suite():
    return Suite


def pytest_terminal_summary(terminalreporter):
    if not TALLY.total:
        return
    w = terminalreporter.write_line
    terminalreporter.section("JSONata compiler vs interpreter (official suite)")
    w(f"suite cases: {TALLY.total}; accepted by the compiler: {TALLY.accepted} (compiled: "
      f"{TALLY.accepted - TALLY.invalid}, invalid JSONata: {TALLY.invalid}); "
      f"falling back to the interpreter: {TALLY.total - TALLY.accepted}")
    for reason, n in sorted(TALLY.rejected.items(), key=lambda kv: -kv[1]):
        w(f"  not compiled ({n}): {reason}")
    w(f"accepted cases where compiled and interpreted results differ: {len(TALLY.differing)}")
    for case_id, expr, interpreted, compiled, reason in TALLY.differing:
        w(f"  {case_id}: {expr.strip()[:70]!r}")
        w(f"      interpreter {str(interpreted)[:60]} / compiled {str(compiled)[:60]}: {reason}")
