"""URL and header templates: `{{param}}` from the flow params, `{{$.field.path}}` from the message.

Kept apart from JSONata on purpose: a URL is mostly literal text, and placeholders that land in the
path or query are percent-encoded, so a message value like "A/B 1" cannot change which resource is hit.
A message placeholder may fill the path and query only, never scheme, host or port (the message must not choose
where a request goes: egress policy): `host_placeholders` finds them at save, `render_url` refuses them at run.
A flow param may still give the base URL: params are constants of the deployed version, like literal text.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote

from marshmallow import ValidationError

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
_PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FIELD = re.compile(r"^\$((?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*)$")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
# A URL is still choosing scheme, host and port until a "/", "?" or "#" after its "scheme://": a placeholder
# there is a base URL (a param), inserted as is; past it, placeholders are percent-encoded.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/{0,2}")


class TemplateError(ValueError):
    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.position = position


class HostFromMessage(TemplateError):
    """A message placeholder would fill the scheme, host or port of a URL: the connector's egress_denied."""


HOST_PLACEHOLDER = "a placeholder from the message may fill the path and query only, never the scheme, host or port"


@dataclass(frozen=True)
class Placeholder:
    source: str  # "param" or "message"
    name: str  # param name, or the message path as written ("$.order.number")
    steps: tuple[str | int, ...]  # message path steps; () for a param or for the whole message
    position: int  # offset of "{{" in the template


class Template:
    def __init__(self, source: str):
        self.source = source
        self.parts: list[str | Placeholder] = []
        at = 0
        for match in _PLACEHOLDER.finditer(source):
            self.parts.append(source[at:match.start()])
            self.parts.append(_placeholder(match.group(1).strip(), match.start()))
            at = match.end()
        rest = source[at:]
        if "{{" in rest:
            raise TemplateError("'{{' is not closed with '}}'", at + rest.index("{{"))
        self.parts.append(rest)

    @property
    def params(self) -> list[str]:
        return [p.name for p in self.parts if isinstance(p, Placeholder) and p.source == "param"]

    def render(self, params: Mapping[str, Any], message: Any) -> str:
        """Fill in every placeholder as plain text (headers, credentials)."""
        return "".join(p if isinstance(p, str) else _text(_value(p, params, message)) for p in self.parts)

    def render_url(self, params: Mapping[str, Any], message: Any) -> str:
        """Fill in a URL: placeholders in the path, query or fragment are percent-encoded as one
        component each; a param before the path (a base URL) goes in as written, a message value there
        raises HostFromMessage."""
        out = ""
        for part in self.parts:
            if isinstance(part, str):
                out += part
                continue
            past = _past_authority(out)
            if not past and part.source == "message":
                raise HostFromMessage(HOST_PLACEHOLDER, part.position)
            text = _text(_value(part, params, message))
            out += quote(text, safe="") if past else text
        return out

    def host_placeholders(self) -> list[Placeholder]:
        """The message placeholders of a URL template that may land before its path, judged from the literal
        text alone (a param may hold a whole base URL, so it counts as no path): render_url refuses them."""
        found, literal = [], ""
        for part in self.parts:
            if isinstance(part, str):
                literal += part
            elif part.source == "message" and not _past_authority(literal):
                found.append(part)
        return found


def _past_authority(url: str) -> bool:
    return any(c in _SCHEME.sub("", url, count=1) for c in "/?#")


def parse(source: str) -> Template:
    """A template from its source; TemplateError (with position) when a placeholder is malformed."""
    if not isinstance(source, str):
        raise TemplateError("a template must be a string")
    return Template(source)


def validate_field(value: str) -> None:
    """A marshmallow validator for a config field that holds a template: a malformed one is the field's error."""
    try:
        parse(value)
    except TemplateError as err:
        raise ValidationError(err.message) from None


def _placeholder(inner: str, position: int) -> Placeholder:
    if _PARAM.match(inner):
        return Placeholder("param", inner, (), position)
    if _FIELD.match(inner):
        steps = tuple(name if index == "" else int(index) for name, index in _STEP.findall(inner[1:]))
        return Placeholder("message", inner, steps, position)
    raise TemplateError(f"'{{{{{inner}}}}}' is neither a param name nor a message path like $.order.number",
                        position)


def _value(p: Placeholder, params: Mapping[str, Any], message: Any) -> Any:
    if p.source == "param":
        if p.name not in params:
            raise TemplateError(f"param '{p.name}' has no value", p.position)
        value = params[p.name]
    else:
        value = message
        for step in p.steps:
            ok = (isinstance(step, int) and isinstance(value, list) and step < len(value)) or \
                 (isinstance(step, str) and isinstance(value, dict) and step in value)
            if not ok:
                raise TemplateError(f"the message has no value at {p.name}", p.position)
            value = value[step]
    if value is None:
        raise TemplateError(f"'{{{{{p.name}}}}}' is null", p.position)
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)
