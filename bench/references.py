"""The reference check on big flows: flows.references over bench/bigflow.py's document, the same document
with every mapping reading a declared param ($p) and with every tenth reading an undeclared one ($q, which
must be parsed to be sure), against a workspace description like the one the API builds.

    python bench/references.py [--nodes 50000] [--runs 5]

Prints the median and the first run (cold caches) of each, in seconds, and the problems found.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench.bigflow import big_flow  # noqa: E402
from designer import references  # noqa: E402

WORKSPACE = references.Workspace("bench", connections={"erp": "erp"}, lookups=frozenset({"sku_xref"}),
                                 webhooks={("POST", "orders"): "another-flow"})


def variants(n: int) -> dict[str, dict]:
    plain = big_flow(n, "refs")
    declared, undeclared = copy.deepcopy(plain), copy.deepcopy(plain)
    for doc, every, name in ((declared, 1, "p"), (undeclared, 10, "q")):
        doc["params"] = {"p": {"type": "string", "default": "x"}}
        maps = [node for node in doc["nodes"] if node["type"] == "transform.map"]
        for i, node in enumerate(maps):
            if i % every == 0:
                node["config"]["expression"] = node["config"]["expression"][:-1] + f", 'v': ${name}}}"
    return {"no $names": plain, "each map reads $p (declared)": declared, "a tenth read $q (undeclared)": undeclared}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for label, doc in variants(args.nodes).items():
        times, found = [], 0
        for _ in range(args.runs):
            start = time.perf_counter()
            found = len(references.check(doc, WORKSPACE))
            times.append(time.perf_counter() - start)
        print(f"{len(doc['nodes']):,} nodes, {label}: median {statistics.median(times):.3f} s, "
              f"first {times[0]:.3f} s, {found:,} problems")


if __name__ == "__main__":
    main()
