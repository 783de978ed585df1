"""The SFTP store of the file nodes (asyncssh): a session that accepts only the host key its connection pins, opened
to an address the workspace's egress policy allows; and the checks of an sftp connection as it is saved."""
from __future__ import annotations

import asyncio
import posixpath
import secrets
import socket
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit

import asyncssh

from nodes import turns
from nodes.base import TECHNICAL, NodeError
from nodes.file_paths import MAX_LISTED, TEMP_PREFIX, Entry, free_name, matches, relative
from nodes.http_client import Egress


def server_folder(path: str) -> str:
    """The folder of an sftp URL's path: absolute on the server (sftp://host/data/in is /data/in), below the login
    folder with ~ (sftp://host/~/in is in), the login folder itself when there is none (''), as curl reads them."""
    path = unquote(path or "")
    if path in ("", "/", "/~", "/~/"):
        return ""
    if path.startswith("/~/"):
        return posixpath.normpath(path[3:])
    return posixpath.normpath(path)


def check_sftp(base_url: str, auth: Mapping[str, Any]) -> tuple[str, str] | None:
    """(field, message) of what is wrong with an sftp connection as it is saved; None when it is fine."""
    try:
        url = urlsplit(base_url)
        port = url.port
    except ValueError as err:
        return "base_url", f"not an sftp URL ({err})"
    if url.scheme != "sftp" or not url.hostname or url.query or url.fragment:
        return "base_url", "base_url is sftp://host[:port][/folder]"
    if url.username or url.password:
        return "base_url", "give the user and password in auth, not in the URL"
    if port == 0:
        return "base_url", "the port is 1-65535"
    if ".." in unquote(url.path).split("/"):
        return "base_url", "the folder must not contain '..'"
    if not str(auth.get("username") or "").strip():
        return "auth.username", "an sftp connection needs a username"
    pinned = str(auth.get("host_key") or "").strip()
    if not pinned:
        return "auth.host_key", ("pin the server's host key: its public key line (ssh-keyscan) or its SHA256 "
                                 "fingerprint; an unknown key is refused")
    if pinned.startswith("SHA256:"):
        if not 40 <= len(pinned) <= 60:
            return "auth.host_key", "a SHA256 fingerprint is SHA256: and 43 base64 characters"
    elif not any(_public_key(" ".join(pinned.split()[i:i + 2])) for i in range(len(pinned.split()) - 1)):
        return "auth.host_key", "not an OpenSSH public key line (e.g. ssh-ed25519 AAAA...) or a SHA256 fingerprint"
    if auth.get("key"):
        try:
            asyncssh.import_private_key(str(auth["key"]), auth.get("passphrase") or None)
        except (asyncssh.KeyImportError, ValueError) as err:
            return "auth.key", f"the private key does not load ({err})"
    return None


def _public_key(text: str) -> bool:
    try:
        asyncssh.import_public_key(text)
        return True
    except (asyncssh.KeyImportError, ValueError):
        return False


class _PinnedClient(asyncssh.SSHClient):
    """Accepts the server only with the host key its connection pins."""

    def __init__(self, pinned: str):
        self._pinned = pinned

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        return host_key_matches(self._pinned, key)


def host_key_matches(pinned: str, key: asyncssh.SSHKey) -> bool:
    """`pinned` is a SHA256 fingerprint ("SHA256:...") or an OpenSSH public key line (optionally with the known_hosts
    host field first)."""
    pinned = pinned.strip()
    if pinned.startswith("SHA256:"):
        return secrets.compare_digest(pinned, key.get_fingerprint("sha256"))
    ours = key.export_public_key("openssh").decode().split()[:2]
    fields = pinned.split()
    for i in range(len(fields) - 1):
        if fields[i] == ours[0]:
            return secrets.compare_digest(fields[i + 1], ours[1])
    return False


class SftpStore:
    """One SFTP session, used from one thread: each operation runs on this store's own event loop, bounded by
    `timeout_s`. `listed_all` as FolderStore's. An unknown host key is refused before any credential is sent; the host
    is resolved once, each address is checked against the egress policy, and the session goes to a checked address."""

    listed_all = True

    def __init__(self, connection: Mapping[str, Any], egress: Egress | None, timeout_s: float):
        url = urlsplit(str(connection.get("base_url") or ""))
        auth = connection.get("auth") or {}
        self._timeout = timeout_s
        self._base = server_folder(url.path)
        self._where = f"sftp://{url.hostname}:{url.port or 22}"
        if url.scheme != "sftp" or not url.hostname:
            raise NodeError("invalid_connection", "an sftp connection's base_url is sftp://host[:port][/folder]",
                            field="connection")
        pinned = str(auth.get("host_key") or "").strip()
        if not pinned:
            raise NodeError("host_key_missing", f"{self._where}: the connection pins no host key (auth.host_key): "
                            "paste the server's public key or its SHA256 fingerprint", field="connection")
        address = _checked_address(url.hostname, url.port or 22, egress)
        self._loop = asyncio.new_event_loop()
        self._conn = self._sftp = None
        try:
            self._conn, self._sftp = self._run(self._open(address, url.port or 22, auth, pinned), "connect")
        except BaseException:
            self.close()
            raise

    async def _open(self, address: str, port: int, auth: Mapping[str, Any], pinned: str):
        keys = None
        if auth.get("key"):
            try:
                keys = [asyncssh.import_private_key(str(auth["key"]), auth.get("passphrase") or None)]
            except (asyncssh.KeyImportError, ValueError) as err:
                raise NodeError("invalid_connection", f"the connection's private key does not load ({err})",
                                field="connection") from None
        conn, _ = await asyncssh.create_connection(
            lambda: _PinnedClient(pinned), address, port, username=str(auth.get("username") or ""),
            password=str(auth["password"]) if auth.get("password") else None, client_keys=keys,
            known_hosts=([], [], []), config=None, agent_path=None, agent_forwarding=False,
            gss_auth=False, gss_kex=False, connect_timeout=self._timeout)
        try:
            return conn, await conn.start_sftp_client()
        except BaseException:
            conn.abort()
            raise

    def _run(self, coro, what: str):
        try:
            with turns.waiting():  # on the SFTP server: another run computes meanwhile (nodes/turns.py)
                return self._loop.run_until_complete(asyncio.wait_for(coro, self._timeout))
        except NodeError:
            raise
        except (asyncio.TimeoutError, TimeoutError):
            raise NodeError("timeout", f"{self._where}: {what} took longer than {self._timeout} s",
                            error_class=TECHNICAL, retryable=True) from None
        except asyncssh.HostKeyNotVerifiable:
            raise NodeError("host_key_mismatch", f"{self._where}: the server's host key is not the one the "
                            "connection pins (auth.host_key)", field="connection") from None
        except asyncssh.PermissionDenied:
            raise NodeError("auth_failed", f"{self._where}: the server refused the connection's credentials",
                            field="connection") from None
        except asyncssh.SFTPError as err:
            raise NodeError("file_error", f"{self._where}: {what}: {err.reason}", error_class=TECHNICAL,
                            retryable=not isinstance(err, (asyncssh.SFTPNoSuchFile, asyncssh.SFTPPermissionDenied)),
                            ) from None
        except (OSError, asyncssh.Error) as err:
            raise NodeError("connection_failed", f"{self._where}: {what}: {err}", error_class=TECHNICAL,
                            retryable=True) from None

    def _path(self, *parts: str) -> str:
        rel = "/".join(p for p in parts if p)
        return posixpath.join(self._base, rel) if self._base else (rel or ".")

    def list(self, folder: str, patterns: tuple[str, ...]) -> list[Entry]:
        path = self._path(relative(folder, "folder"))

        async def scan() -> list[Entry]:
            found = []
            i = 0
            self.listed_all = True
            async for item in self._sftp.scandir(path):
                i += 1
                if i > MAX_LISTED:
                    self.listed_all = False
                    break
                a = item.attrs
                if matches(item.filename, patterns) and a.type == asyncssh.FILEXFER_TYPE_REGULAR:
                    found.append(Entry(item.filename, int(a.size or 0), float(a.mtime or 0)))
            return found

        return sorted(self._run(scan(), f"list {folder or '/'}"), key=lambda e: (e.mtime, e.name))

    def read(self, folder: str, name: str, max_bytes: int) -> bytes:
        path = self._path(relative(folder, "folder"), relative(name, "name"))

        async def get() -> bytes:
            async with self._sftp.open(path, "rb") as f:
                return await f.read(max_bytes + 1)

        data = self._run(get(), f"read {name}")
        if len(data) > max_bytes:
            raise NodeError("file_too_large", f"{name} is larger than {max_bytes} bytes (max_bytes)", field="max_bytes")
        return data

    def write(self, folder: str, name: str, data: bytes) -> str:
        name = relative(name, "name")
        sub, _, leaf = name.rpartition("/")
        directory = self._path(relative(folder, "folder"), sub)
        temp = posixpath.join(directory, f"{TEMP_PREFIX}{secrets.token_hex(8)}")
        target = posixpath.join(directory, leaf)

        async def put() -> None:
            await self._sftp.makedirs(directory, exist_ok=True)
            async with self._sftp.open(temp, "wb") as f:
                await f.write(data)
            try:
                await self._sftp.posix_rename(temp, target)  # atomic, and replaces a file written before
            except asyncssh.SFTPOpUnsupported:
                if await self._sftp.exists(target):
                    await self._sftp.remove(target)
                await self._sftp.rename(temp, target)
            except BaseException:
                try:
                    await self._sftp.remove(temp)
                except asyncssh.Error:
                    pass
                raise

        self._run(put(), f"write {name}")
        return "/".join(p for p in (relative(folder, "folder"), name) if p)

    def move(self, folder: str, name: str, to_folder: str) -> str:
        source = self._path(relative(folder, "folder"), relative(name, "name"))
        directory = self._path(relative(to_folder, "folder"))

        async def rename() -> str:
            await self._sftp.makedirs(directory, exist_ok=True)
            taken = {n for n in await self._sftp.listdir(directory)}
            target = posixpath.join(directory, free_name(name, taken.__contains__))
            await self._sftp.rename(source, target)
            return target

        target = self._run(rename(), f"move {name}")
        return posixpath.relpath(target, self._base or ".")

    def close(self) -> None:
        try:
            if self._conn is not None:
                self._conn.close()
                self._loop.run_until_complete(asyncio.wait_for(self._conn.wait_closed(), 5))
        except Exception:  # noqa: BLE001 - closing a session that failed: nothing left to save
            pass
        finally:
            self._loop.close()


def _checked_address(host: str, port: int, egress: Egress | None) -> str:
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise NodeError("connection_failed", f"{host}: the name does not resolve ({err})", error_class=TECHNICAL,
                        retryable=True) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    reason = (egress or Egress()).denies(host, port, addresses)
    if reason:
        raise NodeError("egress_denied", reason, field="connection")
    return addresses[0]
