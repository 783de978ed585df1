"""Hypothesis strategies for hostile input to the HTTP API (tests/web/test_fuzz.py): JSON values clean and
hostile (lone surrogates, NUL, numbers beyond a double, nesting around the limit), raw bodies, content types,
and flow documents assembled from the catalog or mutated from working flows."""
from __future__ import annotations

import copy
import json

from hypothesis import strategies as st

from designer import templates
from nodes import catalog
from support.flowdocs import edge


# --- values ----------------------------------------------------------------------------------------------

def mostly(good, bad):
    """Three draws in four from `good`: hostile values, but documents that still get past the first check."""
    return st.one_of(good, good, good, bad)


def nested(depth: int, leaf="x"):
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


# clean values (what a real client sends), and hostile ones mixed in at a quarter of the places
TEXT = st.text(max_size=20)
NUMBERS = st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=12)
HOSTILE_TEXT = st.sampled_from(["\udfff", "a\ud800b", "\x00", "k\x00", "\U0001F600", "é", "../../etc", "", " ",
                                "x" * 500, "{{", "$", "'", '"', "\\", "<script>", "%00", "NaN", "\r\n"])
HOSTILE = (HOSTILE_TEXT | st.sampled_from([10**308, 10**400, -10**400, 2**63, 1e308, 5e-324, -0.0])
           | st.integers(90, 130).map(nested))  # around the nesting limit of 100
DIRTY_JSON = st.recursive(mostly(SCALARS, HOSTILE), lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(mostly(TEXT, HOSTILE_TEXT), inner, max_size=4), max_leaves=12)
VALUES = mostly(JSON, HOSTILE | DIRTY_JSON)
NAMES = mostly(TEXT, HOSTILE_TEXT)


def raw_json(value, ascii_only: bool = True) -> bytes:
    """The body as a client would send it: lone surrogates become \\udfff escapes; huge ints stay digits."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


TOKENS = st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e400", b"1" + b"0" * 400, b"9" * 5000,
                          b'"\\udfff"', b'"\\ud800\\udc00"', b'"\\u0000"', b"1e-400", b"-0", b"0.1e1", b"[]", b"{}",
                          b"null", b"truex", b"\xff", b"\xed\xbf\xbf", b"\xef\xbb\xbf"])
RAW = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda v, t: raw_json(v).replace(b"null", t, 1) if b"null" in raw_json(v) else t + raw_json(v),
              JSON, TOKENS),
    st.builds(lambda t: b'{"order": {"number": ' + t + b', "lines": []}}', TOKENS),
    st.builds(lambda n, tail: b"[" * n + tail + b"]" * n, st.integers(1, 3000), TOKENS),
    st.builds(lambda n: b'{"a":' * n + b"1" + b"}" * n, st.integers(95, 1200)),
    st.builds(lambda v, enc: json.dumps(v, ensure_ascii=False).encode(enc, "replace"), JSON,
              st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1252"])),
    st.builds(lambda v, cut: raw_json(v)[:cut], JSON, st.integers(0, 40)),
)
CONTENT_TYPES = st.sampled_from([None, "application/json", "application/json; charset=utf-8",
                                 "application/json; charset=utf-16", "application/json; charset=no-such",
                                 "application/json; charset=unicode_escape", "application/merge-patch+json",
                                 "text/plain", "text/csv; charset=latin-1", "text/plain; charset=base64",
                                 "application/x-www-form-urlencoded", "multipart/form-data",
                                 "multipart/form-data; boundary=x", "application/octet-stream", "application/xml",
                                 "application/edi-x12", "*/*", "garbage"])


# --- flow documents built from the catalog ---------------------------------------------------------------

SPECS = catalog.specs()
PLAUSIBLE = st.sampled_from(["orders", "/x/y", "POST", "GET", "sync", "async", "order.number", "$sum(lines.qty)",
                             "{'a': 1}", "$ship_method", "http://127.0.0.1:9/x", "erp", "sku_xref", "crossdock.order/1",
                             "*/5 * * * *", "not_found", "why", "{{ order.number }}", "$replace($, /(a+)+$/, '')",
                             "[1..9999999]"])
CONFIG_VALUES = mostly(PLAUSIBLE | JSON, HOSTILE)


def hook_to_discard(flow_id: str, path: str, method: str = "POST") -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id,
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": path, "method": method}},
                      {"id": "map", "type": "transform.map", "config": {"expression": "$"}},
                      {"id": "end", "type": "control.discard", "config": {"reason": "the fuzz test reads the run"}}],
            "edges": [edge(1, "hook", "map"), edge(2, "map", "end")]}


MUTATION = mostly(st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["", "x", "out", "in"]) | PLAUSIBLE,
                  VALUES)


@st.composite
def mutated(draw, value, changes=st.integers(0, 2)):
    """`value` with a few places inside it (below its top level) replaced by generated values."""
    value = copy.deepcopy(value)
    for _ in range(draw(changes)):
        parent, key, here = None, None, value
        for _ in range(draw(st.integers(2, 6))):  # walk down to a random place
            keys = list(here) if isinstance(here, dict) else list(range(len(here))) if isinstance(here, list) else []
            if not keys:
                break
            parent, key = here, draw(st.sampled_from(keys))
            here = here[key]
        if parent is not None and parent is not value:
            parent[key] = draw(MUTATION)
    return value


@st.composite
def generated_flows(draw) -> dict:
    """A document assembled from the catalog's node types, their config fields and their ports."""
    nodes = []
    for _ in range(draw(st.integers(0, 5))):
        type_ = draw(mostly(st.sampled_from(sorted(SPECS)), st.sampled_from(["nope.type", ""]) | NAMES))
        spec = SPECS.get(type_)
        fields = sorted(spec.config().fields) if spec else ["x"]
        config = draw(st.dictionaries(st.sampled_from(fields), mostly(PLAUSIBLE, CONFIG_VALUES), max_size=len(fields)))
        node = {"id": draw(mostly(st.sampled_from(["hook", "map", "sink", "end", "a", "b"]), NAMES)), "type": type_,
                "config": config, "position": draw(mostly(st.fixed_dictionaries({"x": NUMBERS, "y": NUMBERS}), JSON))}
        if draw(st.integers(0, 3)) == 0:
            node["type_version"] = draw(st.integers(-1, 3) | JSON)
        if draw(st.integers(0, 5)) == 0:
            node["disabled"] = draw(st.booleans() | JSON)
        nodes.append(node)
    ids = [n["id"] for n in nodes] or ["a"]
    ports = mostly(st.sampled_from(["out", "in", "error", "not_found", "duplicate", "otherwise", "priority"]), NAMES)
    edges = [{"id": f"e{i}", "source": draw(st.sampled_from(ids)), "source_port": draw(ports),
              "target": draw(st.sampled_from(ids)), "target_port": draw(ports)}
             for i in range(draw(st.integers(0, 5)))]
    doc = {"schema": "crossdock.flow/1", "id": draw(mostly(st.just("fz"), NAMES)), "name": draw(mostly(st.just("F"), NAMES)),
           "nodes": nodes, "edges": edges}
    for key, values in (("params", st.dictionaries(NAMES, st.fixed_dictionaries(
            {"type": st.sampled_from(["string", "number", "integer", "boolean", "object", "array"]) | NAMES,
             "default": SCALARS}) | JSON, max_size=3)), ("settings", JSON), ("samples", JSON),
                        ("description", NAMES), ("viewport", JSON)):
        if draw(st.integers(0, 3)) == 0:
            doc[key] = draw(values)
    return doc


BASE_FLOWS = [hook_to_discard("fz", "orders"), *(b["flow"] for b in templates.bundled())]


def flow_documents():
    """Generated from the catalog, or a working flow (a bundled template's among them) with a few places changed."""
    changed = st.sampled_from(BASE_FLOWS).flatmap(mutated).map(lambda d: {**d, "id": "fz"})
    return st.one_of(changed, changed, generated_flows())
