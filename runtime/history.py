"""Run history as the API and the command line read it: run lists, run detail with steps, whole step
payloads, dead letters. The queries live in the run store (runtime/store/reads.py); this module is the
name the designer and run.py use for them."""
from __future__ import annotations

from runtime.store.reads import (MAX_PAGE, dead_letter_dict, get_run, list_dead_letters, list_runs, run_dict,
                                 step_dict, step_payload)

__all__ = ["MAX_PAGE", "dead_letter_dict", "get_run", "list_dead_letters", "list_runs", "run_dict", "step_dict",
           "step_payload"]
