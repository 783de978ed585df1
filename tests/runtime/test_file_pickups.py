"""event.file in the runtime: the watch's lease, the settle time, the ledger that stores a file's runs in the
transaction marking it taken (so a restart neither loses nor repeats a file), the archive and error folders, and the rows a
deleted workspace takes with it. The clock is the test's: each listing is driven with its `now`; no run executes
(the runtime has no workers), the tests read the stored runs."""
from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import select

from nodes import file_stores
from nodes.base import NodeError
from runtime import connections, deployments, file_pickups, tenancy
from runtime.file_models import FilePickup, FileWatch
from runtime.models import Run
from runtime.wiring import Runtime
from support import identity, wait_for
from support.deploys import deploy

T0 = dt.datetime(2026, 11, 28, 6, 0)


def flow(**config) -> dict:
    return {"schema": "crossdock.flow/1", "id": "drop", "name": "drop",
            "nodes": [{"id": "pick", "type": "event.file",
                       "config": {"connection": "inbox", "folder": "in", "patterns": ["*.csv"], "settle_s": 10,
                                  "interval_s": 30, **config}},
                      {"id": "end", "type": "control.discard", "config": {"reason": "the test reads the runs"}}],
            "edges": [{"id": "e1", "source": "pick", "source_port": "out", "target": "end", "target_port": "in"}]}



@pytest.fixture
def drop(make_settings, workspace, partner, tmp_path):
    """A runtime allowed the folder tmp/files, a folder connection `inbox` on tmp/files/inbox, its `in` folder."""
    files = tmp_path / "files"
    (files / "inbox" / "in").mkdir(parents=True)
    rt = Runtime(make_settings(file_dirs=(str(files),)))
    identity.make_partner(rt, partner)
    rt.ensure_workspace(workspace, partner_id=partner)
    connections.save(rt, workspace, "inbox", {"system": "folder", "base_url": str(files / "inbox")})
    yield rt, files / "inbox"
    rt.close()


def put(folder, name: str, text: str, mtime: float | None = None) -> None:
    path = folder / "in" / name
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def listing(rt, workspace: str, now: dt.datetime, version: int = 1) -> list[int]:
    file_pickups.LEASES.ensure(rt, workspace, "drop", "pick", now)
    return file_pickups.pick(rt, workspace, "drop", version, "pick", now)


def inputs(rt, workspace: str) -> list:
    with rt.sessions() as s:
        return s.scalars(select(Run.input).where(Run.workspace == workspace, Run.trigger == "file")
                         .order_by(Run.id)).all()


def ledger(rt, workspace: str) -> list[FilePickup]:
    with rt.sessions() as s:
        return s.scalars(select(FilePickup).where(FilePickup.workspace == workspace).order_by(FilePickup.id)).all()


def watch(rt, workspace: str) -> FileWatch:
    with rt.sessions() as s:
        return s.get(FileWatch, (workspace, "drop", "pick"))


def test_a_file_is_taken_once_it_settled_then_archived(drop, workspace):
    rt, inbox = drop
    deploy(rt, workspace, flow())
    put(inbox, "a.csv", "sku,qty\nA,1\n", mtime=1_000)
    assert listing(rt, workspace, T0) == []  # first seen: it may still be being written
    assert [(r.name, r.status) for r in ledger(rt, workspace)] == [("a.csv", "settling")]
    put(inbox, "a.csv", "sku,qty\nA,1\nB,2\n", mtime=1_005)  # it grew: the settle time starts again
    assert listing(rt, workspace, T0 + dt.timedelta(seconds=11)) == []
    assert listing(rt, workspace, T0 + dt.timedelta(seconds=15)) == []
    started = listing(rt, workspace, T0 + dt.timedelta(seconds=22))
    assert len(started) == 2
    assert [i["record"] for i in inputs(rt, workspace)] == [{"sku": "A", "qty": "1"}, {"sku": "B", "qty": "2"}]
    assert inputs(rt, workspace)[0]["file"]["name"] == "a.csv" and inputs(rt, workspace)[1]["line"] == 3
    assert os.listdir(inbox / "in") == [] and os.listdir(inbox / "archive") == ["a.csv"]
    row, = ledger(rt, workspace)
    assert (row.status, row.runs, row.malformed, row.moved_to) == ("archived", 2, 0, "archive/a.csv")
    w = watch(rt, workspace)
    assert (w.files, w.holder, w.error) == (1, None, None)
    put(inbox, "a.csv", "sku,qty\nC,3\n", mtime=2_000)  # the same name dropped again: a new file
    listing(rt, workspace, T0 + dt.timedelta(seconds=60))
    assert len(listing(rt, workspace, T0 + dt.timedelta(seconds=120))) == 1
    archived = os.listdir(inbox / "archive")  # the first a.csv is kept; the second gets a name of its own
    assert "a.csv" in archived and len(archived) == 2


def test_runs_stored_but_the_move_failed_are_not_started_again(drop, workspace, monkeypatch):
    """A process that stored a file's runs and died (here: failed) before moving it: the next listing only moves it."""
    rt, inbox = drop
    deploy(rt, workspace, flow(settle_s=0))
    put(inbox, "a.csv", "sku\nA\nB\n")
    real = file_stores.FolderStore.move

    def broken(self, *args):
        raise NodeError("file_error", "the disk went away", retryable=True)

    monkeypatch.setattr(file_stores.FolderStore, "move", broken)
    assert listing(rt, workspace, T0) == []  # the listing failed after the runs were committed
    assert len(inputs(rt, workspace)) == 2 and ledger(rt, workspace)[0].status == "taken"
    assert watch(rt, workspace).error == "the disk went away" and os.listdir(inbox / "in") == ["a.csv"]
    monkeypatch.setattr(file_stores.FolderStore, "move", real)
    assert listing(rt, workspace, T0 + dt.timedelta(seconds=60)) == []
    assert len(inputs(rt, workspace)) == 2  # not repeated
    assert ledger(rt, workspace)[0].status == "archived" and os.listdir(inbox / "archive") == ["a.csv"]


def test_a_listing_that_died_before_its_runs_committed_leaves_the_file_to_the_next(drop, workspace, monkeypatch):
    rt, inbox = drop
    deploy(rt, workspace, flow(settle_s=0))
    put(inbox, "a.csv", "sku\nA\nB\n")
    real = file_pickups.runs.start_many

    def died(*args, **kwargs):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(file_pickups.runs, "start_many", died)
    assert listing(rt, workspace, T0) == []
    assert inputs(rt, workspace) == [] and ledger(rt, workspace)[0].status == "settling"
    assert os.listdir(inbox / "in") == ["a.csv"] and "database went away" in watch(rt, workspace).error
    monkeypatch.setattr(file_pickups.runs, "start_many", real)
    assert len(listing(rt, workspace, T0 + dt.timedelta(seconds=60))) == 2
    assert [i["record"]["sku"] for i in inputs(rt, workspace)] == ["A", "B"]  # each row once


def test_a_file_moved_by_a_listing_that_stopped_before_saying_so_is_closed_and_may_come_again(drop, workspace,
                                                                                              monkeypatch):
    rt, inbox = drop
    deploy(rt, workspace, flow(settle_s=0))
    put(inbox, "a.csv", "sku\nA\n", mtime=1_000)
    real = file_stores.FolderStore.move

    def moved_then_died(self, *args):
        real(self, *args)
        raise NodeError("file_error", "died after the move")

    monkeypatch.setattr(file_stores.FolderStore, "move", moved_then_died)
    listing(rt, workspace, T0)
    assert ledger(rt, workspace)[0].status == "taken" and os.listdir(inbox / "archive") == ["a.csv"]
    monkeypatch.setattr(file_stores.FolderStore, "move", real)
    assert listing(rt, workspace, T0 + dt.timedelta(seconds=60)) == []
    assert ledger(rt, workspace)[0].status == "archived"  # gone from the folder: done
    put(inbox, "a.csv", "sku\nA\n", mtime=1_000)  # the very same file dropped again: taken again, not skipped
    assert len(listing(rt, workspace, T0 + dt.timedelta(seconds=120))) == 1
    assert len(inputs(rt, workspace)) == 2


def test_a_listing_that_lost_its_lease_stores_nothing(drop, workspace):
    rt, inbox = drop
    deploy(rt, workspace, flow(settle_s=0))
    put(inbox, "a.csv", "sku\nA\n")
    file_pickups.LEASES.ensure(rt, workspace, "drop", "pick", T0)
    key = (file_pickups.WATCH.c.workspace == workspace) & (file_pickups.WATCH.c.node_id == "pick")
    assert file_pickups.LEASES.take(rt, key, "another-process", T0)
    assert file_pickups.pick(rt, workspace, "drop", 1, "pick", T0) == []  # held elsewhere
    assert inputs(rt, workspace) == [] and os.listdir(inbox / "in") == ["a.csv"]
    later = T0 + dt.timedelta(seconds=file_pickups.LEASE_S + 1)  # that process died: its lease expires
    assert len(file_pickups.pick(rt, workspace, "drop", 1, "pick", later)) == 1


def test_malformed_rows_are_runs_of_their_own_and_an_unreadable_file_goes_to_the_error_folder(drop, workspace):
    rt, inbox = drop
    deploy(rt, workspace, flow(settle_s=0, max_bytes=100))
    put(inbox, "a.csv", "sku,qty\nA,1\nB\nC,3\n")
    put(inbox, "big.csv", "sku\n" + "X\n" * 100)
    put(inbox, "notes.txt", "not a csv: not matched")
    assert len(listing(rt, workspace, T0)) == 4
    made = inputs(rt, workspace)
    assert [m.get("line") for m in made] == [2, 3, 4, None]
    assert made[1]["error"] == "1 fields where the header has 2" and made[1]["raw"] == "B"
    assert made[3]["file"]["name"] == "big.csv" and "max_bytes" in made[3]["error"]
    assert os.listdir(inbox / "archive") == ["a.csv"] and os.listdir(inbox / "error") == ["big.csv"]
    assert os.listdir(inbox / "in") == ["notes.txt"]
    rows = {r.name: r for r in ledger(rt, workspace)}
    assert (rows["a.csv"].runs, rows["a.csv"].malformed, rows["a.csv"].status) == (3, 1, "archived")
    assert rows["big.csv"].status == "failed" and "larger than 100 bytes" in rows["big.csv"].error


def test_per_file_is_one_run_with_every_record_and_max_files_leaves_the_rest_for_later(drop, workspace):
    rt, inbox = drop
    deploy(rt, workspace, flow(settle_s=0, per="file", max_files=2, format={"kind": "jsonl"}))
    for i in range(3):
        put(inbox, f"{i}.csv", '{"n": %d}\n{"n": %d}\n' % (i, i + 10), mtime=1_000 + i)
    assert len(listing(rt, workspace, T0)) == 2
    assert watch(rt, workspace).due_at == T0  # files left: the next pass goes on
    assert len(listing(rt, workspace, T0)) == 1
    made = inputs(rt, workspace)
    assert [m["records"] for m in made] == [[{"n": 0}, {"n": 10}], [{"n": 1}, {"n": 11}], [{"n": 2}, {"n": 12}]]
    assert watch(rt, workspace).due_at == T0 + dt.timedelta(seconds=30)


def test_a_missing_connection_is_the_watch_error_and_nothing_is_taken(drop, workspace):
    rt, inbox = drop
    deploy(rt, workspace, flow(settle_s=0))
    connections.remove(rt, workspace, "inbox")
    put(inbox, "a.csv", "sku\nA\n")
    assert listing(rt, workspace, T0) == []
    assert "no connection named 'inbox'" in watch(rt, workspace).error
    assert os.listdir(inbox / "in") == ["a.csv"]


def test_pick_due_lists_the_deployed_triggers_that_are_due(lone_settings, workspace, partner, tmp_path):
    from dataclasses import replace

    files = tmp_path / "files"
    (files / "inbox" / "in").mkdir(parents=True)
    rt = Runtime(replace(lone_settings, file_dirs=(str(files),)))
    try:
        identity.make_partner(rt, partner)
        rt.ensure_workspace(workspace, partner_id=partner)
        connections.save(rt, workspace, "inbox", {"system": "folder", "base_url": str(files / "inbox")})
        deploy(rt, workspace, flow(settle_s=0))
        put(files / "inbox", "a.csv", "sku\nA\n")
        assert len(file_pickups.pick_due(rt, T0)) == 1
        put(files / "inbox", "b.csv", "sku\nB\n")
        assert file_pickups.pick_due(rt, T0 + dt.timedelta(seconds=29)) == []  # not due before its interval
        assert len(file_pickups.pick_due(rt, T0 + dt.timedelta(seconds=30))) == 1
        deployments.undeploy(rt, workspace, "drop")
        put(files / "inbox", "c.csv", "sku\nC\n")
        assert file_pickups.pick_due(rt, T0 + dt.timedelta(seconds=90)) == []
        tenancy.remove(rt, partner, workspace)  # a deleted workspace takes its watch and ledger rows with it
        assert ledger(rt, workspace) == [] and watch(rt, workspace) is None
    finally:
        rt.close()


def test_the_maintenance_pass_picks_files_up(lone_settings, workspace, partner, tmp_path):
    from dataclasses import replace

    files = tmp_path / "files"
    (files / "inbox" / "in").mkdir(parents=True)
    rt = Runtime(replace(lone_settings, file_dirs=(str(files),), maintenance_s=0.05))
    try:
        identity.make_partner(rt, partner)
        rt.ensure_workspace(workspace, partner_id=partner)
        connections.save(rt, workspace, "inbox", {"system": "folder", "base_url": str(files / "inbox")})
        deploy(rt, workspace, flow(settle_s=0))
        put(files / "inbox", "a.csv", "sku\nA\nB\n")
        rt.start_maintenance()
        wait_for(lambda: os.listdir(files / "inbox" / "in") == [] and len(inputs(rt, workspace)) == 2)
        assert os.listdir(files / "inbox" / "archive") == ["a.csv"]
    finally:
        rt.close()


def test_connections_of_the_file_systems_are_checked_when_saved(drop, workspace, tmp_path):
    rt, _ = drop
    with pytest.raises(connections.InvalidConnection) as err:
        connections.save(rt, workspace, "x", {"system": "folder", "base_url": str(tmp_path)})
    assert err.value.field == "base_url" and "CROSSDOCK_FILE_DIRS" in err.value.message
    good = {"system": "sftp", "base_url": "sftp://files.example.com:2222/in",
            "auth": {"username": "edi", "password": "pw-1", "host_key": "SHA256:" + "A" * 43}}
    shown = connections.save(rt, workspace, "s", good)
    assert shown["auth"] == {"type": "basic", "username": "edi", "host_key": "SHA256:" + "A" * 43}
    assert shown["secret_set"] and connections.resolve(rt, workspace, "s")["auth"]["password"] == "pw-1"
    for change, field in (({"base_url": "http://files.example.com/"}, "base_url"),
                          ({"base_url": "sftp://u:p@files.example.com/"}, "base_url"),
                          ({"auth": {"username": "edi", "password": "x"}}, "auth.host_key"),
                          ({"auth": {"username": "edi", "host_key": "ssh-ed25519 nonsense"}}, "auth.host_key"),
                          ({"auth": {"host_key": "SHA256:" + "A" * 43}}, "auth.username"),
                          ({"auth": {"username": "e", "host_key": "SHA256:" + "A" * 43, "key": "junk"}}, "auth.key")):
        with pytest.raises(connections.InvalidConnection) as err:
            connections.save(rt, workspace, "s2", {**good, **change})
        assert err.value.field == field, change
