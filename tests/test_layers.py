"""The layers of docs/architecture.md: imports point down only, and `flows` stays free of IO libraries; only the
run store (runtime/store/) writes the run tables."""
from __future__ import annotations

import ast
import pathlib
import re

import pytest

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


# -- only the run store writes runs, steps, payloads and dead letters -----------------------------------

RUN_TABLES = {"Run": "runs", "Step": "steps", "Payload": "payloads", "DeadLetter": "dead_letters"}
STORE = "runtime/store/"
WRITES = {"insert", "update", "delete"}
SQL_WRITE = re.compile(r"\b(insert\s+into|update|delete\s+from)\s+[\"`]?(" + "|".join(RUN_TABLES.values())
                       + r")\b", re.IGNORECASE)


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def run_table_writes(path: pathlib.Path) -> list[tuple[int, str]]:
    """Where a module writes a run table: insert/update/delete of a run model or table (SQLAlchemy's
    functions or a table's methods, also through an alias), a run model constructed (an ORM row to add),
    or SQL text that writes one of the tables."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = set(RUN_TABLES) | set(RUN_TABLES.values())
    for node in ast.walk(tree):  # x = aliased(Run) / t = Run.__table__ / t = table("runs"): x writes them too
        if isinstance(node, ast.Assign) and _names(node.value) & aliases:
            aliases |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in WRITES:
                target = node.args[0] if node.args else (func.value if isinstance(func, ast.Attribute) else None)
                if target is not None and _names(target) & aliases:
                    found.append((node.lineno, f"{name}({ast.unparse(target)})"))
            elif name in RUN_TABLES:
                found.append((node.lineno, f"{name}(...) row"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_WRITE.search(node.value):
            found.append((node.lineno, f"SQL {SQL_WRITE.search(node.value).group(0)!r}"))
    return found


def test_only_the_run_store_writes_runs_steps_payloads_and_dead_letters():
    bad = []
    for package, path in modules():
        rel = str(path.relative_to(ROOT))
        if rel.startswith(STORE) or rel.startswith("runtime/migrations/") or rel == "runtime/models.py":
            continue
        bad += [f"{rel}:{line} writes {what}" for line, what in run_table_writes(path)]
    bad += [f"run.py:{line} writes {what}" for line, what in run_table_writes(ROOT / "run.py")]
    assert not bad, "only runtime/store/ writes the run tables:\n" + "\n".join(bad)


@pytest.mark.parametrize("source", [
    "from sqlalchemy import update\nupdate(Run).where(Run.id == 1).values(status='x')\n",
    "import sqlalchemy as sa\nsa.delete(Step)\n",
    "conn.execute(Payload.__table__.insert(), rows)\n",
    "earlier = aliased(Run)\nq = update(earlier)\n",
    "s.add(DeadLetter(run_id=1))\n",
    "conn.exec_driver_sql('UPDATE runs SET status = 1')\n",
    "conn.execute(text('delete from \"steps\" where id = 1'))\n",
])
def test_the_run_table_check_sees_a_write(tmp_path, source):
    sample = tmp_path / "x.py"
    sample.write_text(source)
    assert run_table_writes(sample)


def test_the_run_table_check_passes_reads_and_other_tables(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text("select(Run.id).where(Run.status == 'queued')\nupdate(Flow).values(name='x')\n"
                      "s.get(Run, 1)\nconn.execute(text('SELECT * FROM runs'))\n")
    assert run_table_writes(sample) == []
