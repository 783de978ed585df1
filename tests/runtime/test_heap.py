"""runtime/heap: a long-running process's garbage collector, set once start-up is done."""
from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROGRAM = """
import gc
from runtime import heap
kept = [{"n": i} for i in range(1000)]  # what start-up built
before = gc.get_freeze_count()
heap.settle()
cycle = []
cycle.append(cycle)  # garbage in a cycle, made after: still collected
del cycle
print(before, gc.get_freeze_count() >= 1000, gc.get_threshold()[0], gc.collect() >= 1)
"""


def test_settle_freezes_what_start_up_built_and_still_collects_cycles_made_after():
    out = subprocess.run([sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         check=True).stdout.split()
    assert out == ["0", "True", "10000", "True"]
