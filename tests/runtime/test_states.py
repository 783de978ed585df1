"""The run state machine: every legal move is allowed, every other move is rejected, finished runs never move."""
from __future__ import annotations

import itertools

import pytest

from runtime.states import TERMINAL, TRANSITIONS, IllegalTransition, RunStatus, advance

S = RunStatus
LEGAL = {
    (S.QUEUED, S.RUNNING), (S.QUEUED, S.CANCELED),
    (S.RUNNING, S.QUEUED), (S.RUNNING, S.SUCCEEDED), (S.RUNNING, S.FAILED), (S.RUNNING, S.DEAD_LETTERED),
    (S.RUNNING, S.CANCELED),
}
ALL_MOVES = list(itertools.product(S, S))


def test_the_table_has_a_row_for_every_state():
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize("cur,new", sorted(LEGAL, key=str), ids=lambda s: s.value)
def test_legal_moves_are_allowed(cur, new):
    assert advance(cur, new) is new
    assert advance(cur.value, new.value) is new  # stored rows hold plain strings


@pytest.mark.parametrize("cur,new", [m for m in ALL_MOVES if m not in LEGAL], ids=lambda s: s.value)
def test_every_other_move_is_illegal(cur, new):
    with pytest.raises(IllegalTransition, match=f"from {cur.value} to {new.value}"):
        advance(cur, new)


def test_terminal_states_have_no_exits_and_the_others_do():
    assert TERMINAL == {S.SUCCEEDED, S.FAILED, S.DEAD_LETTERED, S.CANCELED}
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
