"""connector.file: records written through a format to an operator's folder or to a real SFTP server (asyncssh, on
127.0.0.1), atomically under a templated name; the folder never left, the server's host key pinned, its address under
the egress policy."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import asyncssh
import pytest

from nodes import catalog, connector_file
from nodes.base import NodeError
from nodes.http_client import Egress
from support.sftp import SftpServer

from .conftest import LOCAL, FakeContext


@dataclass
class Env:
    params: dict = field(default_factory=dict)
    egress: object = lambda: LOCAL


@dataclass
class FileContext(FakeContext):
    connections: dict = field(default_factory=dict)
    file_dirs: tuple = ()

    def connection(self, name: str) -> dict:
        return self.connections[name]


@pytest.fixture
def sftp(tmp_path):
    root = tmp_path / "sftp"
    root.mkdir()
    server = SftpServer(str(root)).start()
    yield server
    server.stop()


def prepared(egress=lambda: LOCAL, **config):
    module = catalog.TYPES["connector.file"]
    loaded = catalog.load_config(module.SPEC, {"connection": "drop", **config})
    return connector_file.prepare(loaded, Env(egress=egress))


def write(p, message, ctx) -> dict:
    return dict(connector_file.run(p, message, ctx))["out"]


def folder_ctx(tmp_path, **kw) -> FileContext:
    (tmp_path / "files" / "drop").mkdir(parents=True, exist_ok=True)
    return FileContext(connections={"drop": {"name": "drop", "system": "folder",
                                             "base_url": str(tmp_path / "files" / "drop")}},
                       file_dirs=(str(tmp_path / "files"),), **kw)


def sftp_ctx(server: SftpServer, **auth) -> FileContext:
    conn = server.connection("outbound", **auth)
    return FileContext(connections={"drop": {"name": "drop", **conn, "auth": {"type": "basic", **conn["auth"]}}})


def test_records_become_a_csv_file_in_the_folder_under_a_templated_name(tmp_path):
    ctx = folder_ctx(tmp_path, params={"site": "dc1"})
    p = prepared(name="{{site}}/PO-{{$.number}}.csv", records="lines", format={"columns": ["sku", "qty"]})
    out = write(p, {"number": "4711", "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 5}]}, ctx)
    assert out == {"path": "dc1/PO-4711.csv", "bytes": 19, "records": 2, "connection": "drop"}
    target = tmp_path / "files" / "drop" / "dc1" / "PO-4711.csv"
    assert target.read_bytes() == b"sku,qty\r\nA,2\r\nB,5\r\n"
    assert os.listdir(target.parent) == ["PO-4711.csv"]  # the temporary file was renamed, none left
    # a retry (or the same message again) replaces the file: one file, not two
    write(p, {"number": "4711", "lines": [{"sku": "A", "qty": 3}]}, ctx)
    assert os.listdir(target.parent) == ["PO-4711.csv"] and target.read_bytes() == b"sku,qty\r\nA,3\r\n"


def test_unique_names_carry_the_idempotency_key(tmp_path):
    ctx = folder_ctx(tmp_path)
    p = prepared(name="orders.jsonl", unique=True, format={"kind": "jsonl"})
    out = write(p, [{"a": 1}], ctx)
    assert out["path"] == f"orders-{ctx.idempotency_key()[:16]}.jsonl"
    assert (tmp_path / "files" / "drop" / out["path"]).read_text() == '{"a": 1}\n'


def test_the_folder_is_never_left(tmp_path):
    ctx = folder_ctx(tmp_path)
    with pytest.raises(NodeError) as err:
        write(prepared(name="../{{$.n}}.csv"), {"n": "x"}, ctx)
    assert err.value.code == "path_denied" and err.value.field == "name"
    with pytest.raises(NodeError) as err:
        write(prepared(name="{{$.n}}.csv"), {"n": "../../etc/passwd"}, ctx)  # a value from the message
    assert err.value.code == "path_denied"
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "files" / "drop" / "link")
    with pytest.raises(NodeError) as err:
        write(prepared(name="link/x.csv"), {}, ctx)  # a symlink inside that leads out
    assert err.value.code == "path_denied"
    assert os.listdir(tmp_path / "outside") == []
    ctx.connections["drop"]["base_url"] = str(tmp_path / "outside")  # a connection outside the operator's folders
    with pytest.raises(NodeError) as err:
        write(prepared(name="x.csv"), {}, ctx)
    assert err.value.code == "path_denied" and "CROSSDOCK_FILE_DIRS" in err.value.message
    ctx.file_dirs = ()
    with pytest.raises(NodeError, match="lists none"):
        write(prepared(name="x.csv"), {}, ctx)


def test_a_format_error_or_an_oversized_file_names_the_field(tmp_path):
    ctx = folder_ctx(tmp_path)
    with pytest.raises(NodeError) as err:
        write(prepared(name="x.csv"), [{"a": 1}, "text"], ctx)
    assert (err.value.code, err.value.field) == ("format_error", "format")
    with pytest.raises(NodeError) as err:
        write(prepared(name="x.csv", max_bytes=10), [{"a": "0123456789"}], ctx)
    assert (err.value.code, err.value.field) == ("file_too_large", "max_bytes")
    with pytest.raises(NodeError) as err:
        write(prepared(name="{{$.missing}}.csv"), {}, ctx)
    assert (err.value.code, err.value.field) == ("template_error", "name")
    assert os.listdir(tmp_path / "files" / "drop") == []


def test_x12_from_edi_write_is_written_to_sftp_atomically(sftp):
    ctx = sftp_ctx(sftp)
    text = "ISA*00*          *00*~IEA*1*000000001~"
    out = write(prepared(name="850-{{$.control_number}}.x12", format={"kind": "x12"}),
                {"x12": text, "partner": "acme", "control_number": 17}, ctx)
    assert out["path"] == "850-17.x12"
    assert (os.listdir(os.path.join(sftp.root, "outbound"))) == ["850-17.x12"]
    with open(os.path.join(sftp.root, "outbound", "850-17.x12")) as f:
        assert f.read() == text


def test_sftp_with_a_private_key_and_a_fingerprint_pin(sftp):
    ctx = sftp_ctx(sftp, password=None, key=sftp.private_key, host_key=sftp.fingerprint)
    write(prepared(name="a.jsonl", format={"kind": "jsonl"}), {"a": 1}, ctx)
    assert os.listdir(os.path.join(sftp.root, "outbound")) == ["a.jsonl"]
    assert ("edi", "key", True) in sftp.logins and not any(kind == "password" for _, kind, _ in sftp.logins)


def test_an_unknown_host_key_is_refused_before_any_credential_is_sent(sftp):
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode()
    for pin in (other, "SHA256:" + "A" * 43):
        with pytest.raises(NodeError) as err:
            write(prepared(name="a.csv"), {"a": 1}, sftp_ctx(sftp, host_key=pin))
        assert err.value.code == "host_key_mismatch" and not err.value.retryable
    assert sftp.logins == []  # no password was offered to a server it did not recognise
    with pytest.raises(NodeError) as err:
        write(prepared(name="a.csv"), {"a": 1}, sftp_ctx(sftp, host_key=""))
    assert err.value.code == "host_key_missing"


def test_the_server_address_is_under_the_egress_policy_and_bad_credentials_fail(sftp):
    with pytest.raises(NodeError) as err:
        write(prepared(egress=lambda: Egress(), name="a.csv"), {"a": 1}, sftp_ctx(sftp))
    assert err.value.code == "egress_denied" and "loopback" in err.value.message
    assert sftp.logins == []
    with pytest.raises(NodeError) as err:
        write(prepared(name="a.csv"), {"a": 1}, sftp_ctx(sftp, password="wrong"))
    assert err.value.code == "auth_failed"
    assert not os.path.exists(os.path.join(sftp.root, "outbound"))


def test_a_server_that_does_not_answer_is_a_retryable_failure():
    conn = {"name": "drop", "system": "sftp", "base_url": "sftp://127.0.0.1:9/",  # discard port: nothing listens
            "auth": {"type": "basic", "username": "u", "password": "p", "host_key": "SHA256:" + "A" * 43}}
    with pytest.raises(NodeError) as err:
        write(prepared(name="a.csv", timeout_s=2), {"a": 1}, FileContext(connections={"drop": conn}))
    assert err.value.code in ("connection_failed", "timeout") and err.value.retryable


def test_an_sftp_folder_below_the_login_folder(sftp):
    ctx = sftp_ctx(sftp)
    ctx.connections["drop"]["base_url"] = f"sftp://127.0.0.1:{sftp.port}/~/home-out"  # the test server logs in at /
    assert write(prepared(name="a.jsonl", format={"kind": "jsonl"}), {"a": 1}, ctx)["path"] == "a.jsonl"
    assert os.listdir(os.path.join(sftp.root, "home-out")) == ["a.jsonl"]
