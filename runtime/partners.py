"""A partner organisation's own record: its name, its brand (product name, logo, colours, support contact)
shown on every page and in exported templates, and its rate limits over the installation's defaults.
Everything stored here was checked first: the brand reaches pages and templates as it is."""
from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any

from runtime import accounts
from runtime.identity_models import Partner
from runtime.readthrough import ReadThrough

if TYPE_CHECKING:
    from runtime.wiring import Runtime

DEFAULT_PRODUCT = "Crossdock"
MAX_PRODUCT_NAME = 60
MAX_NAME = 200
MAX_LOGO_BYTES = 200 * 1024  # the whole logo_url, a data: URL included: it goes out with every page
LOGO_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
COLOR = re.compile(r"#[0-9a-fA-F]{6}\Z")
EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+\Z")
URL = re.compile(r"https?://[^\s<>\"']+\Z")
DATA_URL = re.compile(r"data:(?P<type>[a-z+/.-]+);base64,(?P<data>[A-Za-z0-9+/=]*)\Z")
LIMITS = ("api_per_minute", "hooks_per_minute")
MAX_LIMIT = 1_000_000
# a partner's limits per process: every rate-limited request needs them; a save here is seen at once, one in
# another process within LIMITS_FRESH_S
LIMITS_FRESH_S = 5.0
_limits = ReadThrough(LIMITS_FRESH_S)


class InvalidPartner(ValueError):
    """Input the API answers with 400: `field` names what is wrong, e.g. "branding.colors.primary"."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def get(rt: Runtime, partner_id: str) -> Partner | None:
    with rt.sessions() as s:
        return s.get(Partner, partner_id)


def describe(partner: Partner) -> dict:
    return {"id": partner.id, "name": partner.name, "branding": partner.branding or {},
            "limits": partner.limits or {}}


def update(rt: Runtime, partner_id: str, changes: Any) -> dict:
    """Apply {"name"?, "branding"?, "limits"?}: a given branding or limits replaces the stored one whole."""
    if not isinstance(changes, dict):
        raise InvalidPartner("", "the body is a JSON object")
    unknown = sorted(set(changes) - {"name", "branding", "limits"})
    if unknown:
        raise InvalidPartner(unknown[0], f"a partner has no field {unknown[0]!r}")
    values = {}
    if "name" in changes:
        values["name"] = _text(changes["name"], "name", MAX_NAME)
    if "branding" in changes:
        values["branding"] = check_branding(changes["branding"])
    if "limits" in changes:
        values["limits"] = check_limits(changes["limits"])
    with rt.sessions.begin() as s:
        partner = s.get(Partner, partner_id)
        if partner is None:
            raise LookupError(partner_id)
        for key, value in values.items():
            setattr(partner, key, value)
    accounts.forget()
    _limits.forget()
    return describe(get(rt, partner_id))


def limits_of(rt: Runtime, partner_id: str) -> dict:
    """The partner's own limits ({} for none, or an unknown partner), read through the per-process cache."""
    def load() -> dict:
        partner = get(rt, partner_id)
        return dict(partner.limits or {}) if partner is not None else {}

    return dict(_limits.get((str(rt.engine.url), rt.settings.database_schema, partner_id), load))


def check_branding(branding: Any) -> dict | None:
    """The branding as stored: only the fields given, each checked; None or {} is the default brand."""
    if branding is None:
        return None
    if not isinstance(branding, dict):
        raise InvalidPartner("branding", "branding is an object")
    _only(branding, ("product_name", "logo_url", "colors", "support"), "branding")
    out: dict = {}
    if branding.get("product_name") is not None:
        out["product_name"] = _text(branding["product_name"], "branding.product_name", MAX_PRODUCT_NAME)
    if branding.get("logo_url") is not None:
        out["logo_url"] = _logo(branding["logo_url"])
    colors = _object(branding.get("colors"), "branding.colors", ("primary", "accent"))
    for key, value in colors.items():
        if value is not None and (not isinstance(value, str) or not COLOR.match(value)):
            raise InvalidPartner(f"branding.colors.{key}", "a colour is #rrggbb")
    if any(v is not None for v in colors.values()):
        out["colors"] = {k: v.lower() for k, v in colors.items() if v is not None}
    support = _object(branding.get("support"), "branding.support", ("email", "url"))
    if support.get("email") is not None and (not isinstance(support["email"], str) or len(support["email"]) > 254
                                             or not EMAIL.match(support["email"])):
        raise InvalidPartner("branding.support.email", "an email address, e.g. help@partner.example")
    if support.get("url") is not None and (not isinstance(support["url"], str) or len(support["url"]) > 2000
                                           or not URL.match(support["url"])):
        raise InvalidPartner("branding.support.url", "an http(s) URL of at most 2,000 characters")
    if any(v is not None for v in support.values()):
        out["support"] = {k: v for k, v in support.items() if v is not None}
    return out or None


def check_limits(limits: Any) -> dict | None:
    """{"api_per_minute", "hooks_per_minute"}: whole numbers from 1; a missing one takes the default."""
    if limits is None:
        return None
    if not isinstance(limits, dict):
        raise InvalidPartner("limits", "limits is an object")
    _only(limits, LIMITS, "limits")
    out = {}
    for key, value in limits.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
            raise InvalidPartner(f"limits.{key}", f"{key} is a whole number from 1 to {MAX_LIMIT:,}")
        out[key] = value
    return out or None


def branding_for(rt: Runtime, partner_id: str | None) -> dict:
    """The brand a page shows: the partner's choices over Crossdock's own (unknown partner: Crossdock's)."""
    partner = get(rt, partner_id) if isinstance(partner_id, str) else None
    return brand_of(partner.branding if partner is not None else None)


def brand_of(branding: dict | None) -> dict:
    b = branding or {}
    colors, support = b.get("colors") or {}, b.get("support") or {}
    product = b.get("product_name") or DEFAULT_PRODUCT
    return {"product_name": product, "logo_url": b.get("logo_url"),
            "colors": {"primary": colors.get("primary"), "accent": colors.get("accent")},
            "support": {"email": support.get("email"), "url": support.get("url")},
            "white_label": product != DEFAULT_PRODUCT}


def _logo(value: Any) -> str:
    if not isinstance(value, str) or len(value.encode("utf-8")) > MAX_LOGO_BYTES:
        raise InvalidPartner("branding.logo_url", f"a logo is an https or data: URL of at most {MAX_LOGO_BYTES // 1024} KB")
    if value.startswith("https://"):
        if not URL.match(value):
            raise InvalidPartner("branding.logo_url", "an https URL without spaces or quotes")
        return value
    m = DATA_URL.match(value)
    if m is None or m.group("type") not in LOGO_TYPES:
        raise InvalidPartner("branding.logo_url", f"a logo is an https URL or a base64 data: URL of {', '.join(LOGO_TYPES)}")
    try:
        base64.b64decode(m.group("data"), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPartner("branding.logo_url", "the data: URL's base64 does not decode") from None
    return value


def _text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit or any(
            ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidPartner(field, f"{field} is 1-{limit} characters of text on one line")
    return value.strip()


def _object(value: Any, field: str, keys: tuple[str, ...]) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidPartner(field, f"{field} is an object of {', '.join(keys)}")
    _only(value, keys, field)
    return value


def _only(value: dict, keys: tuple[str, ...], field: str) -> None:
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise InvalidPartner(f"{field}.{unknown[0]}", f"{field} has no field {unknown[0]!r}")
