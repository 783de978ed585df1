"""Fuzzing the whole HTTP API with the in-process client: generated flow documents, webhook bodies, lookup
tables, connections and template bundles, structured and as raw bytes (text that is not UTF-8, hostile
nesting, numbers JSON cannot hold, lone surrogates, wrong content types). The properties: no response is a
500, every refusal is JSON with an error code, what a webhook accepts is stored exactly as sent, and a
refused template import changes nothing. Bounded for CI: each test draws 50-80 examples."""
from __future__ import annotations

import copy
import json
from urllib.parse import quote

from hypothesis import HealthCheck, event, given, settings, strategies as st

from designer import templates
from nodes import catalog
from support import wait_for
from support.flowdocs import edge
from support.rows import snapshot

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])


def answered(r) -> int:
    """The status, once it is known not to be a 500 and, for a refusal, to be JSON with a code."""
    assert r.status_code < 500, (r.status_code, r.get_data()[:300])
    if r.status_code >= 400:
        assert r.is_json, r.get_data()[:300]
        error = r.json["error"]
        assert isinstance(error["code"], str) and error["code"] and isinstance(error["message"], str)
    return r.status_code


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


def _workspace_for_templates(api) -> None:
    """Connections and lookup tables the bundled flows name, so that their documents can deploy."""
    if api.get("/api/v1/connections/erp").status_code == 404:
        for system in ("erp", "oms", "wms", "tms"):
            api.put(f"/api/v1/connections/{system}", json={"system": system, "base_url": "http://127.0.0.1:9/x"})
        for bundle in templates.bundled():
            for table, rows in bundle["lookups"].items():
                assert api.put(f"/api/v1/lookups/{table}", json={"rows": rows}).status_code == 200


@FUZZ
@given(doc=flow_documents())
def test_generated_flow_documents_never_give_a_500(api, doc):
    _workspace_for_templates(api)
    raw = raw_json(doc)
    answered(api.post("/api/v1/flows/validate", data=raw, content_type="application/json"))
    created = answered(api.post("/api/v1/flows", data=raw, content_type="application/json"))
    event(f"create {created}")  # --hypothesis-show-statistics: how far the documents get
    if created != 201:
        return
    flow = f"/api/v1/flows/{quote(doc['id'], safe='', errors='surrogatepass')}"
    answered(api.get(flow))
    answered(api.put(flow, data=raw, content_type="application/json"))
    deployed = answered(api.post(f"{flow}/deploy", json={}))
    event(f"deploy {deployed}")
    if deployed == 201:
        answered(api.post(f"{flow}/runs", json={"input": {"order": {"number": "F-1"}}}))
        answered(api.post("/hooks/" + api.environ_base["HTTP_X_CROSSDOCK_WORKSPACE"] + "/orders", data=raw,
                          content_type="application/json"))
        answered(api.post(f"{flow}/undeploy"))
    answered(api.get(f"{flow}/export"))
    assert answered(api.delete(flow)) == 204


# --- raw bodies at every endpoint ------------------------------------------------------------------------

def _endpoints(workspace: str) -> list[tuple[str, str]]:
    return [("post", "/api/v1/flows"), ("put", "/api/v1/flows/fz"), ("post", "/api/v1/flows/validate"),
            ("post", "/api/v1/flows/fz/deploy"), ("post", "/api/v1/flows/fz/runs"), ("post", "/api/v1/runs/1/replay"),
            ("put", "/api/v1/connections/fz"), ("put", "/api/v1/lookups/fz"), ("put", "/api/v1/lookups/fz/rows/k"),
            ("post", "/api/v1/lookups/fz/import"), ("post", "/api/v1/templates/import"), ("post", "/api/v1/preview/map"),
            ("post", f"/hooks/{workspace}/fz"), ("put", f"/hooks/{workspace}/fz"), ("post", f"/hooks/{workspace}/none")]


def _ensure_deployed(api, doc: dict) -> None:
    if api.get(f"/api/v1/flows/{doc['id']}").status_code == 404:
        assert api.post("/api/v1/flows", json=doc).status_code == 201
    if api.get(f"/api/v1/flows/{doc['id']}").json["deployed_version"] is None:
        r = api.post(f"/api/v1/flows/{doc['id']}/deploy", json={})
        assert r.status_code == 201, r.json


@settings(FUZZ, max_examples=80)
@given(raw=RAW, content_type=CONTENT_TYPES, endpoint=st.integers(0, 14))
def test_raw_bodies_at_every_endpoint_never_give_a_500(api, workspace, raw, content_type, endpoint):
    _ensure_deployed(api, hook_to_discard("fz", "fz"))
    method, url = _endpoints(workspace)[endpoint]
    status = answered(getattr(api, method)(url, data=raw, content_type=content_type))
    event(f"raw {status}")
    if raw and status < 300 and url.startswith("/api/") and not url.endswith("/fz/import"):
        assert content_type is None or "json" in content_type  # the API refuses a body not declared JSON


# --- webhook bodies --------------------------------------------------------------------------------------

def _faithful(value, depth: int = 0) -> bool:
    """Whether JSON carries the value exactly: no lone surrogate, no nesting past 100, numbers a double holds.
    `depth`: the containers around the value."""
    if isinstance(value, (dict, list)) and depth + 1 > 100:
        return False
    if isinstance(value, str):
        return not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) < 2**1024
    if isinstance(value, dict):
        return all(_faithful(k, depth) and _faithful(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_faithful(v, depth + 1) for v in value)
    return True


@settings(FUZZ, max_examples=70)
@given(value=VALUES, ascii_only=st.booleans(),
       content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", None]))
def test_a_webhook_stores_a_body_exactly_as_sent_or_refuses_it_with_a_code(api, workspace, value, ascii_only,
                                                                           content_type):
    _ensure_deployed(api, hook_to_discard("wh", "wh"))
    raw = raw_json({"event": value}, ascii_only)
    r = api.post(f"/hooks/{workspace}/wh", data=raw, content_type=content_type)
    status = answered(r)
    event(f"webhook {status}")
    if not _faithful({"event": value}):
        assert status == 400, (raw[:200], r.json)
        return
    assert status == 202, (raw[:200], r.json)
    stored = api.get(f"/api/v1/runs/{r.json['run_id']}").json["run"]["input"]
    assert stored == {"event": value}


# --- lookups and connections -----------------------------------------------------------------------------

@FUZZ
@given(table=NAMES | st.sampled_from(["sku_xref", "a.b-c_d"]), rows=st.dictionaries(NAMES, VALUES, max_size=5),
       key=NAMES, value=VALUES, csv=st.text(max_size=200) | st.binary(max_size=200))
def test_lookup_tables_never_give_a_500(api, table, rows, key, value, csv):
    base = f"/api/v1/lookups/{quote(table, safe='', errors='surrogatepass')}"
    answered(api.put(base, data=raw_json({"rows": rows}), content_type="application/json"))
    answered(api.put(base, data=raw_json(rows), content_type="application/json"))
    answered(api.put(f"{base}/rows/{quote(key, safe='', errors='surrogatepass')}", data=raw_json({"value": value}),
                     content_type="application/json"))
    answered(api.post(f"{base}/import", data=csv, content_type="text/csv"))
    answered(api.get(base))
    answered(api.get(f"{base}?format=csv"))
    answered(api.delete(f"{base}/rows/{quote(key, safe='', errors='surrogatepass')}"))
    answered(api.get("/api/v1/lookups"))


SECRET = st.text("abcdef0123456789", min_size=6, max_size=10).map(lambda s: f"SECRET-{s}") | SCALARS
AUTH = st.fixed_dictionaries({"type": st.sampled_from(["none", "basic", "bearer", "api_key"]) | NAMES},
                             optional={"username": SCALARS, "password": SECRET, "token": SECRET, "key": SECRET,
                                       "header": SCALARS}) | JSON
CONNECTIONS = st.fixed_dictionaries({}, optional={
    "system": st.sampled_from(["erp", "oms", "wms", "tms", "http"]) | NAMES,
    "base_url": st.sampled_from(["http://erp.example", "https://x.example/api/", "ftp://x", "http://a\x00b"]) | NAMES,
    "auth": AUTH}) | DIRTY_JSON


@FUZZ
@given(name=(NAMES | st.sampled_from(["erp", "a.b-c_d"])).filter(lambda n: "SECRET-" not in n), connection=CONNECTIONS)
def test_connections_never_give_a_500_or_show_a_secret(api, name, connection):
    url = f"/api/v1/connections/{quote(name, safe='', errors='surrogatepass')}"
    answered(api.put(url, data=raw_json(connection), content_type="application/json"))
    shown = [api.get(url), api.get("/api/v1/connections")]
    for r in shown:
        answered(r)
        assert "SECRET-" not in r.get_data(as_text=True)
    answered(api.delete(url))


# --- template bundles ------------------------------------------------------------------------------------

GOOD_CONNECTION = st.fixed_dictionaries({"system": st.sampled_from(["erp", "oms", "wms"]),
                                         "base_url": st.sampled_from(["http://127.0.0.1:9/a", "https://b.example"])})


@st.composite
def template_imports(draw) -> dict:
    """A bundled template with a few places changed anywhere in it (flow, lookups, connections, samples), under
    a fresh id, with parameter values and connection values that are mostly, not always, well formed."""
    bundle = {**copy.deepcopy(draw(st.sampled_from(templates.bundled()))), "id": "fz-bundle"}
    args = {"bundle": draw(mutated(bundle)), "flow_id": draw(mostly(st.sampled_from(["fz-a", "fz-b"]),
                                                                    st.sampled_from(["returns", "order-release"]) | NAMES))}
    if draw(st.booleans()):
        args["params"] = draw(mostly(st.dictionaries(st.sampled_from(["safety_stock", "ship_method", "x"]),
                                                     SCALARS, max_size=2), JSON))
    if draw(st.booleans()):
        args["connections"] = draw(mostly(st.dictionaries(st.sampled_from(["erp", "wms", "fz"]),
                                                          mostly(GOOD_CONNECTION, CONNECTIONS), max_size=2), JSON))
    return args


@FUZZ
@given(args=template_imports())
def test_template_imports_never_give_a_500_and_a_refused_one_changes_nothing(api, store, workspace, args):
    if api.get("/api/v1/flows/returns").status_code == 404:  # installed once: imports may collide with it
        assert api.post("/api/v1/templates/import", json={"template": "returns"}).status_code == 201
        api.put("/api/v1/connections/erp", json={"system": "erp", "base_url": "http://127.0.0.1:9/before"})
    before = snapshot(store, workspace)
    r = api.post("/api/v1/templates/import", data=raw_json(args), content_type="application/json")
    event(f"import {r.status_code} {r.json.get('error', {}).get('code', '')}")
    if answered(r) >= 400:
        assert snapshot(store, workspace) == before, r.json
    else:
        answered(api.get(f"/api/v1/flows/{quote(r.json['flow_id'], safe='', errors='surrogatepass')}/export"))
        assert answered(api.delete(f"/api/v1/flows/{quote(r.json['flow_id'], safe='', errors='surrogatepass')}")) == 204


# --- manual runs and replays -----------------------------------------------------------------------------

@settings(FUZZ, max_examples=50)
@given(body=st.fixed_dictionaries({}, optional={"input": VALUES, "version": SCALARS | JSON,
                                                "from_node": st.sampled_from(["hook", "map", "end"]) | NAMES | JSON}),
       raw=st.none() | RAW)
def test_manual_runs_and_replays_never_give_a_500(client, workspace, body, raw):
    _ensure_deployed(client, hook_to_discard("rp", "rp"))
    if not client.get("/api/v1/runs?flow_id=rp&status=succeeded").json["runs"]:
        started = client.post(f"/hooks/{workspace}/rp", json={"order": {"number": "R-1"}}).json["run_id"]
        wait_for(lambda: client.get(f"/api/v1/runs/{started}").json["run"]["status"] == "succeeded")
    original = client.get("/api/v1/runs?flow_id=rp&status=succeeded").json["runs"][-1]["id"]
    data = raw_json(body) if raw is None else raw
    for url in ("/api/v1/flows/rp/runs", f"/api/v1/runs/{original}/replay"):
        r = client.post(url, data=data, content_type="application/json")
        if answered(r) == 202 and raw is None and "input" in body:
            assert _faithful(body)
            if not _bare_big_int(body["input"]):
                assert r.json["run"]["input"] == body["input"]


def _bare_big_int(value) -> bool:
    """Known, reported: SQLite gives a JSON column NUMERIC affinity, so an input that is a bare integer beyond
    64 bits comes back as a float (10**308 as 1e308); inside an object or a list it is kept exactly."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63


# --- query strings and headers ---------------------------------------------------------------------------

TIMES = st.builds(lambda y, zone: f"{y:04d}-12-31T23:59:59{zone}", st.integers(1, 9999),
                  st.sampled_from(["", "Z", "+23:59", "-23:59", "+00:00", " 05:00"]))
QUERY_VALUES = mostly(st.sampled_from(["", "1", "0", "-1", "50", "true", "csv", "failed,queued", "succeeded"])
                      | st.integers(-10, 10**30).map(str) | TIMES, NAMES)
QUERIES = st.dictionaries(st.sampled_from(["flow_id", "status", "key", "since", "until", "limit", "before", "format",
                                           "window_s", "draft", "workspace"]) | NAMES, QUERY_VALUES, max_size=4)
GET_URLS = st.sampled_from(["/api/v1/runs", "/api/v1/dead-letters", "/api/v1/flows/fz/stats", "/api/v1/lookups/sku_xref",
                            "/api/v1/flows", "/api/v1/flows/fz", "/api/v1/flows/fz/versions", "/api/v1/templates",
                            "/api/v1/templates/returns", "/api/v1/connections", "/api/v1/records/order",
                            "/api/v1/node-types", "/api/v1/runs/1", "/api/v1/flows/fz/export", "/"])
LATIN1 = st.text(st.characters(max_codepoint=255), max_size=30)


@FUZZ
@given(url=GET_URLS, query=QUERIES, workspace_header=st.none() | LATIN1, if_match=st.none() | LATIN1
       | st.integers(-2, 10**30).map(lambda n: f'"{n}"'))
def test_query_strings_and_headers_never_give_a_500(api, workspace, url, query, workspace_header, if_match):
    _ensure_deployed(api, hook_to_discard("fz", "fz"))
    headers = {} if workspace_header is None else {"X-Crossdock-Workspace": workspace_header}
    qs = "&".join(f"{quote(k, safe='', errors='surrogatepass')}={quote(v, safe='', errors='surrogatepass')}"
                  for k, v in query.items())
    answered(api.get(f"{url}?{qs}", headers=headers))
    answered(api.post(f"/api/v1/flows/validate?{qs}", json=hook_to_discard("fz", "fz"), headers=headers))
    saved = api.put("/api/v1/flows/fz", json=hook_to_discard("fz", "fz"),
                    headers={**headers, **({} if if_match is None else {"If-Match": if_match})})
    event(f"save {answered(saved)}")
