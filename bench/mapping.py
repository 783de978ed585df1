"""Mapping speed: one JSONata mapping through the interpreter, the compiler and (with node) JSONata-JS.

    python bench/mapping.py [EXPRESSION_FILE INPUT_FILE] [--output]

Defaults to the reference order-to-ERP mapping on the reference order. Prints evaluations per second
(median of 5 one-second rounds) for each engine and the ratios; --output first prints the compiled
engine's result as JSON. The JavaScript figure needs node; the `jsonata` npm package is installed on
first use into bench/.js (git-ignored), and the script runs without it.
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

_JS_BENCH = r"""
const fs = require('fs');
const jsonata = require(process.argv[1]);
const expr = jsonata(fs.readFileSync(process.argv[2], 'utf8'));
const data = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const rounds = +process.argv[4], roundMs = +process.argv[5] * 1000;
(async () => {
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    let n = 0; const t0 = performance.now();
    while (performance.now() - t0 < roundMs) { await expr.evaluate(data); n++; }
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  console.log(rates[Math.floor(rates.length / 2)]);
})();
"""


def rate(evaluate, data) -> float:
    """Median evaluations per second over the same parsed input (every engine is measured alike)."""
    rates = []
    for _ in range(ROUNDS):
        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < ROUND_S:
            evaluate(data)
            n += 1
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def _comparable(result) -> str:
    """The result as JSON, with timestamps taken from the clock ($now()) blanked."""
    def blank(v):
        if isinstance(v, dict):
            return {k: ("<now>" if k in ("CREATED_AT", "created_at", "exported_at") else blank(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [blank(x) for x in v]
        return v
    return json.dumps(blank(result))


def js_rate(expr_file: Path, input_file: Path) -> float | None:
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
    return float(run.stdout.strip())


def main(argv: list[str]) -> int:
    output = "--output" in argv
    files = [a for a in argv if a != "--output"]
    if len(files) not in (0, 2):
        print(__doc__, file=sys.stderr)
        return 2
    expr_file = Path(files[0]) if files else HERE / "order_to_erp.jsonata"
    input_file = Path(files[1]) if files else HERE / "sample_order.json"
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
    if compiled is not None:
        same = _comparable(compiled.evaluate(data)) == _comparable(interpreted.evaluate(data))
        print(f"  compiled output identical to the interpreter's (CREATED_AT/$now aside): {'yes' if same else 'NO'}")
    figures = {"interpreter": rate(interpreted.evaluate, data)}
    if compiled is not None:
        figures["compiled"] = rate(compiled.evaluate, data)
    js = js_rate(expr_file, input_file)
    if js is not None:
        figures["jsonata-js"] = js
    for name, value in figures.items():
        print(f"  {name:<12} {value:10,.0f} evaluations/s")
    if "compiled" in figures:
        print(f"  compiled / interpreter: {figures['compiled'] / figures['interpreter']:.1f}x")
        if js is not None:
            print(f"  compiled / jsonata-js:  {figures['compiled'] / js:.1f}x")
    if js is not None:
        print(f"  jsonata-js / interpreter: {js / figures['interpreter']:.1f}x")
    else:
        print("  jsonata-js: not measured (node or the jsonata npm package unavailable)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
