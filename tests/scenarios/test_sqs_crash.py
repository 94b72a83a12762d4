"""kill -9 loses no message that SendMessage acknowledged.

Writer threads send unique bodies (boto3, retries off) to a standard queue and to a FIFO
queue (one message group per writer) of a real ``cloudlet serve --data-dir``, which is
SIGKILLed at seeded random moments and restarted on the same directory. Afterwards every
acknowledged body is received; a message that was in flight at a kill may or may not be
there (it was never acknowledged), and on the FIFO queue the acknowledged bodies of a
group come out in the order they were sent.

``CLOUDLET_CRASH_SEED`` replays a run; the seed is in every assertion message.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
from dataclasses import dataclass, field

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from tests.cloud import Cloud
from tests.scenarios.crashkit import kill_after

SEED = int(os.environ.get("CLOUDLET_CRASH_SEED", "20241128"))
WRITERS = 4  # even writers send to the standard queue, odd ones to the FIFO queue
KILLS = 6
ACCOUNT = "123456789012"


@dataclass
class Acks:
    """Every send the server acknowledged, and how many this round."""

    sent: dict[str, list[str]] = field(default_factory=dict)  # queue name -> bodies in ack order
    failures: list[str] = field(default_factory=list)
    round_count: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)

    def add(self, queue: str, body: str) -> None:
        with self.cond:
            self.sent.setdefault(queue, []).append(body)
            self.round_count += 1
            self.cond.notify_all()


def client(cloud: Cloud):
    """No retries at all (``total_max_attempts``: botocore's ``max_attempts: 1`` still
    retries once), so an acknowledgement is of exactly one attempt."""
    return boto3.client(
        "sqs", endpoint_url=cloud.endpoint, region_name="us-east-1", aws_access_key_id=ACCOUNT,
        aws_secret_access_key="test",
        config=BotoConfig(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10),
    )


def queues(sqs) -> dict[str, str]:
    """The two queues (CreateQueue is idempotent: the same urls every round)."""
    return {
        "std": sqs.create_queue(QueueName="std")["QueueUrl"],
        "fifo.fifo": sqs.create_queue(QueueName="fifo.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"],
    }


def write(sqs, urls: dict[str, str], writer: int, rnd: int, acks: Acks, stop: threading.Event) -> None:
    """Send until the server stops answering; record what it acknowledged."""
    try:
        name = "std" if writer % 2 == 0 else "fifo.fifo"
        j = 0
        while not stop.is_set():
            body = f"r{rnd}-w{writer}-{j:05d}"
            j += 1
            extra = {"MessageGroupId": f"w{writer}", "MessageDeduplicationId": body} if name.endswith(".fifo") else {}
            try:
                sqs.send_message(QueueUrl=urls[name], MessageBody=body, **extra)
            except (BotoCoreError, ConnectionError):
                return  # the server is gone; the unacknowledged send is not recorded
            except ClientError as err:  # an error answer is a bug here, not a crash
                with acks.cond:
                    acks.failures.append(f"{body}: {err.response['Error']}")
                return
            acks.add(name, body)
    finally:
        with acks.cond:
            acks.cond.notify_all()


def crash_round(cloud: Cloud, rnd: int, rng: random.Random, acks: Acks) -> None:
    clients = [client(cloud) for _ in range(WRITERS)]  # made here: boto3 makes clients unsafely in threads
    urls = queues(clients[0])
    stop = threading.Event()
    threads = [threading.Thread(target=write, args=(clients[i], urls, i, rnd, acks, stop)) for i in range(WRITERS)]
    target = rng.randint(10, 300)  # the moment of the kill, while every writer has a send in flight
    kill_after(cloud, threads, acks, target, stop, SEED)


def drain(sqs, url: str) -> list[str]:
    """Every body in the queue, in the order received, each deleted once read."""
    out: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages") or []
        if not got:
            return out
        out.extend(m["Body"] for m in got)
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        )


def test_acknowledged_messages_survive_repeated_kill_9(tmp_path):
    rng = random.Random(SEED)
    data_dir = str(tmp_path / "data")
    acks = Acks()
    for rnd in range(KILLS):
        cloud = Cloud("--data-dir", data_dir)
        try:
            crash_round(cloud, rnd, rng, acks)
        finally:
            cloud.stop()
    total = sum(len(v) for v in acks.sent.values())
    assert total >= KILLS * 10 and set(acks.sent) == {"std", "fifo.fifo"}, f"seed {SEED}: {total}"

    cloud = Cloud("--data-dir", data_dir)
    try:
        sqs = client(cloud)
        urls = queues(sqs)
        for name, url in urls.items():
            received = drain(sqs, url)
            acked = acks.sent[name]
            missing = sorted(set(acked) - set(received))
            lost = f"{len(missing)} of {len(acked)} acknowledged {name} sends lost"
            assert missing == [], f"seed {SEED}: {lost}: {missing[:5]}"
            if name.endswith(".fifo"):
                for w in range(1, WRITERS, 2):  # each writer's acknowledged sends, in send order
                    mine = [b for b in acked if f"-w{w}-" in b]
                    got = [b for b in received if b in set(mine)]
                    assert got == mine, f"seed {SEED}: group w{w} out of order"
                assert len(received) == len(set(received)), f"seed {SEED}: a FIFO message came back twice"
    finally:
        cloud.stop()
    con = sqlite3.connect(os.path.join(data_dir, "state", "sqs.db"))
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
