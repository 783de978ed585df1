"""The layers of DESIGN.md section 2: imports point down only, and `flows` stays free of IO libraries."""
from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
RANK = {"flows": 0, "nodes": 1, "runtime": 2, "designer": 3, "web": 4}
FLOWS_FORBIDDEN = {"flask", "flask_socketio", "rq", "redis", "fakeredis", "sqlalchemy", "alembic", "requests",
                   "httpx", "urllib3", "aiohttp", "socketio", "psycopg", "jsonata"}
RQ_ONLY_IN = {"runtime/queue.py"}
JSONATA_ONLY_IN = "nodes/expression/"


def imports(path: pathlib.Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def modules():
    for package in RANK:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield package, path


def test_imports_point_down_only():
    bad = []
    for package, path in modules():
        for line, name in imports(path):
            top = name.split(".")[0]
            if top in RANK and RANK[top] > RANK[package]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
            if top in ("sandbox", "bench", "run"):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_flows_does_no_io():
    bad = [f"{path.relative_to(ROOT)}:{line} imports {name}" for package, path in modules() if package == "flows"
           for line, name in imports(path) if name.split(".")[0] in FLOWS_FORBIDDEN]
    assert not bad, "\n".join(bad)


def test_runtime_never_imports_flask_and_only_queue_imports_rq():
    bad = []
    for package, path in modules():
        rel = str(path.relative_to(ROOT))
        for line, name in imports(path):
            top = name.split(".")[0]
            if package in ("flows", "nodes", "runtime") and top in ("flask", "flask_socketio", "werkzeug"):
                bad.append(f"{rel}:{line} imports {name}")
            if top == "rq" and rel not in RQ_ONLY_IN:
                bad.append(f"{rel}:{line} imports {name} (only runtime/queue.py may)")
            if top == "jsonata" and not rel.startswith(JSONATA_ONLY_IN):
                bad.append(f"{rel}:{line} imports {name} (only nodes/expression owns JSONata)")
    assert not bad, "\n".join(bad)


def test_sandbox_imports_nothing_of_the_product():
    bad = [f"{p.relative_to(ROOT)}:{line} imports {name}" for p in sorted((ROOT / "sandbox").rglob("*.py"))
           for line, name in imports(p) if name.split(".")[0] in RANK]
    assert not bad, "\n".join(bad)


def test_the_checker_sees_a_violation(tmp_path):
    """The import walk itself works: an upward import in a sample file is found."""
    sample = tmp_path / "x.py"
    sample.write_text("from web.app import create_app\nimport rq\n")
    assert [n for _, n in imports(sample)] == ["web.app", "rq"]
