"""Which program runs a runtime: configured, exact, nearest (noted), or refused."""

from __future__ import annotations

import sys

import pytest

from cloudlet.services.lambda_.runtime import RuntimeUnavailable, interpreters


@pytest.fixture
def machine(monkeypatch):
    """A machine with python3.9, 3.11 and 3.13 and no node."""
    found = [((3, 9), "/x/python3.9"), ((3, 11), "/x/python3.11"), ((3, 13), "/x/python3.13")]
    monkeypatch.setattr(interpreters, "_python_candidates", lambda: found)
    monkeypatch.setattr(interpreters, "_node_candidates", lambda: [])


def test_the_exact_version_wins(machine):
    got = interpreters.find("python3.11", {}, strict=False)
    assert (got.path, got.version, got.note) == ("/x/python3.11", "3.11", None)


@pytest.mark.parametrize("runtime, path", [("python3.12", "/x/python3.13"), ("python3.10", "/x/python3.11"),
                                           ("python3.8", "/x/python3.9"), ("python3.14", "/x/python3.13")])
def test_the_nearest_version_stands_in_with_a_note(machine, runtime, path):
    got = interpreters.find(runtime, {}, strict=False)
    assert got.path == path
    minor = path.rsplit(".", 1)[1]
    assert got.note == f"cloudlet: {runtime} not found on this machine; running with python3.{minor} ({path})"


def test_strict_mode_refuses_a_stand_in(machine):
    with pytest.raises(RuntimeUnavailable) as err:
        interpreters.find("python3.12", {}, strict=True)
    assert err.value.runtime == "python3.12"
    assert "the nearest found is 3.13 (/x/python3.13)" in str(err.value)
    assert "--runtime python3.12=/path/to/python" in str(err.value)


def test_no_node_at_all(machine):
    with pytest.raises(RuntimeUnavailable, match="nodejs20.x is not installed"):
        interpreters.find("nodejs20.x", {}, strict=False)


def test_configured_interpreters(machine, tmp_path):
    got = interpreters.find("python3.12", {"python3.12": sys.executable}, strict=True)
    assert got.path == sys.executable and got.configured and got.note is None
    with pytest.raises(RuntimeUnavailable, match="is not executable"):
        interpreters.find("python3.12", {"python3.12": str(tmp_path / "nothing")}, strict=False)


@pytest.mark.parametrize("runtime", ["java21", "ruby3.3", "dotnet8", "python", "nodejs"])
def test_runtimes_cloudlet_cannot_run(runtime):
    with pytest.raises(RuntimeUnavailable, match="cannot run the"):
        interpreters.find(runtime, {}, strict=False)


def test_provided_runtimes_need_no_interpreter():
    for runtime in interpreters.PROVIDED:
        assert interpreters.find(runtime, {}, strict=True).kind == "provided"


def test_the_real_machine_has_the_running_python():
    me = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    got = interpreters.find(me, {}, strict=True)
    assert got.note is None and got.kind == "python"
