"""event.manual: a flow started by hand (the Run button, the API), with an example input to start from."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from flows.spec import NodeSpec, Port
from nodes.base import Context, Emit


class Config(Schema):
    """The example input used when a run is started without one."""

    sample = fields.Raw(load_default=None, allow_none=True,
                        metadata={"title": "Sample", "description": "Any JSON; the input of a run started "
                                  "without one"})


SPEC = NodeSpec(
    type="event.manual", version=1, category="event", title="Manual",
    description="Starts a run by hand or through the API, with the sample as default input.",
    inputs=(), outputs=(Port("out", "Input"),), config=Config, icon="play", tags=("trigger",),
    summary="[sample {{sample}}]",
)


def run(config: dict, message: Any, ctx: Context) -> Emit:
    yield "out", message
