"""What a check found wrong with a flow document, named precisely enough for the canvas to mark it.

Every check in `flows` returns a list of these instead of raising, so the canvas can mark them all at once.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    code: str  # machine-readable: "unknown_node_type", "dangling_edge", "cycle", "expression_invalid", ...
    message: str  # plain words for a person
    node: str | None = None  # node id it concerns
    edge: str | None = None  # edge id it concerns
    field: str | None = None  # config field or document path, e.g. "expression", "rules[1].when", "nodes[2].type"
    severity: str = ERROR  # ERROR blocks deploy; WARNING does not
    position: int | None = None  # character offset inside an expression
    line: int | None = None  # 1-based, inside an expression
    column: int | None = None  # 1-based, inside an expression

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]
