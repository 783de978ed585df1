"""The names the file stores (nodes/file_stores.py, nodes/sftp_store.py) share: the connection systems, a listed
file (Entry), relative names checked against '..', glob matching that skips files being written, and free names."""
from __future__ import annotations

import fnmatch
import secrets
from dataclasses import dataclass
from typing import Callable

from nodes.base import TECHNICAL, NodeError

SYSTEMS = ("folder", "sftp")
MAX_LISTED = 10_000  # directory entries looked at per listing
TEMP_PREFIX = ".crossdock-"  # files being written: never listed, never picked up


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    mtime: float


def relative(path: str, field: str) -> str:
    """A sub-folder or file name as config or a template gives it: relative, '/'-separated, no '..'; '' for the
    base itself. A NodeError naming `field` otherwise."""
    path = (path or "").strip()
    if "\x00" in path or "\\" in path:
        raise NodeError("path_denied", f"{field}: {path!r} holds a NUL or a backslash", field=field)
    if path.startswith("/"):
        raise NodeError("path_denied", f"{field}: {path!r} is absolute; give it relative to the connection's folder",
                        field=field)
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise NodeError("path_denied", f"{field}: {path!r} leaves the connection's folder ('..')", field=field)
    return "/".join(parts)


def matches(name: str, patterns: tuple[str, ...]) -> bool:
    return not name.startswith(TEMP_PREFIX) and any(fnmatch.fnmatchcase(name, p) for p in patterns)


def free_name(name: str, taken: Callable[[str], bool]) -> str:
    """`name`, or name with a suffix when a file of that name is there already (an archive keeps every file)."""
    leaf = name.rpartition("/")[2]
    if not taken(leaf):
        return leaf
    stem, dot, ext = leaf.rpartition(".") if "." in leaf.lstrip(".") else (leaf, "", "")
    for _ in range(100):
        candidate = f"{stem}.{secrets.token_hex(4)}{dot}{ext}"
        if not taken(candidate):
            return candidate
    raise NodeError("file_error", f"no free name for {leaf}", error_class=TECHNICAL)
