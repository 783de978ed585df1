"""Test support shared across test folders: waiting for a condition."""
from __future__ import annotations

import time


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll until predicate() is truthy; return its value or fail after `timeout` seconds.

    The first polls come quickly (2 ms, then twice as long each time up to `interval`): most conditions
    hold within a few milliseconds, and a flat 50 ms cost every wait 25 ms on average, thousands of times."""
    deadline = time.monotonic() + timeout
    pause = min(0.002, interval)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(pause)
        pause = min(pause * 2, interval)
