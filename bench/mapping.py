"""Mapping speed: JSONata mappings through the interpreter, the compiler and (with node) JSONata-JS.

    python bench/mapping.py [EXPRESSION_FILE INPUT_FILE] [--output]

Without files: the reference order-to-ERP mapping and every mapping of bench/mappings/ (MAPPINGS below),
then a summary table. Prints evaluations per second (median of 5 one-second rounds) for each engine,
both per wall-clock second and per CPU second of the measuring process; the ratios use CPU seconds,
which a busy machine (other test runs) skews far less. Each engine's output is checked against the
others' (the compiled one against the interpreter and against JSONata-JS). --output first prints the
compiled engine's result as JSON. The JavaScript figure needs node; the `jsonata` npm package is
installed on first use into bench/.js (git-ignored), and the script runs without it.
"""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from anywhere

from nodes.expression.compiler import Unsupported, compile_compiled  # noqa: E402
from nodes.expression.interpreter import compile_interpreted  # noqa: E402

ROUNDS = 5
ROUND_S = 1.0
JS_DIR = HERE / ".js"
JSONATA_JS = "jsonata@2.2.2"
MAPPINGS = [  # (expression, input) under bench/
    ("order_to_erp.jsonata", "sample_order.json"),
    ("mappings/webshop_to_canonical.jsonata", "mappings/webshop_order.json"),
    ("mappings/shipment_to_invoice.jsonata", "mappings/warehouse_shipment.json"),
    ("mappings/shipping_advice_945_to_invoice.jsonata", "mappings/shipping_advice_945.json"),
    ("mappings/shopify_to_canonical.jsonata", "mappings/shopify_order.json"),
]

_JS_BENCH = r"""
const fs = require('fs');
const jsonata = require(process.argv[1]);
const expr = jsonata(fs.readFileSync(process.argv[2], 'utf8'));
const data = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const rounds = +process.argv[4], roundMs = +process.argv[5] * 1000;
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
(async () => {
  console.log(JSON.stringify((await expr.evaluate(data)) ?? null));
  const wall = [], cpu = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0; const t0 = performance.now(); const c0 = process.cpuUsage();
    while (performance.now() - t0 < roundMs) { await expr.evaluate(data); n++; }
    const c = process.cpuUsage(c0);
    wall.push(n / ((performance.now() - t0) / 1000));
    cpu.push(n / ((c.user + c.system) / 1e6));
  }
  console.log(median(wall) + " " + median(cpu));
})();
"""


def rate(evaluate, data) -> tuple[float, float]:
    """Median evaluations per wall second and per CPU second, over the same parsed input."""
    wall, cpu = [], []
    for _ in range(ROUNDS):
        n = 0
        t0, c0 = time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < ROUND_S:
            evaluate(data)
            n += 1
        wall.append(n / (time.perf_counter() - t0))
        cpu.append(n / max(time.process_time() - c0, 1e-9))
    return statistics.median(wall), statistics.median(cpu)


def _comparable(result) -> str:
    """The result as JSON, with timestamps taken from the clock ($now()) blanked and integral floats
    written as integers (JavaScript has one number type: 5.0 and 5 are the same value there)."""
    def blank(v):
        if isinstance(v, dict):
            return {k: ("<now>" if k in ("CREATED_AT", "created_at", "exported_at") else blank(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [blank(x) for x in v]
        if isinstance(v, float) and v.is_integer():
            return int(v)
        return v
    return json.dumps(blank(result), ensure_ascii=False)


def js_rate(expr_file: Path, input_file: Path) -> tuple[float, float, object] | None:
    """(evaluations per wall s, per CPU s, the result) from JSONata-JS, or None without node."""
    if not shutil.which("node"):
        return None
    module = JS_DIR / "node_modules" / "jsonata"
    if not module.exists():
        if not shutil.which("npm"):
            return None
        done = subprocess.run(["npm", "install", "--prefix", str(JS_DIR), JSONATA_JS, "--no-audit",
                               "--no-fund"], capture_output=True, text=True)
        if done.returncode != 0:
            return None
    run = subprocess.run(["node", "-e", _JS_BENCH, str(module), str(expr_file), str(input_file),
                          str(ROUNDS), str(ROUND_S)], capture_output=True, text=True)
    if run.returncode != 0:
        print(f"JSONata-JS failed: {run.stderr.strip()[:300]}", file=sys.stderr)
        return None
    result, figures = run.stdout.strip().rsplit("\n", 1)
    wall, cpu = figures.split()
    return float(wall), float(cpu), json.loads(result)


def measure(expr_file: Path, input_file: Path, output: bool = False) -> dict:
    """Print one mapping's figures; returns evaluations per CPU second by engine and whether the
    compiled output matched the interpreter's and JSONata-JS's."""
    source = expr_file.read_text()
    text = input_file.read_text()
    interpreted = compile_interpreted(source)
    try:
        compiled = compile_compiled(source)
    except Unsupported as why:
        print(f"not compiled ({why}); the product evaluates this mapping with the interpreter")
        compiled = None
    if output:
        engine = compiled or interpreted
        print(json.dumps(engine.evaluate(json.loads(text)), indent=2, ensure_ascii=False))

    print(f"mapping: {expr_file.name} on {input_file.name} (median of {ROUNDS} x {ROUND_S:g} s)")
    data = json.loads(text)
    summary = {"same_interpreter": None, "same_js": None}
    engine = compiled or interpreted
    if compiled is not None:
        same = _comparable(compiled.evaluate(data)) == _comparable(interpreted.evaluate(data))
        summary["same_interpreter"] = same
        print(f"  compiled output identical to the interpreter's (CREATED_AT/$now aside): {'yes' if same else 'NO'}")
    figures = {"interpreter": rate(interpreted.evaluate, data)}
    if compiled is not None:
        figures["compiled"] = rate(compiled.evaluate, data)
    js = js_rate(expr_file, input_file)
    if js is not None:
        figures["jsonata-js"] = js[:2]
        same = _comparable(engine.evaluate(data)) == _comparable(js[2])
        summary["same_js"] = same
        print(f"  {engine.engine} output identical to JSONata-JS's (CREATED_AT/$now aside): {'yes' if same else 'NO'}")
    print(f"  {'':<12} {'per wall s':>12} {'per CPU s':>12}   (evaluations)")
    for name, (wall, cpu) in figures.items():
        print(f"  {name:<12} {wall:12,.0f} {cpu:12,.0f}")
    cpu = {name: value[1] for name, value in figures.items()}
    if "compiled" in cpu:
        print(f"  compiled / interpreter: {cpu['compiled'] / cpu['interpreter']:.1f}x")
        if js is not None:
            print(f"  compiled / jsonata-js:  {cpu['compiled'] / cpu['jsonata-js']:.1f}x")
    if js is not None:
        print(f"  jsonata-js / interpreter: {cpu['jsonata-js'] / cpu['interpreter']:.1f}x")
    else:
        print("  jsonata-js: not measured (node or the jsonata npm package unavailable)")
    summary.update(cpu)
    return summary


def main(argv: list[str]) -> int:
    output = "--output" in argv
    files = [a for a in argv if a != "--output"]
    if len(files) not in (0, 2):
        print(__doc__, file=sys.stderr)
        return 2
    if files:
        measure(Path(files[0]), Path(files[1]), output)
        return 0
    rows = [(expr, measure(HERE / expr, HERE / data, output)) for expr, data in MAPPINGS]
    yes = {True: "yes", False: "NO", None: "-"}
    print(f"\n{'mapping':<40} {'compiled/CPU s':>14} {'js/CPU s':>9} {'ratio':>6}  same as interp / js")
    for expr, row in rows:
        js = row.get("jsonata-js")
        comp = row.get("compiled")
        ratio = f"{comp / js:.2f}x" if comp and js else "-"
        print(f"{Path(expr).stem:<40} {comp or 0:14,.0f} {js or 0:9,.0f} {ratio:>6}  "
              f"{yes[row['same_interpreter']]} / {yes[row['same_js']]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
