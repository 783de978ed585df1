"""Product profiles: how one product of a system kind (erp.business_central, erp.netsuite) carries out the kind's
canonical operations -- its paths, request and response mapping, auth and paging -- and the registry that the
connector nodes offer products from. The node type names the kind (connector.erp), its `product` config field
names the profile, so adding a product is one module that registers a Profile; no runtime or canvas change."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from nodes import connector_http, system_profile, url_template
from nodes.base import NodeError, PrepareEnv
from nodes.system_profile import Operation

PAGINGS = ("none", "odata", "offset")  # odata: follow @odata.nextLink; offset: hasMore and the `next` link
AUTH_TYPES = ("none", "basic", "bearer", "api_key")  # what a connection can carry (runtime/connections.py)
PARAM = re.compile(r"^\{\{\s*([A-Za-z_]\w*)\s*\}\}$")  # a product chosen by a flow param: "{{erp_product}}"
ID = re.compile(r"^[a-z]+\.[a-z0-9_]+$")


@dataclass(frozen=True)
class Profile:
    id: str  # "erp.netsuite": the kind, a dot, the product
    title: str  # what the inspector shows
    operations: tuple[Operation, ...]  # a subset of the kind's canonical operations, by name
    auth: tuple[str, ...] = AUTH_TYPES  # the connection auth types the product accepts
    paging: str = "none"  # how a list answer continues (PAGINGS)
    # (product error code, message) read from an error answer's parsed body; None when it is not the product's shape
    error: Callable[[Any], tuple[str, str] | None] | None = None

    def __post_init__(self):
        if not ID.match(self.id):
            raise ValueError(f"{self.id}: a product id is <kind>.<product>, lowercase")
        if self.paging not in PAGINGS:
            raise ValueError(f"{self.id}: paging is one of {', '.join(PAGINGS)}")
        if not set(self.auth) <= set(AUTH_TYPES):
            raise ValueError(f"{self.id}: auth types are among {', '.join(AUTH_TYPES)}")
        names = [o.name for o in self.operations]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.id}: operation names repeat")

    @property
    def kind(self) -> str:
        return self.id.split(".", 1)[0]

    def operation(self, name: str) -> Operation | None:
        return next((o for o in self.operations if o.name == name), None)


_PROFILES: dict[str, Profile] = {}


def register(profile: Profile) -> Profile:
    """Offer a product to the connector of its kind; registering the same id again replaces it."""
    _PROFILES[profile.id] = profile
    return profile


def unregister(product_id: str) -> None:
    _PROFILES.pop(product_id, None)


def of_kind(kind: str) -> list[str]:
    """The registered products of a kind, by id."""
    return sorted(p for p in _PROFILES if p.split(".", 1)[0] == kind)


def get(product_id: str) -> Profile:
    """The profile of a product; KeyError when none is registered."""
    return _PROFILES[product_id]


class Products(validate.OneOf):
    """One of the registered products of a kind, read when asked (a profile registered later is offered at once,
    also in the JSON Schema's enum), or a {{param}} that names one when the flow is deployed."""

    def __init__(self, kind: str):
        self.kind = kind
        super().__init__(())

    @property
    def choices(self) -> list[str]:
        return of_kind(self.kind)

    @choices.setter
    def choices(self, _value) -> None:  # OneOf.__init__ sets it; the registry is the source
        pass

    @property
    def choices_text(self) -> str:
        return ", ".join(self.choices)

    @choices_text.setter
    def choices_text(self, _value) -> None:
        pass

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and PARAM.match(value):
            return value
        if value not in self.choices:
            raise ValidationError(f"Must be one of: {self.choices_text}, or a {{{{param}}}} naming one.")
        return value


def config_schema(kind: str, operations: tuple[tuple[str, str], ...], default: str, title: str) -> type[Schema]:
    """The config of a system connector: which connection, which product, which of the kind's canonical
    operations (the product's profile must offer it), and optional overrides."""

    class Config(Schema):
        connection = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{1,100}$"),
                                   metadata={"title": "Connection", "format": "connection",
                                             "description": f"Name of the workspace's {title} connection"})
        product = fields.String(load_default=default, validate=Products(kind), metadata={
            "title": "Product", "description": f"The {title} product the connection is to (its profile maps the "
            f"operations to the product's API), or a flow param naming one, e.g. {{{{{kind}_product}}}}"})
        operation = fields.String(required=True, validate=validate.OneOf([name for name, _ in operations]),
                                  metadata={"title": "Operation", "description": "; ".join(
                                      f"{name}: {text}" for name, text in operations)})
        path = fields.String(load_default=None, allow_none=True, validate=_template_ok, metadata={
            "title": "Path", "format": "template", "description": "Override of the product's path for the "
            "operation, e.g. orders/{{$.source_id}}"})
        body = fields.String(load_default=None, allow_none=True, metadata={
            "title": "Body", "format": "jsonata", "description": "JSONata of the canonical request body (the "
            "product's profile maps it to the product's shape); empty: the operation's default"})
        each = fields.String(load_default=None, allow_none=True, metadata={
            "title": "For each", "format": "jsonata", "description": "JSONata giving a list: one request per "
            "item (the item is the message of path and body); the answers are collected into a list"})
        into = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^[A-Za-z_]\w*$"),
                             metadata={"title": "Into field", "description": "Keep the message and put the "
                                       "answer into this field; empty: the answer replaces the message"})
        timeout_s = fields.Float(load_default=10.0, validate=validate.Range(0, 300, min_inclusive=False),
                                 metadata={"title": "Timeout (s)"})
        retry = fields.Nested(connector_http.Retry, load_default=lambda: connector_http.Retry().load({}),
                              metadata={"title": "Retry"})

        @validates_schema
        def offered(self, data: dict, **_kwargs: Any) -> None:
            chosen, name = data.get("product"), data.get("operation")
            if isinstance(chosen, str) and chosen in _PROFILES and name and get(chosen).operation(name) is None:
                raise ValidationError(f"{chosen} does not offer {name}", "operation")

    Config.__doc__ = f"The {title} operation to call, the product and the connection to call it on."
    return Config


def _template_ok(value: str) -> None:
    try:
        url_template.parse(value)
    except url_template.TemplateError as err:
        raise ValidationError(err.message) from None


def resolve(config: dict, params: Any) -> Profile:
    """The profile a node config names, a {{param}} read from the flow's params; NodeError naming the field."""
    chosen = config["product"]
    match = PARAM.match(chosen)
    if match:
        chosen = (params or {}).get(match.group(1))
    if not isinstance(chosen, str) or chosen not in _PROFILES:
        raise NodeError("unknown_product", f"product: {chosen!r} is not a registered product"
                        f"{' (from param ' + match.group(1) + ')' if match else ''}", field="product")
    profile = get(chosen)
    if profile.operation(config["operation"]) is None:
        raise NodeError("unsupported_operation", f"{profile.id} does not offer {config['operation']}",
                        field="operation")
    return profile


def prepare(config: dict, env: PrepareEnv) -> system_profile.Prepared:
    profile = resolve(config, getattr(env, "params", {}))
    return system_profile.prepare(profile.operations, config, env, profile=profile)
