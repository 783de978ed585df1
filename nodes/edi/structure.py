"""Transaction-set bodies: the segments between ST and SE as a JSON body and back.

This module owns the body of the one-record-per-set contract (issue 15). A set and version
it has no table for keeps the generic, lossless shape {"segments": [...]}, so every input
survives read -> write -> read. Structured shapes for known sets replace it set by set.
"""
from __future__ import annotations

from typing import Any


def to_body(set_id: str, version: str, segments: list[list]) -> dict[str, Any]:
    """The JSON body for the segments of one transaction set (ST and SE excluded)."""
    return {"segments": [list(segment) for segment in segments]}


def from_body(set_id: str, version: str, body: dict[str, Any]) -> list[list]:
    """The segments (ST and SE excluded) a body written by to_body stands for."""
    return [list(segment) for segment in body.get("segments", [])]
