"""The record of truth: SQLite in WAL mode, one database per service, blobs as files.

Every service keeps its resources here as records: ``(account, region, kind, key) ->
value`` with a version, optional secondary attributes to find them by, and blobs for
large payloads. ``tx()`` is a transaction (nested calls are savepoints); when the
outermost one returns, the write is committed, so a handler that answers after its
``with ctx.tx()`` never acknowledges a write that a crash can lose.

Durability: WAL with ``synchronous=NORMAL`` survives the process being killed at any
moment (a commit is in the OS before ``tx()`` returns); ``durability="fsync"`` uses
``synchronous=FULL`` and fsyncs blobs and their directory, for power loss too.

Layout: one database per service (``state/<service>.db``) holding all accounts and
regions, chosen by measurement (DESIGN.md): a commit costs the same either way, a
service can be reset or migrated alone, and there are a few dozen files rather than one
per account and region. ``root=None`` (``--ephemeral``) keeps the databases in memory
with the same API.
"""

from __future__ import annotations

import io
import os
import sqlite3
import tempfile
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Sequence

import cbor2

Key = str | bytes
Migration = Callable[[sqlite3.Connection], None]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS records (
        account TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT NULL, key NOT NULL,
        value BLOB NOT NULL, version INTEGER NOT NULL,
        PRIMARY KEY (account, region, kind, key)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS attrs (
        account TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
        value NOT NULL, key NOT NULL,
        PRIMARY KEY (account, region, kind, name, value, key)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY) WITHOUT ROWID""",
)


class Conflict(Exception):
    """A conditional write found another version than it expected."""

    def __init__(self, kind: str, key: Key, expected: int, found: int) -> None:
        super().__init__(f"{kind} {key!r}: expected version {expected}, found {found}")
        self.expected = expected
        self.found = found


@dataclass(frozen=True, slots=True)
class Record:
    key: Key
    value: Any
    version: int


#: a private CBOR tag for the Decimals tag 4 cannot carry (NaN, sNaN, ±Infinity, -0)
_DECIMAL_SPECIAL = 40_404


def _encode_decimal(encoder: cbor2.CBOREncoder, value: Any) -> None:
    if value.is_finite() and not (value.is_zero() and value.is_signed()):
        encoder.encode_decimal(value)
    else:  # cbor2 would write a float (read back as a float) or lose the sign of zero
        encoder.encode_semantic(_DECIMAL_SPECIAL, str(value))


_ENCODERS: dict[type, Callable[[cbor2.CBOREncoder, Any], None]] = {Decimal: _encode_decimal}
_DECODERS = {_DECIMAL_SPECIAL: lambda value, immutable: Decimal(value)}


def encode(value: Any) -> bytes:
    """Values are CBOR: dicts, lists, text, bytes, ints, floats, Decimals and aware
    datetimes come back equal.

    Datetimes are written as RFC 3339 text (tag 0), not as epoch floats: a float loses
    microseconds far from 1970, cbor2 cannot read one in the year 9999 back (a written
    record would become unreadable), and the text keeps the UTC offset. A naive datetime
    is refused (ValueError): it names no instant, and cloudlet's clock never makes one.
    """
    local = _local
    enc = getattr(local, "encoder", None)
    if enc is None:  # one encoder per thread: cbor2 copies `encoders` into every new one (~2 µs)
        local.buf = io.BytesIO()
        enc = local.encoder = cbor2.CBOREncoder(local.buf, encoders=_ENCODERS)
    buf = local.buf
    buf.seek(0)
    buf.truncate()
    try:
        enc.encode(value)
    except cbor2.CBOREncodeError as err:  # a bug in the caller, named as one
        local.encoder = None  # whatever state the failure left behind goes with it
        raise ValueError(f"the store cannot keep this value: {err}") from None
    except BaseException:
        local.encoder = None
        raise
    return buf.getvalue()


_local = threading.local()


def decode(data: bytes) -> Any:
    return cbor2.loads(data, semantic_decoders=_DECODERS)


class Tx:
    """One transaction on one service's database, scoped to an account and region."""

    __slots__ = ("_db", "_con", "account", "region", "_after_commit", "_new_blobs")

    def __init__(self, db: "ServiceDB", con: sqlite3.Connection, account: str, region: str) -> None:
        self._db = db
        self._con = con
        self.account = account
        self.region = region
        self._after_commit: list[Callable[[], None]] = []
        self._new_blobs: list[str] = []

    @property
    def db(self) -> "ServiceDB":
        """The database this transaction is on (a key for caches of decoded state)."""
        return self._db

    # records ---------------------------------------------------------------------------
    def get(self, kind: str, key: Key) -> Record | None:
        row = self._con.execute(
            "SELECT value, version FROM records WHERE account=? AND region=? AND kind=? AND key=?",
            (self.account, self.region, kind, key),
        ).fetchone()
        return None if row is None else Record(key, decode(row[0]), row[1])

    def get_sized(self, kind: str, key: Key) -> tuple[Any, int] | None:
        """A record's value and the length of its stored encoding (an upper bound on what
        a service may count of it, such as DynamoDB's item size), or None."""
        row = self._con.execute(
            "SELECT value FROM records WHERE account=? AND region=? AND kind=? AND key=?",
            (self.account, self.region, kind, key),
        ).fetchone()
        return None if row is None else (decode(row[0]), len(row[0]))

    def put(
        self,
        kind: str,
        key: Key,
        value: Any,
        *,
        expect: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> int:
        """Write a record; returns its new version.

        `expect` makes it conditional: 0 means "must not exist", N means "must be at
        version N" (else ``Conflict``). `attrs` replaces the record's secondary
        attributes (a list value indexes each element) for ``find``.
        """
        con = self._con
        self._db.written(kind)
        if expect is None:
            # one statement, not a read then a write: the hot path of every item write
            version = con.execute(
                "INSERT INTO records VALUES (?,?,?,?,?,1) ON CONFLICT DO UPDATE SET "
                "value=excluded.value, version=records.version+1 RETURNING version",
                (self.account, self.region, kind, key, encode(value)),
            ).fetchone()[0]
        else:
            row = con.execute(
                "SELECT version FROM records WHERE account=? AND region=? AND kind=? AND key=?",
                (self.account, self.region, kind, key),
            ).fetchone()
            current = 0 if row is None else row[0]
            if expect != current:
                raise Conflict(kind, key, expect, current)
            version = current + 1
            con.execute(
                "INSERT OR REPLACE INTO records VALUES (?,?,?,?,?,?)",
                (self.account, self.region, kind, key, encode(value), version),
            )
        if attrs is not None:
            self._set_attrs(kind, key, attrs, had_attrs=version > 1)
        return version

    def _set_attrs(self, kind: str, key: Key, attrs: dict[str, Any], had_attrs: bool) -> None:
        scope = (self.account, self.region, kind)
        if had_attrs:
            self._con.execute(
                "DELETE FROM attrs WHERE account=? AND region=? AND kind=? AND key=?", (*scope, key)
            )
        rows = []
        for name, value in attrs.items():
            for v in value if isinstance(value, (list, tuple, set, frozenset)) else (value,):
                if v is not None:
                    rows.append((*scope, name, v, key))
        if rows:
            self._con.executemany("INSERT OR IGNORE INTO attrs VALUES (?,?,?,?,?,?)", rows)

    def delete(self, kind: str, key: Key, *, expect: int | None = None) -> bool:
        """Remove a record (and its attributes); False if there was none."""
        self._db.written(kind)
        scope = (self.account, self.region, kind, key)
        if expect is not None:
            rec = self.get(kind, key)
            found = 0 if rec is None else rec.version
            if found != expect:
                raise Conflict(kind, key, expect, found)
        cur = self._con.execute("DELETE FROM records WHERE account=? AND region=? AND kind=? AND key=?", scope)
        if cur.rowcount:
            self._con.execute("DELETE FROM attrs WHERE account=? AND region=? AND kind=? AND key=?", scope)
        return cur.rowcount > 0

    def scan(
        self,
        kind: str,
        prefix: Key | None = None,
        *,
        after: Key | None = None,
        reverse: bool = False,
        limit: int | None = None,
        lo: Key | None = None,
        hi: Key | None = None,
    ) -> list[Record]:
        """Records of `kind` in key order (bytewise), optionally under `prefix`, after a key
        (exclusive, in the direction of the scan), within ``lo <= key < hi``."""
        sql = ["SELECT key, value, version FROM records WHERE account=? AND region=? AND kind=?"]
        args: list[Any] = [self.account, self.region, kind]
        if prefix:
            sql.append("AND key >= ?")
            args.append(prefix)
            upper = _prefix_end(prefix)
            if upper is not None:
                sql.append("AND key < ?")
                args.append(upper)
        if lo is not None:
            sql.append("AND key >= ?")
            args.append(lo)
        if hi is not None:
            sql.append("AND key < ?")
            args.append(hi)
        if after is not None:
            sql.append("AND key < ?" if reverse else "AND key > ?")
            args.append(after)
        sql.append("ORDER BY key DESC" if reverse else "ORDER BY key")
        if limit is not None:
            sql.append("LIMIT ?")
            args.append(limit)
        rows = self._con.execute(" ".join(sql), args).fetchall()
        return [Record(k, decode(v), ver) for k, v, ver in rows]

    def count(self, kind: str, prefix: Key | None = None) -> int:
        sql = "SELECT count(*) FROM records WHERE account=? AND region=? AND kind=?"
        args: list[Any] = [self.account, self.region, kind]
        if prefix:
            sql += " AND key >= ?"
            args.append(prefix)
            upper = _prefix_end(prefix)
            if upper is not None:
                sql += " AND key < ?"
                args.append(upper)
        return self._con.execute(sql, args).fetchone()[0]

    def find(self, kind: str, attr: str, value: Any) -> list[Record]:
        """Records of `kind` whose attribute `attr` has `value`, in key order."""
        rows = self._con.execute(
            "SELECT r.key, r.value, r.version FROM attrs a JOIN records r ON r.account=a.account AND "
            "r.region=a.region AND r.kind=a.kind AND r.key=a.key WHERE a.account=? AND a.region=? AND "
            "a.kind=? AND a.name=? AND a.value=? ORDER BY a.key",
            (self.account, self.region, kind, attr, value),
        ).fetchall()
        return [Record(k, decode(v), ver) for k, v, ver in rows]

    # blobs -----------------------------------------------------------------------------
    def put_blob(self, data: bytes | Iterable[bytes]) -> str:
        """Store a payload as a file (written, renamed into place) and register it in this
        transaction, so a record never points at a missing file. If the transaction
        rolls back, the file is removed; if the process dies first, it is an orphan that
        the next open removes."""
        blob_id, size = self._db.blobs.write(data)
        self._new_blobs.append(blob_id)
        self._con.execute("INSERT INTO blobs VALUES (?, ?)", (blob_id, size))
        return blob_id

    def adopt_blob(self, blob_id: str, size: int) -> None:
        """Register a file written earlier with ``ServiceDB.write_blob`` (outside any
        transaction, so a long upload never holds the database's lock)."""
        self._new_blobs.append(blob_id)
        self._con.execute("INSERT INTO blobs VALUES (?, ?)", (blob_id, size))

    def drop_blob(self, blob_id: str) -> None:
        """Forget a payload; its file goes once the transaction has committed."""
        self._con.execute("DELETE FROM blobs WHERE id=?", (blob_id,))
        self._after_commit.append(lambda: self._db.blobs.unlink(blob_id))

    def open_blob(self, blob_id: str):  # -> BinaryIO
        return self._db.blobs.open(blob_id)


def _prefix_end(prefix: Key) -> Key | None:
    """The smallest key greater than every key starting with `prefix`.

    SQLite orders text keys (by their UTF-8 bytes, which is code point order) before
    every bytes key, so the bound of a text prefix with no successor is ``b""``.
    """
    if isinstance(prefix, str):
        chars = list(prefix)
        while chars and chars[-1] == "\U0010ffff":
            chars.pop()
        if not chars:
            return b""
        nxt = ord(chars[-1]) + 1
        chars[-1] = chr(0xE000 if nxt == 0xD800 else nxt)  # surrogates are never in a key
        return "".join(chars)
    b = bytearray(prefix)
    while b and b[-1] == 0xFF:
        b.pop()
    if not b:
        return None
    b[-1] += 1
    return bytes(b)


class BlobFiles:
    """Payload files under ``blobs/``; `root=None` uses a private temp directory."""

    def __init__(self, root: str | None, fsync: bool) -> None:
        self._tmp = None
        if root is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="cloudlet-blobs-")
            root = self._tmp.name
        self.root = root
        self.fsync = fsync
        os.makedirs(root, exist_ok=True)

    def path(self, blob_id: str) -> str:
        return os.path.join(self.root, blob_id[:2], blob_id)

    def write(self, data: bytes | Iterable[bytes]) -> tuple[str, int]:
        blob_id = uuid.uuid4().hex
        final = self.path(blob_id)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        tmp = final + ".tmp"
        size = 0
        try:
            with open(tmp, "wb") as f:
                for chunk in (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data:
                    f.write(chunk)
                    size += len(chunk)
                if self.fsync:
                    f.flush()
                    os.fsync(f.fileno())
        except BaseException:  # the source failed (a bad upload): leave nothing behind
            os.unlink(tmp)
            raise
        os.replace(tmp, final)
        if self.fsync:
            _fsync_dir(os.path.dirname(final))
        return blob_id, size

    def open(self, blob_id: str):
        return open(self.path(blob_id), "rb")

    def unlink(self, blob_id: str) -> None:
        try:
            os.unlink(self.path(blob_id))
        except FileNotFoundError:
            pass

    def ids(self) -> Iterator[tuple[str, str]]:
        """(id, path) of every file, temp files included (as id None-suffixed)."""
        for sub in os.listdir(self.root):
            d = os.path.join(self.root, sub)
            if os.path.isdir(d):
                for name in os.listdir(d):
                    yield name, os.path.join(d, name)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: WAL pages (4 KiB) after which a commit checkpoints itself, if the background ones stop
_BACKSTOP_PAGES = 20_000


class ServiceDB:
    """One service's database. A single connection, serialized by a lock: requests run
    on one event loop and jobs on the scheduler's thread, and SQLite has one writer anyway."""

    def __init__(self, name: str, path: str | None, blobs: BlobFiles, fsync: bool) -> None:
        self.name = name
        self.blobs = blobs
        self._lock = threading.RLock()
        self._con = sqlite3.connect(path or ":memory:", isolation_level=None, check_same_thread=False)
        try:
            if path is not None:
                self._con.execute("PRAGMA journal_mode=WAL")
                self._con.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
                # Checkpoints run in the background (`checkpoint`), not inside a request's
                # commit; this high threshold is only the backstop if they stop running.
                self._con.execute(f"PRAGMA wal_autocheckpoint={_BACKSTOP_PAGES}")
            for stmt in _SCHEMA:
                self._con.execute(stmt)
        except BaseException:
            self._con.close()
            raise
        self._depth = 0
        self._outer: Tx | None = None
        self._generations: dict[str, int] = {}  # writes per kind, for caches of decoded state
        self._rollbacks = 0
        self._path = path
        self._ckpt: sqlite3.Connection | None = None

    @contextmanager
    def tx(self, account: str, region: str) -> Iterator[Tx]:
        """A transaction; nested ones (same thread) are savepoints of the outer one.

        Blob files dropped inside are unlinked only after the outermost commit.
        """
        with self._lock:
            con = self._con
            outer = self._outer
            if outer is None:
                con.execute("BEGIN IMMEDIATE")
                tx = self._outer = Tx(self, con, account, region)
                after, new = tx._after_commit, tx._new_blobs
            else:
                self._depth += 1
                name = f"sp{self._depth}"
                con.execute(f"SAVEPOINT {name}")
                tx = Tx(self, con, account, region)
                # one list each, owned by the outer transaction: marks say what this savepoint added
                after = tx._after_commit = outer._after_commit
                new = tx._new_blobs = outer._new_blobs
                marks = len(after), len(new)
            try:
                yield tx
            except BaseException:
                self._rollbacks += 1
                if outer is None:
                    self._outer = None
                    if con.in_transaction:  # SQLite may have rolled back already (e.g. disk full)
                        con.execute("ROLLBACK")
                    self._unlink(new)
                else:
                    del after[marks[0]:]
                    self._unlink(new[marks[1]:])
                    del new[marks[1]:]
                    self._depth -= 1
                    if con.in_transaction:
                        con.execute(f"ROLLBACK TO {name}")
                        con.execute(f"RELEASE {name}")
                raise
            if outer is None:
                self._outer = None
                try:
                    con.execute("COMMIT")
                except BaseException:
                    self._rollbacks += 1
                    if con.in_transaction:
                        con.execute("ROLLBACK")
                    self._unlink(new)
                    raise
                for fn in after:
                    fn()
            else:
                con.execute(f"RELEASE {name}")
                self._depth -= 1

    def written(self, kind: str) -> None:
        """Note a write of `kind` (counted as it happens, before the commit: a cache keyed on
        `generation` never keeps a value across a write, and a rollback moves every kind)."""
        self._generations[kind] = self._generations.get(kind, 0) + 1

    def generation(self, *kinds: str) -> tuple[int, ...]:
        """A token that changes whenever a record of one of `kinds` is written (or any
        transaction rolls back): what an in-memory cache of decoded records compares against
        instead of reading the store. Process-local: a reset builds new databases."""
        g = self._generations
        return (self._rollbacks, *[g.get(k, 0) for k in kinds])

    def write_blob(self, data: bytes | Iterable[bytes]) -> tuple[str, int]:
        """Write a payload file outside any transaction; until a ``Tx.adopt_blob``
        commits, it is an orphan (removed at the next open, or by `discard_blob`)."""
        return self.blobs.write(data)

    def discard_blob(self, blob_id: str) -> None:
        self.blobs.unlink(blob_id)

    def _unlink(self, blob_ids: Sequence[str]) -> None:
        for blob_id in blob_ids:
            self.blobs.unlink(blob_id)

    def migrate(self, migrations: Sequence[tuple[str, Migration]]) -> list[str]:
        """Apply the named migrations not yet applied, each in the transaction that records it."""
        applied = []
        with self._lock:
            done = {r[0] for r in self._con.execute("SELECT name FROM migrations")}
            names = [n for n, _ in migrations]
            if len(set(names)) != len(names):
                raise ValueError(f"{self.name}: duplicate migration names")
            for name, fn in migrations:
                if name in done:
                    continue
                self._con.execute("BEGIN IMMEDIATE")
                try:
                    fn(self._con)
                    self._con.execute("INSERT INTO migrations VALUES (?)", (name,))
                    self._con.execute("COMMIT")
                except BaseException:
                    self._con.execute("ROLLBACK")
                    raise
                applied.append(name)
        return applied

    def blob_ids(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self._con.execute("SELECT id FROM blobs")}

    def wipe(self) -> None:
        """Delete every record and blob of this service (reset)."""
        with self._lock:
            ids = [r[0] for r in self._con.execute("SELECT id FROM blobs")]
            self._con.execute("BEGIN IMMEDIATE")
            for table in ("records", "attrs", "blobs"):
                self._con.execute(f"DELETE FROM {table}")
            self._con.execute("COMMIT")
            self._rollbacks += 1  # every cached generation is stale
        for blob_id in ids:
            self.blobs.unlink(blob_id)

    def checkpoint(self) -> None:
        """Copy committed WAL frames into the database from a second connection.

        PASSIVE never waits for, nor blocks, the writer: requests keep committing while
        it runs, and SQLite releases the GIL meanwhile.
        """
        if self._path is None:
            return
        if self._ckpt is None:
            self._ckpt = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        self._ckpt.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        with self._lock:
            if self._ckpt is not None:
                self._ckpt.close()
                self._ckpt = None
            self._con.close()
