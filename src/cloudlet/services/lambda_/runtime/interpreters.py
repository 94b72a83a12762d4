"""Which program runs a runtime: the interpreter the user configured, else the same version
found on this machine, else the nearest version (noted in the function's log) unless
``--strict-runtimes`` asks for an error instead.

Lookups run once per runtime name and are cached for the engine's life: a cold start must
not pay for scanning directories or asking an interpreter its version.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

from .model import RuntimeUnavailable

_PY = re.compile(r"^python(\d+)\.(\d+)$")
_NODE = re.compile(r"^nodejs(\d+)\.x$")
PROVIDED = ("provided", "provided.al2", "provided.al2023")


@dataclass(frozen=True, slots=True)
class Interpreter:
    runtime: str  # the function's runtime name
    kind: str  # "python" | "node" | "provided"
    path: str  # the program ("" for provided: the function's bootstrap is the program)
    version: str  # what was found, e.g. "3.11" or "20"
    note: str | None = None  # set when another version stands in for the one asked for
    configured: bool = False  # chosen by the user (--runtime): its site-packages are wanted


def kind_of(runtime: str) -> str | None:
    if _PY.match(runtime):
        return "python"
    if _NODE.match(runtime):
        return "node"
    if runtime in PROVIDED:
        return "provided"
    return None


def find(runtime: str, configured: dict[str, str], strict: bool) -> Interpreter:
    """The interpreter for `runtime`; raises RuntimeUnavailable when none can stand in."""
    kind = kind_of(runtime)
    if kind == "provided":
        return Interpreter(runtime, "provided", "", "")
    if kind is None:
        raise RuntimeUnavailable(
            runtime,
            f"cloudlet cannot run the {runtime} runtime on this machine "
            "(it runs python3.x, nodejs*.x and provided/provided.al2/provided.al2023)",
        )
    if runtime in configured:
        path = configured[runtime]
        if not os.access(path, os.X_OK):
            raise RuntimeUnavailable(runtime, f"the interpreter configured for {runtime} ({path}) is not executable")
        return Interpreter(runtime, kind, path, _wanted(runtime), configured=True)
    exact = _python_exact(runtime) if kind == "python" else _node_exact(runtime)
    if exact is not None:
        return exact
    nearest = _python_nearest(runtime) if kind == "python" else _node_any(runtime)
    if nearest is None or strict:
        found = f"; the nearest found is {nearest.version} ({nearest.path})" if nearest else ""
        raise RuntimeUnavailable(
            runtime,
            f"{runtime} is not installed on this machine{found}. Install it or point cloudlet at it "
            f"with --runtime {runtime}=/path/to/{'python' if kind == 'python' else 'node'}",
        )
    name = f"python{nearest.version}" if kind == "python" else f"node {nearest.version}"
    note = f"cloudlet: {runtime} not found on this machine; running with {name} ({nearest.path})"
    return Interpreter(runtime, kind, nearest.path, nearest.version, note)


def _wanted(runtime: str) -> str:
    m = _PY.match(runtime) or _NODE.match(runtime)
    assert m is not None
    return ".".join(m.groups())


# python -------------------------------------------------------------------------------
def _path_dirs() -> list[str]:
    # pyenv shims for versions not selected fail when run: the versions' own dirs are used
    return [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not d.rstrip("/").endswith("/shims")]


def _pyenv_roots() -> list[str]:
    roots = [os.environ.get("PYENV_ROOT", ""), os.path.expanduser("~/.pyenv")]
    return [r for r in dict.fromkeys(roots) if r and os.path.isdir(os.path.join(r, "versions"))]


def _python_candidates() -> list[tuple[tuple[int, int], str]]:
    """Every python3.X program we can see, as ((3, X), path), in order of preference."""
    seen: dict[str, tuple[tuple[int, int], str]] = {}

    def add(path: str) -> None:
        m = _PY.match(os.path.basename(path))
        if m and os.path.isfile(path) and os.access(path, os.X_OK):
            real = os.path.realpath(path)
            seen.setdefault(real, ((int(m.group(1)), int(m.group(2))), path))

    add(os.path.join(os.path.dirname(sys.executable), f"python{sys.version_info[0]}.{sys.version_info[1]}"))
    for d in _path_dirs():
        for p in glob.glob(os.path.join(d, "python3.*")):
            add(p)
    for root in _pyenv_roots():
        # newest patch release first
        for p in sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin", "python3.*")), key=_patch_key, reverse=True):
            add(p)
    for d in ("/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"):
        for p in glob.glob(os.path.join(d, "python3.*")):
            add(p)
    return list(seen.values())


def _patch_key(path: str) -> tuple[int, ...]:
    version = path.split(os.sep + "versions" + os.sep, 1)[-1].split(os.sep, 1)[0]
    return tuple(int(x) if x.isdecimal() else -1 for x in re.split(r"[.\-]", version))


def _python_exact(runtime: str) -> Interpreter | None:
    want = tuple(int(x) for x in _wanted(runtime).split("."))
    for version, path in _python_candidates():
        if version == want:
            return Interpreter(runtime, "python", path, _wanted(runtime))
    return None


def _python_nearest(runtime: str) -> Interpreter | None:
    want = tuple(int(x) for x in _wanted(runtime).split("."))
    found = [(v, p) for v, p in _python_candidates() if v[0] == want[0]]
    if not found:
        return None
    # nearest minor version; between two equally near, the newer (it runs more old code)
    version, path = min(found, key=lambda vp: (abs(vp[0][1] - want[1]), -vp[0][1]))
    return Interpreter(runtime, "python", path, f"{version[0]}.{version[1]}")


# node ---------------------------------------------------------------------------------
def _node_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.match(r"v(\d+)\.", out.strip())
    return int(m.group(1)) if m else None


def _node_candidates() -> list[str]:
    paths = []
    which = shutil.which("node", path=os.pathsep.join(_path_dirs()))
    if which:
        paths.append(which)
    nvm = os.environ.get("NVM_DIR") or os.path.expanduser("~/.nvm")
    paths += sorted(glob.glob(os.path.join(nvm, "versions", "node", "v*", "bin", "node")), reverse=True)
    paths += [p for p in ("/usr/bin/node", "/usr/local/bin/node", "/opt/homebrew/bin/node") if os.access(p, os.X_OK)]
    return list(dict.fromkeys(paths))


def _node_exact(runtime: str) -> Interpreter | None:
    want = int(_wanted(runtime))
    for path in _node_candidates():
        if os.path.basename(os.path.dirname(os.path.dirname(path))).startswith(f"v{want}.") or _node_major(path) == want:
            return Interpreter(runtime, "node", path, str(want))
    return None


def _node_any(runtime: str) -> Interpreter | None:
    want = int(_wanted(runtime))
    majors = [(m, p) for p in _node_candidates() if (m := _node_major(p)) is not None]
    if not majors:
        return None
    major, path = min(majors, key=lambda mp: (abs(mp[0] - want), -mp[0]))
    return Interpreter(runtime, "node", path, str(major))
