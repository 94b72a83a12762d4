"""The data directory: its format version, and the store of every service inside it.

``<data-dir>/FORMAT`` records the format version. A newer cloudlet migrates an older
directory forward (``UPGRADES``); an older cloudlet refuses a newer directory; a
directory with files but no FORMAT is refused rather than silently started empty over.

```
<data-dir>/FORMAT             {"format": 1, "written_by": "cloudlet 0.1.0"}
<data-dir>/clock.json         the clock's offset (core/clock.py), kept through resets
<data-dir>/state/<svc>.db     one SQLite database per service (WAL)
<data-dir>/blobs/<svc>/ab/..  payload files, each registered in its service's database
```
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

from cloudlet import __version__
from cloudlet.core.store import BlobFiles, Migration, ServiceDB, Tx

FORMAT = 1
CHECKPOINT_EVERY_S = 0.5
#: format N -> N+1 upgrades of the whole directory, applied in order at open
UPGRADES: dict[int, Callable[[str], None]] = {}


class DataDirError(Exception):
    """The data directory cannot be used; the message says why and what to do."""


def read_format(root: str) -> int | None:
    path = os.path.join(root, "FORMAT")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        raise DataDirError(f"{path} is unreadable ({err}); refusing to start over existing data") from None
    version = data.get("format") if isinstance(data, dict) else None
    if not isinstance(version, int):
        raise DataDirError(f"{path} has no format version; refusing to start over existing data")
    return version


def write_format(root: str, version: int) -> None:
    path = os.path.join(root, "FORMAT")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"format": version, "written_by": f"cloudlet {__version__}"}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def prepare(root: str) -> int:
    """Make `root` usable by this cloudlet; returns the format version it had (0: new)."""
    try:
        return _prepare(root)
    except OSError as err:  # not a directory, no permission, disk full: say so, no traceback
        raise DataDirError(f"{root} cannot be used as a data directory: {err}") from None


def _prepare(root: str) -> int:
    os.makedirs(root, exist_ok=True)
    found = read_format(root)
    if found is None:
        # FORMAT.tmp alone is a first start that died before renaming it into place
        if any(name for name in os.listdir(root) if not name.startswith(".") and name != "FORMAT.tmp"):
            raise DataDirError(
                f"{root} holds files but no FORMAT: it is not a cloudlet data directory, or it is damaged. "
                "Refusing to start empty over it; choose another --data-dir or move it away."
            )
        write_format(root, FORMAT)  # first: a start killed after this is a valid, empty directory
        found = 0
    elif found > FORMAT:
        raise DataDirError(
            f"{root} was written by a newer cloudlet (data format {found}); this cloudlet {__version__} reads "
            f"formats up to {FORMAT}. Upgrade cloudlet, or use another --data-dir."
        )
    else:
        missing = [v for v in range(found, FORMAT) if v not in UPGRADES]
        if found < 1 or missing:
            raise DataDirError(
                f"{root} has data format {found}, which this cloudlet {__version__} cannot upgrade to format "
                f"{FORMAT}. Open it with the cloudlet that wrote it, or use another --data-dir."
            )
        for version in range(found, FORMAT):
            UPGRADES[version](root)
            write_format(root, version + 1)  # after each step: a crash resumes at the next one
    for sub in ("state", "blobs"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    return found


class Store:
    """Every service's database, opened on first use. `root=None` is ``--ephemeral``."""

    def __init__(self, root: str | None, durability: str = "commit") -> None:
        if durability not in ("commit", "fsync"):
            raise ValueError("durability is 'commit' or 'fsync'")
        self.root = root
        self.fsync = durability == "fsync"
        self._dbs: dict[str, ServiceDB] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if root is not None:
            prepare(root)

    def db(self, service: str, migrations: Sequence[tuple[str, Migration]] = ()) -> ServiceDB:
        db = self._dbs.get(service)
        if db is not None:
            return db
        with self._lock:
            db = self._dbs.get(service)
            if db is None:
                db = self._open(service)
                try:
                    db.migrate(migrations)
                except BaseException:
                    db.close()
                    raise
                self._dbs[service] = db
                if self.root is not None and self._checkpointer is None:
                    self._checkpointer = threading.Thread(target=self._checkpoints, name="cloudlet-checkpoint", daemon=True)
                    self._checkpointer.start()
        return db

    def _checkpoints(self) -> None:
        """Keep each WAL short without making a request pay for it (see ServiceDB.checkpoint)."""
        while not self._stop.wait(CHECKPOINT_EVERY_S):
            for db in list(self._dbs.values()):
                try:
                    db.checkpoint()
                except sqlite3.Error:  # closed meanwhile, or busy: the next round tries again
                    pass

    def _open(self, service: str) -> ServiceDB:
        if self.root is None:
            return ServiceDB(service, None, BlobFiles(None, False), False)
        blobs = BlobFiles(os.path.join(self.root, "blobs", service), self.fsync)
        db = ServiceDB(service, os.path.join(self.root, "state", f"{service}.db"), blobs, self.fsync)
        _remove_orphans(db)
        return db

    @contextmanager
    def tx(self, service: str, account: str, region: str) -> Iterator[Tx]:
        with self.db(service).tx(account, region) as tx:
            yield tx

    def services(self) -> list[str]:
        """Services with state: open ones, and on disk those with a database file."""
        names = set(self._dbs)
        if self.root is not None:
            state = os.path.join(self.root, "state")
            names.update(n[:-3] for n in os.listdir(state) if n.endswith(".db"))
        return sorted(names)

    def reset(self, service: str | None = None) -> None:
        """Wipe one service's state, or all of it; safe while requests are in flight
        (each wipe is one transaction under the database's lock)."""
        for name in [service] if service else self.services():
            self.db(name).wipe()

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
        with self._lock:
            for db in self._dbs.values():
                db.close()
            self._dbs.clear()


def _remove_orphans(db: ServiceDB) -> None:
    """Files that no committed record registered (a crash between writing a file and
    committing its transaction, or between a commit and an unlink) are removed at open."""
    known = db.blob_ids()
    for name, path in db.blobs.ids():
        if name not in known:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
