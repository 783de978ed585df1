"""The run store: the one package that writes runs, steps, whole payloads and dead letters
(tests/test_layers.py holds everyone else to it), and reads them back.

- runs.py: create a run and enqueue its job (every trigger), logging a queue that refuses it
- claims.py: claim a run, keep its lease, take back runs whose lease expired (or end them as poison)
- ends.py: the end write of an execution, and the hand-over to the next run of its sequence key
- reads.py: run lists and details, payloads, dead letters, recovery's and replay's reads
- pruning.py: retention's deletes
- letters.py: dead letters found by maintenance after a run ended (an EDI interchange's overdue 997)
- transitions.py: every status change, guarded by the state table (runtime/states.py)
- writer.py: group commit of concurrent writes
"""
