"""Evaluations handed from the compiler to the interpreter, logged and counted by reason.

A fallback keeps an expression working but some 15x slower, so none may pass unseen: each is counted
(`counts()`, for metrics: the operations issue will export these counters to Prometheus) and logged
once per distinct expression and reason, at warning level, naming the reason and the expression's start.
"""
from __future__ import annotations

import logging
import threading
from collections import Counter

log = logging.getLogger("crossdock.expression")

# the reasons, one counter each
UNSUPPORTED = "unsupported"  # the compiler refuses a construct on purpose (Unsupported)
COMPILER_ERROR = "compiler_error"  # the compiler failed unexpectedly: a bug, or a changed jsonata-python
REJECTED_VALID = "rejected_valid"  # the compiler's parse refused what the interpreter accepts
SHADOWED_BUILTIN = "shadowed_builtin"  # a binding renames a built-in the compiled code calls directly
REASONS = (UNSUPPORTED, COMPILER_ERROR, REJECTED_VALID, SHADOWED_BUILTIN)

_SEEN_MAX = 10_000  # distinct (reason, expression) pairs remembered for the once-only log
_lock = threading.Lock()
_counts: Counter = Counter()
_seen: set[tuple[str, str]] = set()


def record(reason: str, source: str, detail: BaseException | str) -> None:
    """Count one fallback; log it unless this expression already fell back for this reason."""
    key = (reason, source)
    with _lock:
        _counts[reason] += 1
        first = key not in _seen and len(_seen) < _SEEN_MAX
        if first:
            _seen.add(key)
    if first:
        what = f"{type(detail).__name__}: {detail}" if isinstance(detail, BaseException) else detail
        log.warning("JSONata expression falls back to the interpreter (%s: %s): %r", reason, what, _start(source))


def counts() -> dict[str, int]:
    """Fallbacks since the process started (or the last reset), by reason; every reason present."""
    with _lock:
        return {reason: _counts[reason] for reason in REASONS}


def reset() -> None:
    """Forget counts and logged expressions (tests)."""
    with _lock:
        _counts.clear()
        _seen.clear()


def _start(source: str, n: int = 60) -> str:
    text = " ".join(str(source).split())
    return text if len(text) <= n else text[:n] + "..."
