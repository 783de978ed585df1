"""Issue 13, acceptance 5: how fast the mapper's preview answers over 5 saved samples.

    python bench/preview.py [RUNS]

The bundled order release is installed in a fresh embedded workspace with 5 sample orders and deployed; the ERP
node's body (the ERP mapping) is previewed through POST /api/v1/flows/<id>/nodes/<node>/preview-samples, each
sample walked through the upstream steps (canonical map, conform, dedupe, three lookups), the edited mapping and the
deployed one evaluated on it, and the differing target fields listed. Measured through the Flask test client and
over HTTP (a threaded Werkzeug server in this process), for the body as bundled (compiled engine) and with a unit of
measure through $lookup (a table call: interpreter). Prints the median and p90 of RUNS calls (default 40) after 5
warm-up calls; the target is a median under 200 ms. Never imported by the product.
"""
from __future__ import annotations

import copy
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from anywhere

import requests  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from runtime import keys  # noqa: E402
from runtime.settings import Settings  # noqa: E402
from runtime.wiring import Runtime  # noqa: E402
from web.app import create_app  # noqa: E402

FLOW, NODE, SAMPLES, WARM_UP = "order-release", "erp_order", 5, 5
TARGET_MS = 200


def setup(client, headers: dict) -> tuple[str, str]:
    """The order release with 5 samples deployed; (its ERP body, the body with the lines' UOM through $lookup)."""
    systems = {name: {"base_url": f"http://{name}.example"} for name in ("erp", "oms", "wms")}  # never called
    r = client.post("/api/v1/templates/import", json={"template": FLOW, "connections": systems}, headers=headers)
    assert r.status_code == 201, r.json
    doc = client.get(f"/api/v1/flows/{FLOW}", headers=headers).json["flow"]
    base = next(iter(doc["samples"].values()))
    doc["samples"] = {}
    for i in range(SAMPLES):
        order = copy.deepcopy(base)
        order.update(id=7001 + i, name=f"#B-{i + 1}")
        order["line_items"] = order["line_items"] * (i + 1)  # 2 to 10 lines
        doc["samples"][f"order-{i + 1}"] = order
    assert client.put(f"/api/v1/flows/{FLOW}", json=doc, headers=headers).status_code == 200
    assert client.post(f"/api/v1/flows/{FLOW}/deploy", headers=headers).status_code == 201
    assert client.put("/api/v1/lookups/uom", json={"rows": {"EA": "PCS"}}, headers=headers).status_code == 200
    body = next(n for n in doc["nodes"] if n["id"] == NODE)["config"]["body"]
    mapping = client.post("/api/v1/mappings/parse", json={"expression": body}, headers=headers).json["mapping"]
    lines = next(a for a in mapping["arrays"] if a["target"] == "lines")
    for field in lines["fields"]:
        if field["target"] == "unitOfMeasureCode":
            field["rule"] = {"kind": "lookup", "table": "uom", "path": "uom", "default": None}
    edited = client.post("/api/v1/mappings/compile", json={"mapping": mapping}, headers=headers).json["expression"]
    return body, edited


def measure(call, runs: int) -> list[float]:
    for _ in range(WARM_UP):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    with tempfile.TemporaryDirectory(prefix="crossdock-bench-preview-") as data_dir:
        rt = Runtime(Settings(data_dir=data_dir, load_samples=False))
        try:
            rt.ensure_workspace("default")
            _record, secret = keys.create(rt, "default", "bench", list(keys.SCOPES), "bench")
            headers = {"X-Crossdock-Key": secret}
            app = create_app(rt)
            client = app.test_client()
            bodies = setup(client, headers)
            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
            server = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            base = f"http://127.0.0.1:{server.server_port}"
            session = requests.Session()
            path = f"/api/v1/flows/{FLOW}/nodes/{NODE}/preview-samples"
            print(f"preview of the order release's ERP mapping over {SAMPLES} samples, {runs} calls each")
            for label, body in (("as bundled", bodies[0]), ("UOM via $lookup", bodies[1])):
                payload = {"expression": body, "limit": SAMPLES}

                def test_client(payload=payload):
                    r = client.post(path, json=payload, headers=headers)
                    assert r.status_code == 200 and len(r.json["results"]) == SAMPLES, r.json
                    assert all(x["error"] is None for x in r.json["results"]), r.json

                def http(payload=payload):
                    r = session.post(base + path, data=json.dumps(payload),
                                     headers={**headers, "Content-Type": "application/json"})
                    assert r.status_code == 200 and len(r.json()["results"]) == SAMPLES, r.text

                for how, call in (("test client", test_client), ("HTTP", http)):
                    times = measure(call, runs)
                    median = statistics.median(times)
                    p90 = statistics.quantiles(times, n=10)[-1]
                    verdict = "under" if median < TARGET_MS else "OVER"
                    print(f"  {label:16} {how:12} median {median:7.1f} ms  p90 {p90:7.1f} ms  "
                          f"({verdict} the {TARGET_MS} ms target)")
            server.shutdown()
        finally:
            rt.close()


if __name__ == "__main__":
    main()
