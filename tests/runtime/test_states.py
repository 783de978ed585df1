"""The run state machine: every legal move is allowed, every other move is rejected, finished runs never
move; and the table is the guard the database applies: every (from, to) pair is tried on a real stored
run with the store's guarded UPDATE, on both backends."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from runtime.models import Run
from runtime.states import OPEN, TERMINAL, TRANSITIONS, IllegalTransition, RunStatus, StepStatus, advance, sources
from runtime.store import runs
from runtime.store.transitions import move

S = RunStatus
LEGAL = {(S.QUEUED, S.RUNNING), (S.RUNNING, S.QUEUED), (S.RUNNING, S.SUCCEEDED), (S.RUNNING, S.FAILED)}
ALL_MOVES = list(itertools.product(S, S))


def test_the_table_has_a_row_for_every_state():
    assert set(TRANSITIONS) == set(S)
    assert {s.value for s in S} == {"queued", "running", "succeeded", "failed"}  # only what the runtime produces
    assert {s.value for s in StepStatus} == {"running", "succeeded", "failed", "waiting"}  # waiting: a node raised Wait
    assert OPEN == {S.QUEUED, S.RUNNING}


@pytest.mark.parametrize("cur,new", sorted(LEGAL, key=str), ids=lambda s: s.value)
def test_legal_moves_are_allowed(cur, new):
    assert advance(cur, new) is new
    assert advance(cur.value, new.value) is new  # stored rows hold plain strings
    assert cur in sources(new)


@pytest.mark.parametrize("cur,new", [m for m in ALL_MOVES if m not in LEGAL], ids=lambda s: s.value)
def test_every_other_move_is_illegal(cur, new):
    with pytest.raises(IllegalTransition, match=f"from {cur.value} to {new.value}"):
        advance(cur, new)


def test_terminal_states_have_no_exits_and_the_others_do():
    assert TERMINAL == {S.SUCCEEDED, S.FAILED}
    for state in S:
        assert (not TRANSITIONS[state]) == (state in TERMINAL)


def test_a_state_never_moves_to_itself():
    for state in S:
        with pytest.raises(IllegalTransition):
            advance(state, state)


def test_unknown_states_are_rejected():
    with pytest.raises(ValueError):
        advance("paused", "running")
    with pytest.raises(ValueError):
        advance("queued", "done")
    with pytest.raises(ValueError):
        sources("canceled")


def test_the_guarded_update_moves_a_stored_run_only_along_the_table(store, workspace, monkeypatch):
    """Each (from, to) pair on a real run row: a legal move changes the row, an illegal one changes
    nothing (rowcount 0, the row as it was)."""
    monkeypatch.setattr(store.queue, "enqueue_run", lambda run_id, delay_s=0.0: None)
    run_id = runs.start(store, workspace, "f", 1, {"n": 1}, trigger="manual").id
    for cur, new in ALL_MOVES:
        with store.engine.begin() as conn:  # the test sets the starting state by hand: no transition
            conn.execute(Run.__table__.update().where(Run.id == run_id).values(status=cur.value, attempt=7))
        if not any(cur in TRANSITIONS and new in TRANSITIONS[c] for c in S):  # no state moves to `new`
            with pytest.raises(IllegalTransition):
                move(new, Run.id == run_id)
            continue
        with store.engine.begin() as conn:
            moved = conn.execute(move(new, Run.id == run_id).values(attempt=8)).rowcount
        with store.engine.connect() as conn:
            status, attempt = conn.execute(select(Run.status, Run.attempt).where(Run.id == run_id)).one()
        if (cur, new) in LEGAL:
            assert (moved, status, attempt) == (1, new.value, 8), (cur, new)
        else:
            assert (moved, status, attempt) == (0, cur.value, 7), (cur, new)
