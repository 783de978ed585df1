"""Node specs mirroring the ports and config of nodes/, built here so flows/ is tested without nodes/."""
from __future__ import annotations

import json
import pathlib

import pytest
from marshmallow import Schema, fields, validate

from flows.problem import Problem
from flows.spec import NodeSpec, Port

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "flows" / "samples"
METHODS = validate.OneOf(["GET", "POST", "PUT", "PATCH", "DELETE"])


class WebhookConfig(Schema):
    path = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$"))
    method = fields.String(load_default="POST", validate=METHODS)
    respond = fields.String(load_default="async", validate=validate.OneOf(["async", "sync"]))
    timeout_s = fields.Float(validate=validate.Range(min=0, min_inclusive=False))


class ManualConfig(Schema):
    sample = fields.Raw(allow_none=True)


class MapConfig(Schema):
    expression = fields.String(required=True, validate=validate.Length(min=1))


class Rule(Schema):
    port = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]*$"))
    when = fields.String(required=True, validate=validate.Length(min=1))


class ChoiceConfig(Schema):
    rules = fields.List(fields.Nested(Rule), required=True, validate=validate.Length(min=1))
    drop_unmatched = fields.Boolean(load_default=False)


class FilterConfig(Schema):
    when = fields.String(required=True, validate=validate.Length(min=1))


class Auth(Schema):
    type = fields.String(required=True, validate=validate.OneOf(["none", "basic", "bearer", "api_key"]))
    username = fields.String()
    password = fields.String()
    token = fields.String()
    header = fields.String()
    value = fields.String()


class Retry(Schema):
    max_attempts = fields.Integer(strict=True, validate=validate.Range(min=1))
    backoff_s = fields.Float()


class HttpConfig(Schema):
    method = fields.String(load_default="POST", validate=METHODS)
    url = fields.String(required=True, validate=validate.Length(min=1))
    headers = fields.Dict(keys=fields.String(), values=fields.String())
    auth = fields.Nested(Auth)
    body = fields.String(allow_none=True)
    timeout_s = fields.Float()
    retry = fields.Nested(Retry)


class DiscardConfig(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1))


class RespondConfig(Schema):
    status = fields.Integer(strict=True, load_default=200)
    body = fields.String(allow_none=True)


IN = (Port("in"),)
OUT = (Port("out"),)
ERR = (Port("error"),)


def _spec(type_, category, config, inputs, outputs, **kw) -> NodeSpec:
    return NodeSpec(type=type_, version=kw.pop("version", 1), category=category, title=type_, description="",
                    inputs=inputs, outputs=outputs, config=config, **kw)


def make_specs() -> dict[str, NodeSpec]:
    specs = [
        _spec("event.webhook", "event", WebhookConfig, (), OUT),
        _spec("event.manual", "event", ManualConfig, (), OUT),
        _spec("transform.map", "transform", MapConfig, IN, OUT + ERR, expressions=("expression",)),
        _spec("branch.choice", "branch", ChoiceConfig, IN,
              (Port("otherwise", unused_when=("drop_unmatched", (True,))),) + ERR,
              expressions=("rules[].when",), dynamic_outputs="rules[].port"),
        _spec("branch.filter", "branch", FilterConfig, IN, OUT + ERR, expressions=("when",)),
        # a connector's answer has left the flow already: unwired, it ends by design
        _spec("connector.http", "connector", HttpConfig, IN, (Port("out", optional=True),) + ERR,
              expressions=("body",)),
        _spec("control.respond", "control", RespondConfig, IN, (), expressions=("body",)),
        _spec("control.discard", "control", DiscardConfig, IN, ()),
    ]
    return {s.type: s for s in specs}


@pytest.fixture
def specs() -> dict[str, NodeSpec]:
    return make_specs()


@pytest.fixture
def check():
    return fake_check


def fake_check(source: str) -> Problem | None:
    """Stands in for nodes.expression.check: "((" does not compile; report where, like the real one."""
    pos = source.find("((")
    if pos < 0:
        return None
    before = source[:pos]
    return Problem("expression_invalid", "S0202: Expected ')'", position=pos, line=before.count("\n") + 1,
                   column=pos - (before.rfind("\n") + 1) + 1)


@pytest.fixture
def sample_flow() -> dict:
    return json.loads((SAMPLES / "order-sync.json").read_text())


def minimal_flow() -> dict:
    """webhook -> map -> http, valid against make_specs()."""
    return {
        "schema": "crossdock.flow/1",
        "id": "mini",
        "nodes": [
            {"id": "in", "type": "event.webhook", "config": {"path": "orders"}},
            {"id": "map", "type": "transform.map", "config": {"expression": "order"}},
            {"id": "out", "type": "connector.http", "config": {"url": "http://x/y"}},
        ],
        "edges": [
            {"id": "e1", "source": "in", "source_port": "out", "target": "map", "target_port": "in"},
            {"id": "e2", "source": "map", "source_port": "out", "target": "out", "target_port": "in"},
        ],
    }


@pytest.fixture
def flow() -> dict:
    return minimal_flow()

