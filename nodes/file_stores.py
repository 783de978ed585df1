"""Where the file nodes (event.file, connector.file) read and write: a local folder of the operator's list
(CROSSDOCK_FILE_DIRS) or an SFTP server (nodes/sftp_store.py), each a `Store` opened from its connection."""
from __future__ import annotations

import os
import secrets
import stat
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from nodes.base import TECHNICAL, NodeError
from nodes.file_paths import MAX_LISTED, TEMP_PREFIX, Entry, free_name, matches, relative
from nodes.http_client import Egress
from nodes.sftp_store import SftpStore


class FolderStore:
    """A local folder inside one of the operator's `roots`. `listed_all`: the last listing saw every entry (a folder
    of more than MAX_LISTED entries is listed in part). Names and sub-folders are relative, without `..`, and every
    path is resolved (symlinks included) and checked inside one of the roots before it is used."""

    listed_all = True

    def __init__(self, base: str, roots: tuple[str, ...]):
        self._roots = tuple(os.path.realpath(r) for r in roots)
        if not self._roots:
            raise NodeError("path_denied", "no local folder may be used: the operator lists none "
                            "(CROSSDOCK_FILE_DIRS)", field="connection")
        self._base = self._inside(base, "connection")

    def _inside(self, path: str, field: str) -> str:
        real = os.path.realpath(path)
        if not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self._roots):
            raise NodeError("path_denied", f"{field}: {path} is outside the folders files may be in "
                            "(CROSSDOCK_FILE_DIRS)", field=field)
        return real

    def _folder(self, folder: str, create: bool = False) -> str:
        path = os.path.join(self._base, *relative(folder, "folder").split("/")) if folder else self._base
        if create:
            try:
                os.makedirs(path, exist_ok=True)
            except OSError as err:
                raise _io_error(err, folder) from None
        return self._inside(path, "folder")  # a symlinked sub-folder must not lead out

    def list(self, folder: str, patterns: tuple[str, ...]) -> list[Entry]:
        path = self._folder(folder)
        found = []
        self.listed_all = True
        try:
            with os.scandir(path) as it:
                for i, entry in enumerate(it):
                    if i >= MAX_LISTED:
                        self.listed_all = False
                        break
                    if not matches(entry.name, patterns) or entry.is_symlink():
                        continue
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(st.st_mode):
                        found.append(Entry(entry.name, st.st_size, st.st_mtime))
        except OSError as err:
            raise _io_error(err, folder) from None
        return sorted(found, key=lambda e: (e.mtime, e.name))

    def read(self, folder: str, name: str, max_bytes: int) -> bytes:
        path = os.path.join(self._folder(folder), relative(name, "name"))
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as f:
                data = f.read(max_bytes + 1)
        except OSError as err:
            raise _io_error(err, name) from None
        if len(data) > max_bytes:
            raise NodeError("file_too_large", f"{name} is larger than {max_bytes} bytes (max_bytes)", field="max_bytes")
        return data

    def write(self, folder: str, name: str, data: bytes) -> str:
        name = relative(name, "name")
        sub, _, leaf = name.rpartition("/")
        target_dir = self._folder("/".join(p for p in (relative(folder, "folder"), sub) if p), create=True)
        temp = os.path.join(target_dir, f"{TEMP_PREFIX}{secrets.token_hex(8)}")
        try:
            with open(temp, "xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, os.path.join(target_dir, leaf))  # atomic: a reader sees the old file or the new one
        except OSError as err:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise _io_error(err, name) from None
        return "/".join(p for p in (relative(folder, "folder"), name) if p)

    def move(self, folder: str, name: str, to_folder: str) -> str:
        source = os.path.join(self._folder(folder), relative(name, "name"))
        target_dir = self._folder(to_folder, create=True)
        target = os.path.join(target_dir, free_name(name, lambda n: os.path.lexists(os.path.join(target_dir, n))))
        try:
            os.rename(source, target)
        except OSError as err:
            raise _io_error(err, name) from None
        return os.path.relpath(target, self._base)

    def close(self) -> None:
        pass


# the same few operations: list by glob, read with a size bound, write atomically (a temporary name, then a
# rename), move into another folder
Store = FolderStore | SftpStore


@contextmanager
def opened(connection: Mapping[str, Any], *, roots: tuple[str, ...], egress: Egress | None,
           timeout_s: float) -> Iterator[Store]:
    """The store of a resolved `folder` or `sftp` connection (runtime/connections.py), closed after use."""
    system = connection.get("system")
    if system == "folder":
        store: Store = FolderStore(str(connection.get("base_url") or ""), roots)
    elif system == "sftp":
        store = SftpStore(connection, egress, timeout_s)
    else:
        raise NodeError("wrong_connection", f"connection {connection.get('name')!r} is of system {system!r}, not "
                        "folder or sftp", field="connection")
    try:
        yield store
    finally:
        store.close()


def _io_error(err: OSError, what: str) -> NodeError:
    missing = isinstance(err, (FileNotFoundError, NotADirectoryError))
    return NodeError("file_error", f"{what}: {err.strerror or err}", error_class=TECHNICAL, retryable=not missing)
