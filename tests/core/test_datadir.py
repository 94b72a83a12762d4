"""The data directory's format: a new one is stamped, a foreign or newer one refused with
a message that says what to do, an older one upgraded step by step."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cloudlet.core import datadir
from cloudlet.core.datadir import DataDirError, Store, prepare, read_format, write_format


def stamp(root, version: int) -> None:
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "FORMAT"), "w") as f:
        json.dump({"format": version}, f)


def test_a_new_directory_gets_format_state_and_blobs(tmp_path):
    root = str(tmp_path / "new" / "nested")
    assert prepare(root) == 0
    assert read_format(root) == datadir.FORMAT
    with open(os.path.join(root, "FORMAT")) as f:
        assert json.load(f)["written_by"].startswith("cloudlet ")
    assert sorted(os.listdir(root)) == ["FORMAT", "blobs", "state"]
    assert prepare(root) == datadir.FORMAT  # the second start finds its own format


def test_an_empty_directory_or_one_with_only_dotfiles_is_new(tmp_path):
    (tmp_path / ".DS_Store").write_text("")
    assert prepare(str(tmp_path)) == 0
    assert read_format(str(tmp_path)) == datadir.FORMAT


def test_a_first_start_killed_before_renaming_format_can_start_again(tmp_path):
    (tmp_path / "FORMAT.tmp").write_text('{"form')
    assert prepare(str(tmp_path)) == 0
    assert read_format(str(tmp_path)) == datadir.FORMAT


def test_files_without_format_are_refused_and_left_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DataDirError, match="holds files but no FORMAT.*another --data-dir"):
        prepare(str(tmp_path))
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_a_newer_format_is_refused(tmp_path):
    stamp(tmp_path, datadir.FORMAT + 1)
    with pytest.raises(DataDirError, match=f"newer cloudlet \\(data format {datadir.FORMAT + 1}\\).*Upgrade cloudlet"):
        Store(str(tmp_path))
    assert read_format(str(tmp_path)) == datadir.FORMAT + 1  # untouched


@pytest.mark.parametrize("content", ["{not json", '{"version": 1}', '"1"', '{"format": "1"}'])
def test_an_unreadable_format_is_refused(tmp_path, content):
    (tmp_path / "FORMAT").write_text(content)
    with pytest.raises(DataDirError, match="FORMAT"):
        prepare(str(tmp_path))


def test_a_file_in_place_of_the_directory_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataDirError, match="cannot be used as a data directory"):
        prepare(str(tmp_path / "file"))


def test_an_older_format_is_upgraded_in_order(tmp_path, monkeypatch):
    calls = []

    def step(n):
        def upgrade(root):
            assert read_format(root) == n  # each step sees the format it upgrades from
            calls.append(n)
        return upgrade

    monkeypatch.setattr(datadir, "FORMAT", 3)
    monkeypatch.setattr(datadir, "UPGRADES", {1: step(1), 2: step(2)})
    stamp(tmp_path, 1)
    assert prepare(str(tmp_path)) == 1
    assert calls == [1, 2]
    assert read_format(str(tmp_path)) == 3
    assert prepare(str(tmp_path)) == 3 and calls == [1, 2]  # applied once


def test_an_upgrade_that_fails_resumes_where_it_stopped(tmp_path, monkeypatch):
    calls = []
    fail = [True]

    def second(root):
        calls.append(2)
        if fail[0]:
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(datadir, "FORMAT", 3)
    monkeypatch.setattr(datadir, "UPGRADES", {1: lambda root: calls.append(1), 2: second})
    stamp(tmp_path, 1)
    with pytest.raises(RuntimeError):
        prepare(str(tmp_path))
    assert read_format(str(tmp_path)) == 2
    fail[0] = False
    prepare(str(tmp_path))
    assert calls == [1, 2, 2] and read_format(str(tmp_path)) == 3


def test_an_upgrade_moves_real_data(tmp_path, monkeypatch):
    """A fake format 2 that renames a kind: data written under format 1 is read under 2."""
    root = str(tmp_path)
    s = Store(root)
    with s.tx("svc", "111111111111", "us-east-1") as t:
        t.put("old-kind", "a", {"n": 1})
    s.close()

    def rename_kind(root):
        import sqlite3

        con = sqlite3.connect(os.path.join(root, "state", "svc.db"))
        with con:
            con.execute("UPDATE records SET kind='new-kind' WHERE kind='old-kind'")
        con.close()

    monkeypatch.setattr(datadir, "FORMAT", 2)
    monkeypatch.setattr(datadir, "UPGRADES", {1: rename_kind})
    s = Store(root)
    with s.tx("svc", "111111111111", "us-east-1") as t:
        assert t.get("old-kind", "a") is None
        assert t.get("new-kind", "a").value == {"n": 1}
    s.close()


@pytest.mark.parametrize("found", [0, 1])
def test_a_format_with_no_upgrade_path_is_refused(tmp_path, monkeypatch, found):
    monkeypatch.setattr(datadir, "FORMAT", 3)
    monkeypatch.setattr(datadir, "UPGRADES", {2: lambda root: None})
    stamp(tmp_path, found)
    with pytest.raises(DataDirError, match=f"data format {found}, which this cloudlet .* cannot upgrade"):
        prepare(str(tmp_path))
    assert read_format(str(tmp_path)) == found


def test_write_format_replaces_atomically(tmp_path):
    write_format(str(tmp_path), 7)
    assert read_format(str(tmp_path)) == 7
    assert os.listdir(tmp_path) == ["FORMAT"]


@pytest.mark.parametrize(
    "setup,message",
    [
        (lambda d: (d / "data.bin").write_bytes(b"\0"), "holds files but no FORMAT"),
        (lambda d: stamp(d, 99), "newer cloudlet (data format 99)"),
    ],
    ids=["foreign", "newer"],
)
def test_serve_on_a_refused_directory_exits_with_the_reason(tmp_path, setup, message):
    setup(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "cloudlet", "serve", "--port", "1", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode != 0
    assert message in out.stderr
    assert "Traceback" not in out.stderr + out.stdout
