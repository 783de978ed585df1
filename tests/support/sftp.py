"""A real SFTP server for the tests (asyncssh's), on 127.0.0.1 and a free port, rooted in a folder of the test's:
password and public-key logins, its own host key (the tests pin it), and a count of the sessions it accepted."""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

import asyncssh

USER, PASSWORD = "edi", "sftp-test-pw-7301"


@dataclass
class SftpServer:
    root: str
    port: int = 0
    host_key: asyncssh.SSHKey | None = None
    client_key: asyncssh.SSHKey | None = None
    logins: list = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _server: object = None

    @property
    def host_key_line(self) -> str:
        return self.host_key.export_public_key("openssh").decode().strip()

    @property
    def fingerprint(self) -> str:
        return self.host_key.get_fingerprint("sha256")

    @property
    def private_key(self) -> str:
        return self.client_key.export_private_key("openssh").decode()

    def connection(self, folder: str = "", **auth) -> dict:
        """The body of PUT /api/v1/connections/<name> for this server (password login, host key pinned)."""
        return {"system": "sftp", "base_url": f"sftp://127.0.0.1:{self.port}/{folder}".rstrip("/"),
                "auth": {"username": USER, "password": PASSWORD, "host_key": self.host_key_line, **auth}}

    def start(self) -> "SftpServer":
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        server = self

        class Auth(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                ok = username == USER and password == PASSWORD
                server.logins.append((username, "password", ok))
                return ok

            def public_key_auth_supported(self) -> bool:
                return True

            def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
                ok = username == USER and key.export_public_key() == server.client_key.export_public_key()
                server.logins.append((username, "key", ok))
                return ok

        async def listen() -> None:
            self._server = await asyncssh.listen(
                "127.0.0.1", 0, server_factory=Auth, server_host_keys=[self.host_key],
                sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=self.root.encode()),
                allow_scp=False, config=None)
            self.port = self._server.sockets[0].getsockname()[1]

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(listen())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="test-sftp-server", daemon=True)
        self._thread.start()
        assert ready.wait(10), "the test SFTP server did not start"
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        async def close() -> None:
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
