"""An effect ledger in memory, for node tests: the first run to claim a (scope, key) owns it, and a claim by
another run answers that owner (runtime/connections.py keeps the real one in the database)."""
from __future__ import annotations


class MemoryLedger:
    def __init__(self):
        self.claims = {}

    def claim(self, scope, key, run_id):
        owner = self.claims.setdefault((scope, key), run_id)
        return None if owner == run_id else owner
