"""Compiled $round's scaled fast path against the reference's definition: round the shortest decimal
form half to even (float(round(Decimal(str(x)), places)))."""
from __future__ import annotations

import decimal
import math
import random

import pytest

from nodes.expression.compiler.numbers import round_half_even


def _reference(x, places):
    return float(round(decimal.Decimal(str(x)), places))


def _same(a, b):
    return a == b and math.copysign(1, a) == math.copysign(1, b)


@pytest.mark.parametrize("x, places", [
    (2.675, 2), (1.005, 2), (0.125, 2), (2.5, 0), (3.5, 0), (-2.5, 0), (0.5, 0), (-0.5, 0),
    (-0.001, 2), (0.001, 2), (-0.0, 2), (0.0, 0), (999999999999.5, 0), (1e12, 2), (123.456, 15),
    (5e-324, 3), (1e-300, 2), (0.1 + 0.2, 1), (62.34 * 10 * 0.9, 2), (6.535 * 10, 3),
    (math.nextafter(0.015, 0), 2), (math.nextafter(0.015, 1), 2), (1.4999999999999998, 0),
])
def test_edge_cases_round_as_the_reference(x, places):
    assert _same(round_half_even(x, places), _reference(x, places))


def test_random_amounts_round_as_the_reference():
    rnd = random.Random(7)
    for _ in range(20_000):
        kind = rnd.randrange(4)
        if kind == 0:
            x = rnd.randrange(1, 1000) * (rnd.randrange(1, 100_000) / 100) * (1 - rnd.randrange(0, 50) / 100)
        elif kind == 1:
            x = float(f"{rnd.randrange(-10**6, 10**6)}.{rnd.randrange(0, 10**rnd.randrange(1, 6))}5")
        elif kind == 2:
            x = rnd.uniform(-1, 1) * 10 ** rnd.randrange(-20, 14)
        else:
            x = rnd.randrange(-10**15, 10**15) / 10 ** rnd.randrange(0, 16)
        places = rnd.randrange(0, 18)
        try:
            expected = _reference(x, places)
        except decimal.InvalidOperation:  # more digits than Decimal's context holds: not a mapping's number
            continue
        assert _same(round_half_even(x, places), expected), (x, places)


def test_whole_numbers_round_as_the_reference():
    rnd = random.Random(11)
    values = [0, 1, -1, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 53, 2 ** 60, 10 ** 15, -(10 ** 16)]
    values += [rnd.randrange(-10 ** rnd.randrange(1, 17), 10 ** rnd.randrange(1, 17)) for _ in range(2_000)]
    for x in values:
        for places in (0, 1, 2, 3, 12, 13, -1):
            try:
                expected = _reference(x, places)
            except decimal.InvalidOperation:
                with pytest.raises(decimal.InvalidOperation):
                    round_half_even(x, places)
                continue
            assert _same(round_half_even(x, places), expected), (x, places)
