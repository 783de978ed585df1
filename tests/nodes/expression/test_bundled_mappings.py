"""Every JSONata expression we ship compiles, with no fallback to the interpreter: the bundled flow
templates' (found through each node type's SPEC.expressions paths) and the bench mappings."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import nodes.expression as expression
from flows.graph import values_at
from nodes import catalog
from nodes.expression import fallback

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = sorted((ROOT / "flows" / "templates").glob("*.json"))
BENCH = sorted((ROOT / "bench" / "mappings").glob("*.jsonata")) + [ROOT / "bench" / "order_to_erp.jsonata"]


def template_expressions() -> list[tuple[str, str]]:
    """(template/node/field, source) for every non-empty expression field of every template node,
    defaults of the node type's config included."""
    found = []
    for path in TEMPLATES:
        flow = json.loads(path.read_text())["flow"]
        for node in flow["nodes"]:
            spec = catalog.get(node["type"], node.get("type_version")).SPEC
            config = catalog.load_config(spec, node.get("config"))
            for field in spec.expressions:
                for where, source in values_at(config, field):
                    if isinstance(source, str) and source.strip():
                        found.append((f"{path.stem}/{node['id']}/{where}", source))
    return found


def _compiles(source: str) -> bool:
    fallback.reset()
    try:
        e = expression.compile(source)
        return e.engine == "compiled" and not any(expression.fallbacks().values())
    finally:
        fallback.reset()


def test_the_templates_have_expressions_to_check():
    found = FOUND
    assert len(TEMPLATES) >= 4 and len(found) >= 20, found
    kinds = {where.split("/")[-1].split("[")[0].split(".")[0] for where, _ in found}
    assert {"expression", "when", "rules", "key"} & kinds  # mappings, filters, branch conditions, dedupe keys


FOUND = template_expressions()


@pytest.mark.parametrize("where,source", FOUND, ids=[where for where, _ in FOUND])
def test_template_expression_compiles(where, source):
    assert _compiles(source), f"{where} falls back to the interpreter: {source[:80]!r}"


@pytest.mark.parametrize("path", BENCH, ids=lambda p: p.name)
def test_bench_mapping_compiles(path):
    assert _compiles(path.read_text())
