"""Event source mappings at work: the pollers that read queues and streams and invoke
functions with what they find (SQS in ``esm_sqs``, DynamoDB Streams in ``esm_streams``).

One supervisor thread per gateway watches the mapping records: it starts only when a
mapping exists (``ensure_running`` after a mapping write, ``resume`` at server start),
reads ``storage.mappings_all`` again only when ``generation(ESM)`` moves (a dict lookup
every ``IDLE_S``: nothing measurable), and keeps one worker thread per enabled mapping,
restarting a worker whose settings changed. A reset wipes the records, the generation
moves, and the workers stop; ``shutdown`` stops everything.

Workers block in ``invoke.run`` (the function runs in a sandbox), so they are threads;
they reach the event source (and the on-failure destination) through the in-process
client as a session of the function's execution role, as AWS's pollers do: with
``--enforce-iam`` a role without ``sqs:ReceiveMessage`` or ``dynamodb:GetRecords`` reads
nothing, and the mapping says so (``LastProcessingResult``) until the role may again.
A role that does not exist (local tests without IAM) cannot be assumed: then they read as
Lambda itself (``lambda.amazonaws.com``). Polling is real time (~150 ms when idle); ages,
retention and visibility are on the cloudlet clock, so a clock jump makes records old and
messages visible again, and the next poll sees it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.ids import request_id
from cloudlet.services.lambda_ import access

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway
    from cloudlet.server.internal import AwsClient

log = logging.getLogger("cloudlet.lambda.esm")

IDLE_S = 0.15  # how often an idle worker polls, and the supervisor looks for changes
PRINCIPAL = access.PRINCIPAL
# kind of a stream's checkpoints, global partition: "<uuid>/<shard id>" -> {"seq"}, and
# "<uuid>/<shard id>/window" -> {"start", "state"} for an open tumbling window
CHECKPOINT = "esmpos"
MAX_PAYLOAD = 6 * 1024 * 1024  # a synchronous invocation's payload limit: batches stop short of it

ROLE_CHECK_S = 5.0  # real time between looks at the function's role (a config change may swap it)
RENEW_BEFORE_S = 300.0  # a role session this close to its end (cloudlet clock) is replaced
DENIED_PAUSE_S = 1.0  # real time between tries while IAM refuses the role
#: the codes an IAM refusal carries, per protocol (auth/enforce.py ``_denied_shape``)
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "AuthorizationError"})

# Results AWS shows in LastProcessingResult
OK = "OK"
FAILED = "PROBLEM: Function call failed"
NO_RECORDS = "No records processed"

#: settings whose change restarts a mapping's worker (the rest is read per batch)
_WORKER_KEYS = ("EventSourceArn", "FunctionArn", "BatchSize", "MaximumBatchingWindowInSeconds",
                "FilterCriteria", "FunctionResponseTypes", "ScalingConfig", "StartingPosition",
                "StartingPositionTimestamp", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds",
                "BisectBatchOnFunctionError", "DestinationConfig")
_RUNNING = frozenset({"Creating", "Enabling", "Enabled", "Updating"})


# -- what the pollers need from the rest of cloudlet ------------------------------------------
class Env:
    """The world a poller acts on: functions, other services, the mapping record, its
    checkpoints. Tests hand pollers a fake with the same methods."""

    def __init__(self, gateway: "Gateway") -> None:
        self.gateway = gateway
        self.stopping = threading.Event()
        self._roles: dict[tuple[str, str], _RoleSession] = {}
        self._roles_lock = threading.Lock()

    def resolve(self, function_arn: str) -> Any:
        """The function version/alias to run (raises ServiceError when it is gone)."""
        from cloudlet.services.lambda_ import spec

        return spec.resolve_arn(self.gateway, function_arn)

    def run(self, target: Any, payload: bytes, source: str, trace: str | None = None) -> Any:
        """One synchronous invocation: a runtime.Result (raises runtime.Throttled).
        `trace`: the batch's X-Ray header, whose Lineage the invocation continues."""
        from cloudlet.services.lambda_ import invoke

        return invoke.run(self.gateway, target, payload, source=source, trace=trace)

    def client(self, service: str, mapping: dict[str, Any], region: str | None = None,
               quiet: bool = True) -> "AwsClient":
        """A client as the function's execution role (Lambda itself when the role cannot be
        assumed); its reads and deletes are `quiet` (several a second, not audited unless
        they fail), what it sends to a destination is not."""
        ctx = self.role_context(mapping)
        if ctx is None:
            ctx = system_context(self.gateway, mapping)
            return ctx.aws(service, principal=PRINCIPAL, region=region or mapping["region"],
                           source_arn=mapping.get("EventSourceArn"), quiet=quiet)
        return ctx.aws(service, region=region or mapping["region"], quiet=quiet)

    def role_context(self, mapping: dict[str, Any]) -> Context | None:
        """The mapping's calls as a session of its function's execution role, or None when
        the role cannot be assumed. One session per mapping, replaced before it expires on
        the cloudlet clock or when the function's role changes (looked at every
        ``ROLE_CHECK_S``): a poll costs a dict read, not an AssumeRole."""
        key = (mapping["UUID"], mapping["FunctionArn"])
        now = monotonic()
        with self._roles_lock:
            held = self._roles.get(key)
        if held is not None and now - held.checked < ROLE_CHECK_S and held.usable():
            return held.ctx
        from cloudlet.services.lambda_ import spec

        try:
            role = spec.role_of(self.gateway, mapping["FunctionArn"])
        except ServiceError:  # the function is gone: the worker finds out as it resolves it
            return held.ctx if held is not None else None
        if held is not None and held.role == role and held.usable() and (
                held.ctx is not None or not _role_exists(self.gateway, role)):
            held.checked = now
            return held.ctx
        fresh = self._assume(mapping, role, now)
        with self._roles_lock:
            self._roles[key] = fresh
        return fresh.ctx

    def _assume(self, mapping: dict[str, Any], role: str, now: float) -> "_RoleSession":
        from cloudlet.services.lambda_ import spec
        from cloudlet.services.sts import sessions

        if not _role_exists(self.gateway, role):  # not asked of STS: a refusal every few seconds is noise
            return _RoleSession(role, None, 0.0, now)
        name = mapping["FunctionArn"].split(":")[6]
        creds = spec.assume_execution_role(self.gateway, mapping["account"], mapping["region"], role, name)
        session = sessions.session_info(self.gateway, creds[0]) if creds is not None else None
        if creds is None or session is None:
            log.warning("event source mapping %s: cannot assume the execution role %s; reading as %s",
                        mapping["UUID"], role, PRINCIPAL)
            return _RoleSession(role, None, 0.0, now)
        ctx = Context(
            account=mapping["account"], region=mapping["region"], principal_arn=session.arn, access_key=creds[0],
            request_id=request_id(), service="lambda", operation="EventSourceMapping",
            user_agent=f"cloudlet-esm ({mapping['UUID']})", internal=True, gateway=self.gateway,
        )
        return _RoleSession(role, ctx, session.expires, now)

    def update(self, mapping: dict[str, Any], **fields: Any) -> None:
        """Set fields the pollers own on the mapping record, when they change."""
        if all(mapping.get(k) == v for k, v in fields.items()):
            return
        from cloudlet.services.lambda_ import storage

        mapping.update(fields)  # the worker's copy: the next call with the same value writes nothing
        storage.mapping_update(self.gateway, mapping["account"], mapping["region"], mapping["UUID"], **fields)

    def checkpoint(self, uuid: str, shard: str) -> str | None:
        with self.gateway.db("lambda").tx("", "") as tx:
            rec = tx.get(CHECKPOINT, f"{uuid}/{shard}")
        return None if rec is None else rec.value["seq"]

    def save_checkpoint(self, uuid: str, shard: str, seq: str) -> None:
        with self.gateway.db("lambda").tx("", "") as tx:
            tx.put(CHECKPOINT, f"{uuid}/{shard}", {"seq": seq})

    def window(self, uuid: str, shard: str) -> dict[str, Any] | None:
        """A shard's open tumbling window: {"start": epoch seconds, "state": ...}."""
        with self.gateway.db("lambda").tx("", "") as tx:
            rec = tx.get(CHECKPOINT, f"{uuid}/{shard}/window")
        return None if rec is None else rec.value

    def save_window(self, uuid: str, shard: str, window: dict[str, Any] | None) -> None:
        with self.gateway.db("lambda").tx("", "") as tx:
            if window is None:
                tx.delete(CHECKPOINT, f"{uuid}/{shard}/window")
            else:
                tx.put(CHECKPOINT, f"{uuid}/{shard}/window", window)

    def drop_checkpoints(self, uuid: str) -> None:
        with self.gateway.db("lambda").tx("", "") as tx:
            for rec in tx.scan(CHECKPOINT, prefix=f"{uuid}/"):
                tx.delete(CHECKPOINT, rec.key)

    def metric(self, target: Any, name: str, value: float, unit: str) -> None:
        from cloudlet.core import metrics
        from cloudlet.services.lambda_ import metrics as lambda_metrics

        now = clock.now()
        for dims in lambda_metrics.dimension_sets(target):
            metrics.record_many(self.gateway, target.account, target.region, lambda_metrics.NAMESPACE, dims,
                                [(name, value, unit)], now)

    def count(self, mapping: dict[str, Any], name: str, events: int) -> None:
        """An event source mapping metric (``PolledEventCount``...), published, as in AWS,
        only when the mapping's MetricsConfig asks for ``EventCount``."""
        if not events or "EventCount" not in ((mapping.get("MetricsConfig") or {}).get("Metrics") or ()):
            return
        from cloudlet.core import metrics
        from cloudlet.services.lambda_ import metrics as lambda_metrics

        metrics.record_many(self.gateway, mapping["account"], mapping["region"], lambda_metrics.NAMESPACE,
                            {"EventSourceMappingUUID": mapping["UUID"]}, [(name, float(events), "Count")], clock.now())

    def now(self) -> float:
        return clock.time_s()


@dataclass(slots=True)
class _RoleSession:
    """A mapping's execution role session (ctx None: the role cannot be assumed)."""

    role: str
    ctx: Context | None
    expires: float  # epoch seconds, cloudlet clock
    checked: float  # monotonic time the function's role was last read

    def usable(self) -> bool:
        return self.ctx is None or self.expires - clock.time_s() > RENEW_BEFORE_S


def _role_exists(gateway: "Gateway", role: str) -> bool:
    from cloudlet.services.iam import principals

    try:
        return principals.role_info(gateway, role) is not None
    except Exception:  # a malformed role ARN: no role
        return False


def role_problem(action: str, source: str) -> str:
    """LastProcessingResult while IAM refuses the execution role a read of its source
    (wording unconfirmed: modelled on CreateEventSourceMapping's refusal)."""
    return f"PROBLEM: Lambda function execution role does not have permissions to call {action} on {source}"


def system_context(gateway: "Gateway", mapping: dict[str, Any]) -> Context:
    """Lambda's own context in the mapping's account and region (as the scheduler builds one)."""
    return access.service_context(gateway, mapping["account"], mapping["region"], "EventSourceMapping",
                                  f"cloudlet-esm ({mapping['UUID']})")


# -- what a function answered -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Outcome:
    """One invocation as a poller judges it."""

    ok: bool  # the function ran and returned (no function error, not throttled)
    throttled: bool
    failed_ids: tuple[str, ...]  # ReportBatchItemFailures: the item identifiers reported
    result: Any = None  # the runtime.Result, when the function ran
    error: str | None = None  # why it did not run (throttled, gone, runtime unavailable)
    state: Any = None  # a tumbling window's state, as the function returned it


def batch_failures(payload: bytes, ids: list[str]) -> tuple[str, ...] | None:
    """The items a partial batch response reports failed; None when the response makes
    the whole batch a failure (AWS: not JSON, an itemIdentifier empty, null, of another
    key name or naming no record of the batch). An empty or null response, or no or an
    empty ``batchItemFailures``, is complete success."""
    text = payload.strip()
    if not text:
        return ()
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return ()
    failures = doc.get("batchItemFailures")
    if failures is None:
        return ()
    if not isinstance(failures, list):
        return None
    known = set(ids)
    out: list[str] = []
    for item in failures:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or not ident or ident not in known:
            return None
        out.append(ident)
    return tuple(out)


def window_state(payload: bytes) -> tuple[bool, Any]:
    """(True, state) when a tumbling window invocation answered with a ``state`` member
    (AWS counts an answer without one as a failed invocation)."""
    try:
        doc = json.loads(payload.strip() or b"null")
    except ValueError:
        return False, None
    if not isinstance(doc, dict) or "state" not in doc:
        return False, None
    return True, doc["state"]


def invoke_batch(env: Env, mapping: dict[str, Any], target: Any, event: dict[str, Any], ids: list[str],
                 source: str, *, stateful: bool = False, trace: str | None = None) -> Outcome:
    """Run the function on one batch and judge the answer (`stateful`: a tumbling window's
    invocation, whose answer must carry its state)."""
    from cloudlet.services.lambda_ import runtime

    payload = json.dumps(event, separators=(",", ":")).encode()
    try:
        result = env.run(target, payload, source, trace)
    except runtime.Throttled as err:
        return Outcome(False, True, (), None, getattr(err, "reason", "Throttled"))
    except runtime.RuntimeUnavailable as err:
        return Outcome(False, False, (), None, str(err))
    if result.function_error:
        return Outcome(False, False, (), result)
    state = None
    if stateful:
        answered, state = window_state(result.payload)
        if not answered:
            return Outcome(False, False, (), result, "the response of a tumbling window invocation has no state")
    if "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or ()):
        failed = batch_failures(result.payload, ids)
        if failed is None:
            return Outcome(False, False, (), result, "invalid partial batch response")
        return Outcome(True, False, failed, result, state=state)
    return Outcome(True, False, (), result, state=state)


# -- workers and their supervisor -------------------------------------------------------------
class Worker:
    """One mapping's poller: ``poll`` does one round and says whether it found work."""

    def __init__(self, env: Env, mapping: dict[str, Any]) -> None:
        self.env = env
        self.mapping = mapping
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._refused: str | None = None  # LastProcessingResult before IAM refused the role

    def poll(self) -> bool:  # pragma: no cover - each source implements it
        raise NotImplementedError

    def close(self) -> None:
        """Release what the worker holds (called on its thread as it stops)."""

    def refused(self, err: ServiceError, action: str, source: str) -> bool:
        """A call IAM refused the execution role (its policy lost the permission): the
        mapping says so, as AWS's does, and the worker waits a little before it tries
        again; it goes on once the role may. False for any other error."""
        if err.code not in DENIED:
            return False
        if self._refused is None:  # the first refusal names the problem; its retries rewrite nothing
            log.warning("event source mapping %s: %s", self.mapping["UUID"], err.message)
            self._refused = self.mapping.get("LastProcessingResult") or OK
            self.env.update(self.mapping, LastProcessingResult=role_problem(action, source))
        backoff(self._stop, DENIED_PAUSE_S)
        return True

    def permitted(self) -> None:
        """A call of the role went through: a problem reported earlier is over."""
        if self._refused is not None:
            before, self._refused = self._refused, None
            self.env.update(self.mapping, LastProcessingResult=before)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set() or self.env.stopping.is_set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"cloudlet-esm-{self.mapping['UUID'][:8]}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        try:
            while not self.stopping:
                try:
                    busy = self.poll()
                except Exception:  # a poller bug must not kill the mapping: say so, back off, go on
                    log.exception("event source mapping %s: poll failed", self.mapping["UUID"])
                    busy = False
                if not busy:
                    self._stop.wait(IDLE_S)
        finally:
            self.close()


def worker_for(env: Env, mapping: dict[str, Any]) -> Worker | None:
    """The poller for a mapping's event source, or None for a source cloudlet cannot read."""
    service = mapping.get("EventSourceArn", "").split(":")[2:3]
    if service == ["sqs"]:
        from cloudlet.services.lambda_.esm_sqs import SqsWorker

        return SqsWorker(env, mapping)
    if service == ["dynamodb"]:
        from cloudlet.services.lambda_.esm_streams import StreamWorker

        return StreamWorker(env, mapping)
    return None  # Kinesis, MSK, MQ...: the control plane refuses them; nothing to poll


class Pollers:
    """The supervisor of one gateway's workers."""

    def __init__(self, gateway: "Gateway", env_factory: Callable[["Gateway"], Env] = Env) -> None:
        self.gateway = gateway
        self.env = env_factory(gateway)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._workers: dict[str, tuple[tuple[Any, ...], Worker]] = {}
        self._seen: tuple[int, ...] | None = None

    def ensure_running(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self.env.stopping.clear()
                self._thread = threading.Thread(target=self._loop, name="cloudlet-esm", daemon=True)
                self._thread.start()
        self._wake.set()

    def shutdown(self, timeout: float = 5.0) -> None:
        self.env.stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._lock:
            workers = [w for _, w in self._workers.values()]
            self._workers.clear()
            self._thread = None
            self._seen = None
        for w in workers:
            w.stop()
        deadline = monotonic() + timeout  # one wait for all: a server stop is not N timeouts long
        for w in workers:
            w.join(max(0.0, deadline - monotonic()))

    def workers(self) -> dict[str, Worker]:
        with self._lock:
            return {uuid: w for uuid, (_, w) in self._workers.items()}

    def _loop(self) -> None:
        from cloudlet.services.lambda_ import storage

        db = self.gateway.db("lambda")
        while not self.env.stopping.is_set():
            gen = db.generation(storage.ESM)
            if gen != self._seen:
                self._seen = gen
                try:
                    self._sync(storage.mappings_all(self.gateway))
                except Exception:
                    log.exception("event source mappings: could not read the mappings")
            self._wake.wait(IDLE_S)
            self._wake.clear()

    def _sync(self, mappings: list[dict[str, Any]]) -> None:
        """Make the workers match the mapping records."""
        wanted: dict[str, dict[str, Any]] = {}
        for m in mappings:
            if m.get("State") in _RUNNING:
                wanted[m["UUID"]] = m
        present = {m["UUID"] for m in mappings}
        with self._lock:
            stale = [(uuid, w) for uuid, (sig, w) in self._workers.items()
                     if uuid not in wanted or sig != _signature(wanted[uuid])]
            for uuid, _ in stale:
                del self._workers[uuid]
        for uuid, w in stale:
            w.stop()
            if uuid not in present:
                w.join(1.0)
                self.env.drop_checkpoints(uuid)  # a deleted mapping's positions go with it
        for uuid, m in wanted.items():
            with self._lock:
                if uuid in self._workers:
                    continue
            worker = worker_for(self.env, dict(m))
            if worker is None:  # the control plane refuses sources cloudlet cannot read
                continue
            with self._lock:
                self._workers[uuid] = (_signature(m), worker)
            worker.start()


def _signature(m: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(json.dumps(m.get(k), sort_keys=True, default=str) for k in _WORKER_KEYS)


_POLLERS: "weakref.WeakKeyDictionary[Gateway, Pollers]" = weakref.WeakKeyDictionary()
_POLLERS_LOCK = threading.Lock()


def pollers_for(gateway: "Gateway") -> Pollers:
    with _POLLERS_LOCK:
        p = _POLLERS.get(gateway)
        if p is None:
            p = _POLLERS[gateway] = Pollers(gateway)
        return p


def ensure_running(gateway: "Gateway") -> None:
    """Start polling (idempotent, cheap): call after a mapping is created or enabled."""
    pollers_for(gateway).ensure_running()


def resume(gateway: "Gateway") -> None:
    """At server start: poll again if the data directory holds mappings."""
    if "lambda" not in gateway.store.services():
        return
    from cloudlet.services.lambda_ import storage

    with gateway.db("lambda").tx("", "") as tx:
        any_mapping = bool(tx.scan(storage.ESM, limit=1))
    if any_mapping:
        ensure_running(gateway)


def shutdown(gateway: "Gateway") -> None:
    """Stop every poller of this gateway (server stop)."""
    with _POLLERS_LOCK:
        p = _POLLERS.pop(gateway, None)
    if p is not None:
        p.shutdown()


def backoff(stop: threading.Event, seconds: float) -> None:
    """Wait in real time, cut short when the worker stops."""
    stop.wait(seconds)


def monotonic() -> float:
    return time.monotonic()
