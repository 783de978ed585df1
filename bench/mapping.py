"""Mapping speed: JSONata mappings through the interpreter, the compiler and (with node) JSONata-JS.

    python bench/mapping.py [EXPRESSION_FILE INPUT_FILE] [--output]

Without files: the reference order-to-ERP mapping and every mapping of bench/mappings/ (MAPPINGS below),
then a summary table. Prints evaluations per second for each engine, both per wall-clock second and
per CPU second of the measuring process. The compiled engine's rounds (15 x 0.3 s) alternate with
JSONata-JS's (one warmed-up node process), and the ratio is the median over those pairs of rounds,
per CPU second: a busy machine (other test runs) skews that far less than figures taken minutes
apart. Each engine's output is checked against the others' (the compiled one against the
interpreter and against JSONata-JS). --output first prints the
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

from nodes.expression.compiler import Unsupported, compile_closures  # noqa: E402
from nodes.expression.interpreter import compile_interpreted  # noqa: E402

ROUNDS = 5  # the interpreter's rounds (and the compiled engine's without node)
ROUND_S = 1.0
PAIRS = 15  # alternating rounds of the compiled engine and JSONata-JS: short, so both see the same load
PAIR_S = 0.3
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
const readline = require('readline');
const jsonata = require(process.argv[1]);
const expr = jsonata(fs.readFileSync(process.argv[2], 'utf8'));
const data = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const roundMs = +process.argv[4] * 1000;
async function round(ms) {
  let n = 0; const t0 = performance.now(); const c0 = process.cpuUsage();
  while (performance.now() - t0 < ms) { await expr.evaluate(data); n++; }
  const c = process.cpuUsage(c0);
  return (n / ((performance.now() - t0) / 1000)) + " " + (n / ((c.user + c.system) / 1e6));
}
(async () => {
  console.log(JSON.stringify((await expr.evaluate(data)) ?? null));
  await round(roundMs);  // warm-up: the JIT compiles the hot paths
  const lines = readline.createInterface({ input: process.stdin });
  for await (const _ of lines) console.log(await round(roundMs));
})();
"""


def one_round(evaluate, data, seconds: float = ROUND_S) -> tuple[float, float]:
    """Evaluations per wall second and per CPU second over one round, on the same parsed input."""
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        evaluate(data)
        n += 1
    return n / (time.perf_counter() - t0), n / max(time.process_time() - c0, 1e-9)


def rate(evaluate, data) -> tuple[float, float]:
    """Median evaluations per wall second and per CPU second over ROUNDS rounds."""
    rounds = [one_round(evaluate, data) for _ in range(ROUNDS)]
    return statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)


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


class JsSession:
    """JSONata-JS in one node process, warmed up, running a round each time it is asked: the compiled
    engine's rounds and its own alternate, so a neighbour's load on the shared machine falls on both."""

    def __init__(self, expr_file: Path, input_file: Path):
        self.proc = subprocess.Popen(["node", "-e", _JS_BENCH, str(_js_module()), str(expr_file),
                                      str(input_file), str(PAIR_S)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        if not first:
            raise RuntimeError(self.proc.stderr.read().strip()[:300])
        self.result = json.loads(first)

    def round(self) -> tuple[float, float]:
        self.proc.stdin.write("round\n")
        self.proc.stdin.flush()
        wall, cpu = self.proc.stdout.readline().split()
        return float(wall), float(cpu)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def _js_module() -> Path | None:
    """The jsonata npm package, installed into bench/.js on first use; None without node or npm."""
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
    return module


def interleaved(evaluate, data, js: JsSession) -> tuple[tuple[float, float], tuple[float, float], list[float]]:
    """PAIRS rounds each of the compiled engine and JSONata-JS, alternating: (median compiled rates,
    median JS rates, the CPU-second ratio of each pair of rounds)."""
    ours, theirs = [], []
    for _ in range(PAIRS):
        ours.append(one_round(evaluate, data, PAIR_S))
        theirs.append(js.round())
    ratios = [o[1] / t[1] for o, t in zip(ours, theirs)]
    med = lambda rounds: (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds))  # noqa: E731
    return med(ours), med(theirs), ratios


def measure(expr_file: Path, input_file: Path, output: bool = False) -> dict:
    """Print one mapping's figures; returns evaluations per CPU second by engine and whether the
    compiled output matched the interpreter's and JSONata-JS's."""
    source = expr_file.read_text()
    text = input_file.read_text()
    interpreted = compile_interpreted(source)
    try:
        compiled = compile_closures(source)
    except Unsupported as why:
        print(f"not compiled ({why}); the product evaluates this mapping with the interpreter")
        compiled = None
    if output:
        engine = compiled or interpreted
        print(json.dumps(engine.evaluate(json.loads(text)), indent=2, ensure_ascii=False))

    print(f"mapping: {expr_file.name} on {input_file.name} (interpreter: median of {ROUNDS} x {ROUND_S:g} s; "
          f"compiled and JSONata-JS: median of {PAIRS} alternating pairs of {PAIR_S:g} s rounds)")
    data = json.loads(text)
    summary = {"same_interpreter": None, "same_js": None}
    engine = compiled or interpreted
    if compiled is not None:
        same = _comparable(compiled.evaluate(data)) == _comparable(interpreted.evaluate(data))
        summary["same_interpreter"] = same
        print(f"  compiled output identical to the interpreter's (CREATED_AT/$now aside): {'yes' if same else 'NO'}")
    figures = {"interpreter": rate(interpreted.evaluate, data)}
    js = None
    if _js_module() is not None:
        try:
            js = JsSession(expr_file, input_file)
        except (RuntimeError, ValueError) as why:
            print(f"JSONata-JS failed: {why}", file=sys.stderr)
    ratios = None
    if js is not None:
        same = _comparable(engine.evaluate(data)) == _comparable(js.result)
        summary["same_js"] = same
        print(f"  {engine.engine} output identical to JSONata-JS's (CREATED_AT/$now aside): {'yes' if same else 'NO'}")
        if compiled is not None:
            figures["compiled"], figures["jsonata-js"], ratios = interleaved(compiled.evaluate, data, js)
        else:
            rounds = [js.round() for _ in range(PAIRS)]
            figures["jsonata-js"] = (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds))
        js.close()
    elif compiled is not None:
        figures["compiled"] = rate(compiled.evaluate, data)
    print(f"  {'':<12} {'per wall s':>12} {'per CPU s':>12}   (evaluations)")
    for name, (wall, cpu) in figures.items():
        print(f"  {name:<12} {wall:12,.0f} {cpu:12,.0f}")
    cpu = {name: value[1] for name, value in figures.items()}
    if "compiled" in cpu:
        print(f"  compiled / interpreter: {cpu['compiled'] / cpu['interpreter']:.1f}x")
        if ratios:
            print(f"  compiled / jsonata-js:  {statistics.median(ratios):.2f}x (median of the {len(ratios)} "
                  f"alternating round pairs; range {min(ratios):.2f}-{max(ratios):.2f})")
            summary["ratio"] = statistics.median(ratios)
            summary["range"] = (min(ratios), max(ratios))
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
    print(f"\n{'mapping':<32} {'compiled/CPU s':>14} {'js/CPU s':>9} {'ratio':>6} {'range':>10}  same as interp / js")
    for expr, row in rows:
        ratio = f"{row['ratio']:.2f}x" if "ratio" in row else "-"
        spread = "{:.2f}-{:.2f}".format(*row["range"]) if "range" in row else "-"
        print(f"{Path(expr).stem:<32} {row.get('compiled') or 0:14,.0f} {row.get('jsonata-js') or 0:9,.0f} "
              f"{ratio:>6} {spread:>10}  {yes[row['same_interpreter']]} / {yes[row['same_js']]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
