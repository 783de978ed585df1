"""EdiError: what the codec reports about input it cannot accept, naming the segment, its position and the element.

Readers collect these instead of raising, so one bad transaction set does not hide the others and the 997
can name every fault; writers raise them for records that cannot be rendered.
"""
from __future__ import annotations

from typing import Any


class EdiError(Exception):
    """A fault in an interchange: code (stable, snake_case), a readable message, and where it is.

    position is the 1-based index of the segment in its interchange (the ISA is 1); element is the
    element's reference, e.g. "SE01". interchange names the interchange's control number (ISA13) when
    a file holds several.
    """

    def __init__(self, code: str, message: str, segment: str | None = None, position: int | None = None,
                 element: str | None = None, interchange: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.segment = segment
        self.position = position
        self.element = element
        self.interchange = interchange
        self.value = value  # the offending element's text, copied into a 997 AK404

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "segment": self.segment,
                "position": self.position, "element": self.element, "interchange": self.interchange}

    def __repr__(self) -> str:
        return f"EdiError({self.code!r}, {self.message!r}, segment={self.segment!r}, position={self.position!r})"
