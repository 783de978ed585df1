"""nodes/turns: an executor process's worker threads compute one at a time, and a thread waiting on another
system lets the next one compute. Each test runs in a process of its own: turns are per process, and on for
good once enabled."""
from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(program: str) -> list[str]:
    return subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True).stdout.split()


def test_worker_threads_compute_one_at_a_time_and_a_waiting_one_lets_the_next_compute():
    out = run("""
import threading, time
from nodes import turns
turns.enable()
log, lock = [], threading.Lock()
inside = [0]
most = [0]
def note(what):
    with lock:
        log.append(what)
def job(name, waits):
    with turns.computing():
        inside[0] += 1; most[0] = max(most[0], inside[0])
        time.sleep(0.05)  # computing (a sleep holds the turn: only waiting() gives it up)
        if waits:
            inside[0] -= 1
            note(name + ":waits")
            with turns.waiting():
                time.sleep(0.3)  # an HTTP call
            note(name + ":back")
            inside[0] += 1
        inside[0] -= 1
    note(name + ":done")
a = threading.Thread(target=job, args=("a", True)); a.start()
time.sleep(0.01)
b = threading.Thread(target=job, args=("b", False)); b.start()
a.join(); b.join()
print(most[0], ",".join(log))
""")
    assert out == ["1", "a:waits,b:done,a:back,a:done"]


def test_turns_are_off_until_enabled_and_waiting_outside_a_turn_does_nothing():
    out = run("""
import threading, time
from nodes import turns
inside, most = [0], [0]
def job():
    with turns.computing():
        inside[0] += 1; most[0] = max(most[0], inside[0]); time.sleep(0.1); inside[0] -= 1
threads = [threading.Thread(target=job) for _ in range(2)]
[t.start() for t in threads]; [t.join() for t in threads]
turns.enable()
with turns.waiting():  # not in a turn: nothing to give up
    pass
with turns.computing():
    with turns.computing():  # a job inside a job keeps the one turn
        with turns.waiting():
            with turns.waiting():
                pass
print(turns.enabled(), most[0])
""")
    assert out == ["True", "2"]  # both computed at once while turns were off
