"""The one error type of JSONata compilation and evaluation, with the JSONata code and position."""
from __future__ import annotations

from flows.problem import Problem


class ExpressionError(Exception):
    def __init__(self, code: str, message: str, source: str = "", position: int | None = None):
        super().__init__(message)
        self.code = code  # JSONata code ("S0203", "T2001", "D3001") or ours ("U1001" timeout, "U1002" depth, "U1000" other)
        self.message = message
        self.position = position if position is not None and position >= 0 else None
        self.line, self.column = _line_column(source, self.position)

    def to_dict(self) -> dict:
        d = {"code": self.code, "message": self.message}
        for k in ("position", "line", "column"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        return d

    def to_problem(self) -> Problem:
        where = f" (line {self.line}, column {self.column})" if self.line else ""
        return Problem(code="expression_invalid", message=f"{self.code}: {self.message}{where}",
                       position=self.position, line=self.line, column=self.column)


def _line_column(source: str, position: int | None) -> tuple[int | None, int | None]:
    if position is None or not source:
        return None, None
    # jsonata reports the offset just past the offending token; clamp into the text
    pos = max(0, min(position, len(source)))
    before = source[:pos]
    line = before.count("\n") + 1
    column = pos - (before.rfind("\n") + 1) + 1
    return line, column
