"""Secrets typed into nodes (connector.http credentials and credential headers, event.webhook's hmac_secret):
encrypted at rest in flow drafts and versions, shown to nobody, decrypted only when a plan is built.

Which fields are secret is said by each node's SPEC, in its config schema (flows/spec.py): a field whose
metadata has `"format": "secret"` (the inspector shows a password input) or `"secret": True`; a Dict field with
`"secret": flows.spec.SECRET_BY_NAME` holds secrets under each key that looks like a credential (headers).

Stored form: "secret:v1:" + a Fernet token of runtime/connections.py's keyring, so the current key encrypts,
previous keys still decrypt, and `rotate` re-encrypts. Every API, version and export shows MASK ("********")
instead; a save that sends MASK keeps the stored value (`conceal`); exports and kept templates drop secrets.
A value from before encryption (plain text in an older row) still runs and is encrypted by `rotate`.
"""
from __future__ import annotations

import copy
from typing import Any, Iterator

from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy import select

from flows.graph import spec_for
from flows.spec import MASK, secret_paths, secret_values
from nodes import catalog
from runtime.connections import keyring
from runtime.models import Flow, FlowVersion

PREFIX = "secret:v1:"
BATCH = 100  # rows re-encrypted per transaction by `rotate`


class SecretError(ValueError):
    """A stored secret that no current or previous key decrypts."""


def conceal(settings, doc: dict, stored: dict | None = None) -> tuple[dict, bool]:
    """`doc` as it may be stored (changed in place): each secret value encrypted; MASK replaced by the value
    `stored` (the document saved before) holds at the same place of the same node, or left out when there is
    none; and whether any was left out (the document's problems may differ then)."""
    box, old, left_out = keyring(settings), _nodes(stored), False
    for node, path in list(_secrets(doc)):
        value = _get(node["config"], path)
        if value == MASK:
            before = old.get(node.get("id"))
            kept = _get(before["config"], path) if before and before.get("type") == node.get("type") else None
            if kept in (None, "", MASK):
                _drop(node["config"], path)
                left_out = True
                continue
            value = kept if _sealed(kept) else _seal(box, kept)
        elif isinstance(value, str):
            value = _seal(box, value)  # never trusted as ciphertext: what a client sends is plain text
        _set(node["config"], path, value)
    return doc, left_out


def sends_masked(doc: Any) -> bool:
    """Whether `doc` gives some secret back as MASK, so that `conceal` needs the stored document."""
    return any(_get(node["config"], path) == MASK for node, path in _secrets(doc))


def masked(doc: Any) -> Any:
    """A copy of `doc` with every secret value shown as MASK (the nodes without secrets are shared)."""
    return _replaced(doc, lambda config, path: _set(config, path, MASK))


def dropped(doc: Any) -> Any:
    """A copy of `doc` without its secret values (exports, templates)."""
    return _replaced(doc, _drop)


def revealed_config(settings, spec, config: Any) -> Any:
    """A node's config with its secrets decrypted, for the plan (a copy when it has any)."""
    paths = list(secret_values(spec, config)) if isinstance(config, dict) else []
    if not paths:
        return config
    box, config = keyring(settings), copy.deepcopy(config)
    for path in paths:
        _set(config, path, _open(box, _get(config, path)))
    return config


def reveal(settings, value: Any) -> Any:
    """One stored secret value in plain text (e.g. a webhook's hmac_secret read from its version)."""
    return _open(keyring(settings), value)


def rotate(rt, workspace: str | None = None) -> int:
    """Re-encrypt every inline secret of every draft and version (of one workspace, when given) with the
    current key, and encrypt those stored before encryption; the count of documents rewritten. run.py
    rotate-secrets calls it."""
    box, changed = keyring(rt.settings), 0
    for model, key in ((Flow, (Flow.workspace, Flow.id)),
                       (FlowVersion, (FlowVersion.workspace, FlowVersion.flow_id, FlowVersion.version))):
        with rt.sessions() as s:
            ids = s.execute(select(*key).where(*(() if workspace is None else (model.workspace == workspace,)))).all()
        for start in range(0, len(ids), BATCH):
            with rt.sessions.begin() as s:
                for ident in ids[start:start + BATCH]:
                    row = s.get(model, tuple(ident))
                    doc = _rotated(box, row.document) if row is not None else None
                    if doc is not None:
                        row.document = doc  # a new object: the JSON column sees the change
                        changed += 1
    return changed


def _rotated(box: MultiFernet, doc: Any) -> dict | None:
    found = list(_secrets(doc))
    if not found:
        return None
    doc = copy.deepcopy(doc)
    for node, path in _secrets(doc):
        value = _get(node["config"], path)
        if _sealed(value):
            try:
                value = PREFIX + box.rotate(value[len(PREFIX):].encode()).decode()
            except InvalidToken:
                raise SecretError(f"a secret of flow {doc.get('id')!r} was encrypted with a key that is neither "
                                  "the current nor a previous one") from None
        elif isinstance(value, str):
            value = _seal(box, value)
        _set(node["config"], path, value)
    return doc


def _secrets(doc: Any) -> Iterator[tuple[dict, tuple]]:
    """(node, path in its config) of every secret value of a document."""
    nodes = doc.get("nodes") if isinstance(doc, dict) else None
    specs = catalog.specs()
    types = _types_with_secrets(specs)
    for node in nodes if isinstance(nodes, list) else []:
        # most nodes have no secret field: their type says so without a look at their config
        if not isinstance(node, dict) or node.get("type") not in types or not isinstance(node.get("config"), dict):
            continue
        spec = spec_for(specs, node.get("type"), node.get("type_version", 1))
        if spec is not None:
            for path in list(secret_values(spec, node["config"])):
                yield node, path


_TYPES: dict[int, frozenset[str]] = {}


def _types_with_secrets(specs: dict) -> frozenset[str]:
    key = hash(tuple(specs))  # the catalog is fixed for the process; tests may register types
    if key not in _TYPES:
        _TYPES[key] = frozenset(spec.type for spec in specs.values() if secret_paths(spec.config))
    return _TYPES[key]


def _replaced(doc: Any, change) -> Any:
    found = list(_secrets(doc))
    if not found:
        return doc
    copies = {id(node): copy.deepcopy(node) for node, _ in found}
    for node, path in found:
        change(copies[id(node)]["config"], path)
    return {**doc, "nodes": [copies.get(id(n), n) for n in doc["nodes"]]}


def _nodes(doc: Any) -> dict[Any, dict]:
    nodes = doc.get("nodes") if isinstance(doc, dict) else None
    return {n.get("id"): n for n in nodes if isinstance(n, dict) and isinstance(n.get("config"), dict)} \
        if isinstance(nodes, list) else {}


def _sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _seal(box: MultiFernet, value: str) -> str:
    return PREFIX + box.encrypt(value.encode("utf-8")).decode("ascii")


def _open(box: MultiFernet, value: Any) -> Any:
    if not _sealed(value):
        return value  # stored before encryption; `rotate` encrypts it
    try:
        return box.decrypt(value[len(PREFIX):].encode()).decode("utf-8")
    except InvalidToken:
        raise SecretError("a secret of this flow was encrypted with another secret key: list it in "
                          "CROSSDOCK_SECRET_KEY_PREVIOUS, or enter the secret again") from None


def _get(config: Any, path: tuple) -> Any:
    for step in path:
        try:
            config = config[step]
        except (KeyError, IndexError, TypeError):
            return None
    return config


def _set(config: Any, path: tuple, value: Any) -> None:
    _get(config, path[:-1])[path[-1]] = value


def _drop(config: Any, path: tuple) -> None:
    parent = _get(config, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = ""
