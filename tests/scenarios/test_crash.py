"""kill -9 loses nothing that was acknowledged, and leaves nothing half-written.

Two crash tests:

- **the server**: writer threads hammer a real ``cloudlet serve --data-dir`` with SSM
  PutParameter (boto3, retries off) while it is SIGKILLed at seeded random moments and
  restarted on the same directory; afterwards every acknowledged (name, value, version)
  reads back intact.
- **the store**: a child process writes records with blobs through the store API
  (puts that replace a blob, deletes that drop one, transactions that roll back) and is
  SIGKILLed repeatedly. After each kill, before anything reopens the store, the database
  must hold exactly the acknowledged writes (plus, possibly, the one in flight), and
  every record's blob file must exist with its content; once reopened, no file the
  database does not know remains.

``CLOUDLET_CRASH_SEED`` replays a run; the seed is in every assertion message.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from cloudlet.core.datadir import Store
from cloudlet.core.store import decode
from tests.cloud import Cloud
from tests.scenarios.crashkit import kill_after

SEED = int(os.environ.get("CLOUDLET_CRASH_SEED", "20240607"))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# the server ----------------------------------------------------------------------------

WRITERS = 4
KILLS = 6
NAMES_PER_WRITER = 30  # overwritten again and again: versions climb, well under SSM's 100 kept


@dataclass
class Acks:
    """Every write the server acknowledged, and how many this round."""

    writes: list[tuple[str, str, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    round_count: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, name: str, value: str, version: int) -> None:
        with self.cond:
            self.writes.append((name, value, version))
            self.round_count += 1
            self.cond.notify_all()


def parameter_name(writer: int, n: int) -> str:
    return f"/crash/w{writer}/p{n}"


def hammer(ssm, writer: int, rnd: int, rng: random.Random, acks: Acks, stop: threading.Event) -> None:
    """Write until the server stops answering; record what it acknowledged."""
    try:
        _hammer(ssm, writer, rnd, rng, acks, stop)
    finally:
        with acks.cond:
            acks.cond.notify_all()  # the main thread also waits for writers that stopped


def _hammer(ssm, writer: int, rnd: int, rng: random.Random, acks: Acks, stop: threading.Event) -> None:
    j = 0
    while not stop.is_set():
        n = rng.randrange(NAMES_PER_WRITER)
        name = parameter_name(writer, n)
        value = f"r{rnd}-w{writer}-{j}-{rng.getrandbits(64):016x}"
        j += 1
        try:
            out = ssm.put_parameter(
                Name=name, Value=value, Type="SecureString" if n % 3 == 0 else "String", Overwrite=True
            )
        except (BotoCoreError, ConnectionError):
            return  # the server is gone; nothing unacknowledged is recorded
        except ClientError as err:  # an answer that is not a success is a bug here, not a crash
            with acks.cond:
                acks.failures.append(f"{name}: {err.response['Error']}")
            return
        acks.add(name, value, out["Version"])


def client(cloud: Cloud):
    """No retries at all: botocore's ``max_attempts: 1`` still retries once (it counts
    retries), and a retried write would be acknowledged as if it were the first."""
    return boto3.client(
        "ssm", endpoint_url=cloud.endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test",
        config=BotoConfig(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10),
    )


def crash_round(cloud: Cloud, rnd: int, rng: random.Random, acks: Acks) -> None:
    """Writers hammer `cloud` until it is SIGKILLed after a seeded number of acknowledgements."""
    clients = [client(cloud) for _ in range(WRITERS)]  # made here: boto3 makes clients unsafely in threads
    stop = threading.Event()
    threads = [
        threading.Thread(target=hammer, args=(clients[i], i, rnd, random.Random(rng.getrandbits(64)), acks, stop))
        for i in range(WRITERS)
    ]
    target = rng.randint(10, 250)  # the moment of the kill, while every writer has a request in flight
    kill_after(cloud, threads, acks, target, stop, SEED)


def test_acknowledged_parameters_survive_repeated_kill_9(tmp_path):
    rng = random.Random(SEED)
    data_dir = str(tmp_path / "data")
    acks = Acks()
    for rnd in range(KILLS):
        cloud = Cloud("--data-dir", data_dir)
        try:
            crash_round(cloud, rnd, rng, acks)
        finally:
            cloud.stop()
    assert len(acks.writes) >= KILLS * 10

    by_name: dict[str, dict[int, str]] = {}
    for name, value, version in acks.writes:
        # a version acknowledged twice means the first write was lost and its number reused
        assert by_name.setdefault(name, {}).setdefault(version, value) == value, f"seed {SEED}: {name} v{version}"
    cloud = Cloud("--data-dir", data_dir)
    try:
        ssm = client(cloud)
        lost = []
        for name, acked in by_name.items():
            history = {
                p["Version"]: p["Value"]
                for page in ssm.get_paginator("get_parameter_history").paginate(Name=name, WithDecryption=True)
                for p in page["Parameters"]
            }
            # versions are whole: 1..N with no hole, whatever was in flight at a kill
            assert sorted(history) == list(range(1, max(history) + 1)), f"seed {SEED}: {name}"
            lost += [(name, v, value, history.get(v)) for v, value in acked.items() if history.get(v) != value]
            latest = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
            assert latest["Version"] >= max(acked) and latest["Value"] == history[latest["Version"]]
        assert lost == [], f"seed {SEED}: {len(lost)} of {len(acks.writes)} acknowledged writes lost: {lost[:5]}"
        listed = {
            p["Name"]
            for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/crash", Recursive=True)
            for p in page["Parameters"]
        }
        assert set(by_name) <= listed  # every record decodes: none is half-written
    finally:
        cloud.stop()
    con = sqlite3.connect(os.path.join(data_dir, "state", "ssm.db"))
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


# the store -----------------------------------------------------------------------------

ACCOUNT, REGION = "111111111111", "us-east-1"
KEYS = 12


def child(root: str, seed: int) -> None:
    """Runs in the killed process: sequential operations, each announced ("B") before it
    starts and acknowledged ("A") after its transaction returns."""
    rng = random.Random(seed)
    store = Store(root)
    seq = 0
    out = sys.stdout
    while True:
        seq += 1
        key = f"k{rng.randrange(KEYS)}"
        op = rng.choice(["put", "put", "put", "delete", "abort", "nested"])
        data = rng.randbytes(rng.choice([0, 100, 4096, 70_000]))
        sha = hashlib.sha256(data).hexdigest()
        out.write(json.dumps({"B": [op, key, seq, sha]}) + "\n")
        out.flush()
        try:
            with store.tx("svc", ACCOUNT, REGION) as tx:
                old = tx.get("obj", key)
                if old is not None:  # a put replaces the blob, a delete drops it
                    tx.drop_blob(old.value["blob"])
                if op == "delete":
                    tx.delete("obj", key)
                else:
                    tx.put("obj", key, {"blob": tx.put_blob(data), "sha": sha, "seq": seq})
                if op == "nested":  # a savepoint that rolls back: the outer put still commits
                    try:
                        with store.tx("svc", ACCOUNT, REGION) as inner:
                            other = f"k{(int(key[1:]) + 1) % KEYS}"
                            inner.put("obj", other, {"blob": inner.put_blob(b"inner"), "sha": "", "seq": -1})
                            raise KeyError("roll back the savepoint")
                    except KeyError:
                        pass
                if op == "abort":
                    raise ValueError("roll back")
        except ValueError:
            pass
        out.write(json.dumps({"A": seq}) + "\n")
        out.flush()


def apply(model: dict[str, tuple[int, str]], op: list) -> None:
    kind, key, seq, sha = op
    if kind == "delete":
        model.pop(key, None)
    elif kind in ("put", "nested"):
        model[key] = (seq, sha)


def on_disk(root: str) -> tuple[dict[str, tuple[int, str]], dict[str, str], set[str], set[str]]:
    """What a crash left, read with plain sqlite3 (no Store: it would clean up orphans):
    records as key -> (seq, sha), key -> blob id, registered ids, and files present."""
    con = sqlite3.connect(os.path.join(root, "state", "svc.db"))
    try:
        rows = con.execute("SELECT key, value FROM records WHERE kind='obj'").fetchall()
        registered = {r[0] for r in con.execute("SELECT id FROM blobs")}
    finally:
        con.close()
    records = {k: decode(v) for k, v in rows}
    blobs_dir = os.path.join(root, "blobs", "svc")
    files = {n for d in os.listdir(blobs_dir) for n in os.listdir(os.path.join(blobs_dir, d))}
    return (
        {k: (v["seq"], v["sha"]) for k, v in records.items()},
        {k: v["blob"] for k, v in records.items()},
        registered,
        files,
    )


def file_sha(root: str, blob_id: str) -> str:
    with open(os.path.join(root, "blobs", "svc", blob_id[:2], blob_id), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_store_records_and_blobs_survive_repeated_kill_9(tmp_path):
    rng = random.Random(SEED)
    root = str(tmp_path / "data")
    Store(root).close()
    model: dict[str, tuple[int, str]] = {}
    code = f"import sys; sys.path.insert(0, {ROOT!r}); from tests.scenarios.test_crash import child; child(sys.argv[1], int(sys.argv[2]))"
    total = 0
    for rnd in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", code, root, str(rng.getrandbits(32))], stdout=subprocess.PIPE, text=True
        )
        target, acked, inflight = rng.randint(3, 120), 0, None
        assert proc.stdout is not None
        for line in proc.stdout:
            msg = json.loads(line)
            if "B" in msg:
                inflight = msg["B"]
            else:
                assert inflight is not None and msg["A"] == inflight[2]
                apply(model, inflight)
                inflight, acked = None, acked + 1
                if acked == target:
                    proc.kill()
        proc.wait()
        assert proc.returncode == -9, f"seed {SEED}: the child ended by itself"
        total += acked

        records, blob_of, registered, files = on_disk(root)
        with_inflight = dict(model)
        if inflight is not None:
            apply(with_inflight, inflight)
        assert records in (model, with_inflight), f"seed {SEED}, round {rnd}: {records} vs {model}"
        model = records  # the in-flight operation may or may not have committed: either is whole
        for key, blob in blob_of.items():
            assert blob in registered and blob in files, f"seed {SEED}: {key} points at a missing blob"
            assert file_sha(root, blob) == records[key][1], f"seed {SEED}: {key}'s blob is not intact"

    store = Store(root)
    try:
        store.db("svc")  # opening the service's database removes what no committed transaction registered
        records, blob_of, registered, files = on_disk(root)
        assert files == registered == set(blob_of.values()), f"seed {SEED}"
        with store.tx("svc", ACCOUNT, REGION) as tx:
            for key, blob in blob_of.items():
                with tx.open_blob(blob) as f:
                    assert hashlib.sha256(f.read()).hexdigest() == records[key][1]
    finally:
        store.close()
    assert total >= 8 * 3
