"""Input validation from the models: required members, lengths, ranges, enums, patterns.

The gateway calls ``validator(service, op)(params)`` after decoding and before the
handler, so a handler only ever sees input the model allows, and bad input gets the
service's own validation error instead of a 500 or a silently accepted value.

How AWS reports it (its request framework, "Coral", checks the model's traits before
the service code runs; wording from public error reports):

* ``1 validation error detected: Value 'x' at 'roleArn' failed to satisfy constraint:
  Member must have length greater than or equal to 20``; several are counted and joined
  with ``; `` (``2 validation errors detected: ...; ...``), in model order.
* A missing member is ``Value null at 'queueUrl' ... Member must not be null``; a
  sensitive member's value is left out (``Value at 'plaintext' ...``, KMS).
* Paths: member names with the first letter lower-cased (``kMSKeyArn``, as Lambda
  writes it), nested with ``.``; list items are ``<list>.<n>.member`` (1-based:
  IAM ``tags.6.member.value``, Route 53 ``changeBatch.changes.1.member...``); map
  values are ``<map>.<key>.member`` (DynamoDB ``RequestItems.<table>.member.Keys``).
* Constraints of list items and of map keys and values are reported once, on the
  container, listing all of the item shape's constraints: ``Member must satisfy
  constraint: [Member must satisfy enum value set: [...]]`` (CloudFormation),
  ``Map keys must satisfy constraint: [Member must have length less than or equal to
  64, Member must have length greater than or equal to 1, ...]`` (QuickSight),
  ``Map value must satisfy constraint: [...]`` (DynamoDB BatchWriteItem).
* Values print as Java's ``toString`` would: lists ``[a, b]``, maps ``{k=v}``,
  structures ``KeySchemaElement(attributeName=pk, keyType=HASH)`` (DynamoDB), blobs
  ``java.nio.HeapByteBuffer[pos=0 lim=n cap=n]``. Order of several failures of one
  member is a Java hash-set order in AWS (it varies by service); we write the pattern
  first, then the length, as STS, CloudFormation and CloudWatch Logs mostly do.
* String length is counted in UTF-16 code units, as Java's ``String.length()`` does.

Which error code and which checks a service gets is data: ``PROTOCOL_FAMILIES`` gives
the default per protocol and ``SERVICE_FAMILIES`` the services researched. Being too
strict breaks real clients, so enums and patterns are off unless a service is known
to enforce them (many services accept enum values newer than a client's model, and
some ``pattern`` traits are not enforced at all).

Everything is compiled once per operation into closures over the shapes that carry a
constraint somewhere below them; subtrees with nothing to check are skipped entirely.
Errors build their paths on the way back up, so a valid request does no string work.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Callable

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.model import OperationModel, ServiceModel, load_service

__all__ = [
    "Family",
    "Limit",
    "PROTOCOL_FAMILIES",
    "SERVICE_FAMILIES",
    "EXTRA_LIMITS",
    "family_for",
    "validator",
    "build_validator",
    "pattern_for",
]

Validator = Callable[[dict], None]


@dataclass(frozen=True)
class Family:
    """How one service reports bad input, and which model traits it enforces.

    `code`/`status`/`query_code` are used for constraint failures in the counted
    ``N validation errors detected`` form. Services from the query era report a
    missing member on its own, one at a time, in their older words: `missing_code`
    and `missing_text` (``{name}`` is the member's wire name) say how.
    """

    code: str
    status: int = 400
    query_code: str | None = None
    missing_code: str | None = None
    missing_query_code: str | None = None
    missing_text: str = ""
    required: bool = True
    limits: bool = True  # min/max of strings, blobs, numbers, lists and maps
    enums: bool = False
    patterns: bool = False
    type_code: str | None = None  # wrong Python type; defaults to `code`


@dataclass(frozen=True)
class Limit:
    """A documented bound AWS enforces that the model does not carry, in AWS's words."""

    min: float
    max: float
    code: str
    message: str  # ``{value}`` is the value sent
    status: int = 400
    query_code: str | None = None


_EC2_MISSING = "The request must contain the parameter {name}"

# Defaults per protocol. rest-xml is off: S3 enforces required members through its
# routes and reports them in its own words (MissingContentLength, MalformedXML,
# InvalidArgument...), and CloudFront and S3 Control have their own schemes too.
PROTOCOL_FAMILIES: dict[str, Family | None] = {
    "json": Family("ValidationException", type_code="SerializationException"),
    "rest-json": Family("ValidationException", type_code="SerializationException"),
    "smithy-rpc-v2-cbor": Family("ValidationException", type_code="SerializationException"),
    "query": Family("ValidationError"),
    # EC2 is not a Coral service: a missing member is MissingParameter, one at a time,
    # and its many min/max traits are checked (when at all) with per-operation wording.
    "ec2": Family(
        "InvalidParameterValue",
        missing_code="MissingParameter",
        missing_text=_EC2_MISSING,
        limits=False,
    ),
    "rest-xml": None,
}

# The services researched. Evidence (public error reports) is noted per entry.
SERVICE_FAMILIES: dict[str, Family | None] = {
    "s3": None,  # required members are route-level in S3; see PROTOCOL_FAMILIES
    # "Value 'x' at 'resourceId' ... length less than or equal to 32" (InvalidInput);
    # record types: "Member must satisfy enum value set: [AAAA, A, NS, ...]".
    "route53": Family("InvalidInput", enums=True),
    # SQS (json, query-compatible): "MissingParameter: The request must contain the
    # parameter MessageGroupId."; out-of-range values are InvalidParameterValue in its
    # own words (EXTRA_LIMITS). Its only model constraints are enums, which it reports
    # as InvalidAttributeName from the handlers, so they stay off here.
    "sqs": Family(
        "InvalidParameterValue",
        query_code="InvalidParameterValue",
        missing_code="MissingParameter",
        missing_query_code="MissingParameter",
        missing_text="The request must contain the parameter {name}.",
        type_code="InvalidParameterValue",
    ),
    # CloudWatch (cbor, query-compatible): "MissingParameter: The parameter Namespace
    # is required."; constraint failures are ValidationError in the Coral form.
    "cloudwatch": Family(
        "ValidationException",
        query_code="ValidationError",
        missing_code="MissingRequiredParameterException",
        missing_query_code="MissingParameter",
        missing_text="The parameter {name} is required.",
    ),
    # STS: "2 validation errors detected: Value '' at 'roleArn' ... regular expression
    # pattern: [...]; Value '' at 'roleArn' ... length greater than or equal to 20".
    "sts": Family("ValidationError", patterns=True),
    # IAM: "Value '...' at 'tags.6.member.value' ... regular expression pattern".
    "iam": Family("ValidationError", patterns=True),
    # CloudFormation: "at 'stackName' ... regular expression pattern" and "at
    # 'capabilities' ... Member must satisfy constraint: [Member must satisfy enum
    # value set: ...]".
    "cloudformation": Family("ValidationError", enums=True, patterns=True),
    # DynamoDB: "Value null at 'tableName' ... Member must not be null", "Member must
    # satisfy enum value set: [B, N, S]".
    "dynamodb": Family("ValidationException", type_code="SerializationException", enums=True),
    # Lambda: "at 'role' ... Member must satisfy regular expression pattern:
    # arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+". Its Runtime enum
    # is now reported as InvalidParameterValueException by the handler, so enums stay off.
    "lambda": Family("ValidationException", type_code="SerializationException", patterns=True),
    # KMS: "Value at 'plaintext' ... length less than or equal to 4096"; unknown KeySpec
    # values are rejected with ValidationException.
    "kms": Family("ValidationException", type_code="SerializationException", enums=True),
    "events": Family("ValidationException", type_code="SerializationException", enums=True, patterns=True),
    # CloudWatch Logs: "InvalidParameterException: 2 validation errors detected: Value ''
    # at 'logGroupName' ... regular expression pattern: [\.\-_/#A-Za-z0-9]+; ...".
    "logs": Family("InvalidParameterException", type_code="SerializationException", patterns=True),
    # Cognito user pools: "InvalidParameterException: 2 validation errors detected:
    # Value at 'username' ... length greater than or equal to 1; ...".
    "cognito-idp": Family("InvalidParameterException", type_code="SerializationException"),
    # events, sns, autoscaling and the rest use their protocol's default.
}

# Bounds AWS documents and enforces that the model leaves out, keyed by service, then
# (operation, top-level member). Checked before the model's own constraints.
EXTRA_LIMITS: dict[str, dict[tuple[str, str], Limit]] = {
    "sqs": {
        # "Value 15 for parameter MaxNumberOfMessages is invalid. Reason: Must be
        # between 1 and 10, if provided." (InvalidParameterValue)
        ("ReceiveMessage", "MaxNumberOfMessages"): Limit(
            1, 10, "InvalidParameterValue",
            "Value {value} for parameter MaxNumberOfMessages is invalid. "
            "Reason: Must be between 1 and 10, if provided.",
            query_code="InvalidParameterValue",
        ),
        # "Value 50 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and
        # <= 20, if provided."
        ("ReceiveMessage", "WaitTimeSeconds"): Limit(
            0, 20, "InvalidParameterValue",
            "Value {value} for parameter WaitTimeSeconds is invalid. "
            "Reason: Must be >= 0 and <= 20, if provided.",
            query_code="InvalidParameterValue",
        ),
    },
}


def family_for(service: ServiceModel) -> Family | None:
    """The service's entry, else its protocol's default, else ``None`` (no checks).

    A query-compatible JSON service that is not in the table keeps reporting its old
    query code (``ValidationError``) to clients that ask for it.
    """
    name = service.service_name
    if name in SERVICE_FAMILIES:
        return SERVICE_FAMILIES[name]
    fam = PROTOCOL_FAMILIES.get(service.protocol)
    if fam is not None and "awsQueryCompatible" in service.metadata and fam.query_code is None:
        fam = replace(fam, query_code="ValidationError")
    return fam


def validator(service: ServiceModel | str, op: OperationModel | str) -> Validator:
    """The compiled check for `op`'s input (cached); it raises the service's ServiceError.

    Takes the models or their names (``validator("sqs", "SendMessage")``); the gateway
    calls this on every request, so a hit is one dict lookup.
    """
    key = (service, op if isinstance(op, str) else op.name)
    found = _VALIDATORS.get(key)
    if found is None:
        model = load_service(service) if isinstance(service, str) else service
        op_model = model.operation_model(op) if isinstance(op, str) else op
        found = build_validator(model, op_model, family_for(model))
        _VALIDATORS[key] = found
    return found


_VALIDATORS: dict[tuple[ServiceModel | str, str], Validator] = {}


def _noop(params: dict) -> None:
    return None


def build_validator(service: ServiceModel, op: OperationModel, family: Family | None) -> Validator:
    """Compile `op`'s check under `family` (tests use this to vary the rules)."""
    if family is None or op.input_shape is None:
        return _noop
    compiler = _compiler(service, family)
    root = compiler.root(op.input_shape.name)
    extras = _extra_checks(service, op)
    if root is None and not extras:
        return _noop
    report = _Reporter(family, compiler)

    if not extras:
        def check(params: dict) -> None:
            errs = root(params)
            if errs:
                report(errs)
        return check

    def check_with_extras(params: dict) -> None:
        errs = root(params) if root is not None else None
        if errs and report.comes_first(errs):
            report(errs)  # a wrong type or (in the legacy style) a missing member
        if type(params) is dict:
            for name, limit in extras:
                v = params.get(name)
                if v is not None and _out_of(limit, v):
                    raise ServiceError(
                        limit.code, limit.message.format(value=_java(v)), limit.status,
                        query_code=limit.query_code,
                    )
        if errs:
            report(errs)
    return check_with_extras


def _extra_checks(service: ServiceModel, op: OperationModel) -> list[tuple[str, Limit]]:
    table = EXTRA_LIMITS.get(service.service_name, {})
    return [(member, lim) for (op_name, member), lim in table.items() if op_name == op.name]


def _out_of(limit: Limit, v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False  # the model's type check reports it
    return v < limit.min or v > limit.max


# ---------------------------------------------------------------------------------
# errors: built bottom-up, paths prefixed by each parent on the way back


# constraint: the value breaks its own shape's trait; items: some items of a list or map
# do (reported once, on the container)
_MISSING, _CONSTRAINT, _ITEMS, _TYPE = "missing", "constraint", "items", "type"


class _Err:
    __slots__ = ("kind", "segs", "value", "shape", "text")

    def __init__(self, kind: str, value: Any, shape: str | None, text: str) -> None:
        self.kind = kind
        self.segs: list[tuple] = []  # innermost first: ("m", member, wire) | ("i", n) | ("k", key)
        self.value = value
        self.shape = shape
        self.text = text


def _prefix(errs: list[_Err], seg: tuple) -> list[_Err]:
    for e in errs:
        e.segs.append(seg)
    return errs


class _Reporter:
    """Turns collected failures into the one ServiceError the service would send."""

    def __init__(self, family: Family, compiler: _Compiler) -> None:
        self.family = family
        self.compiler = compiler

    def comes_first(self, errs: list[_Err]) -> bool:
        missing_alone = self.family.missing_code is not None
        return any(e.kind == _TYPE or (missing_alone and e.kind == _MISSING) for e in errs)

    def __call__(self, errs: list[_Err]) -> None:
        fam = self.family
        for e in errs:
            if e.kind == _TYPE:
                code = fam.type_code or fam.code
                raise ServiceError(
                    code,
                    f"Unexpected value type for '{self._coral_path(e) or 'the input'}': expected {e.text}.",
                    fam.status,
                    query_code=fam.query_code if code == fam.code else None,
                )
        if fam.missing_code:
            for e in errs:
                if e.kind == _MISSING:
                    raise ServiceError(
                        fam.missing_code,
                        fam.missing_text.format(name=self._wire_path(e)),
                        fam.status,
                        query_code=fam.missing_query_code,
                    )
        parts = []
        for e in errs:
            if e.kind == _MISSING:
                parts.append(f"Value null at '{self._coral_path(e)}' failed to satisfy constraint: "
                             "Member must not be null")
            else:
                parts.append(f"{self._value(e)} at '{self._coral_path(e)}' failed to satisfy "
                             f"constraint: {e.text}")
        n = len(parts)
        noun = "error" if n == 1 else "errors"
        raise ServiceError(
            fam.code, f"{n} validation {noun} detected: " + "; ".join(parts), fam.status,
            query_code=fam.query_code,
        )

    def _value(self, e: _Err) -> str:
        if e.value is None:
            return "Value null"
        shapes = self.compiler.shapes
        if e.shape is not None and shapes.get(e.shape, {}).get("sensitive"):
            return "Value"
        return f"Value '{_render(e.value, e.shape, shapes)}'"

    @staticmethod
    def _coral_path(e: _Err) -> str:
        out = []
        for seg in reversed(e.segs):
            if seg[0] == "m":
                name = seg[1]
                out.append(name[:1].lower() + name[1:])
            else:  # a list index or a map key
                out.append(f"{seg[1]}.member")
        return ".".join(out)

    @staticmethod
    def _wire_path(e: _Err) -> str:
        # EC2 style (Filter.1.Name): the wire names, 1-based list indexes, map keys.
        return ".".join(str(seg[2] if seg[0] == "m" else seg[1]) for seg in reversed(e.segs))


# ---------------------------------------------------------------------------------
# compiling


Check = Callable[[Any], "list[_Err] | None"]
_NUMERIC = ("integer", "long", "short", "byte", "float", "double", "bigdecimal", "biginteger")
_COMPILERS: dict[tuple[ServiceModel, Family], "_Compiler"] = {}


def _compiler(service: ServiceModel, family: Family) -> "_Compiler":
    key = (service, family)
    found = _COMPILERS.get(key)
    if found is None:
        found = _COMPILERS[key] = _Compiler(service, family)
    return found


class _Compiler:
    """Builds and caches one check per shape of one service under one family.

    Works on the model's JSON (shape dicts), which botocore's ServiceModel keeps as
    ``_service_description``: reading it directly is much cheaper than materialising
    a botocore ``Shape`` per member, and it is the same data.
    """

    def __init__(self, service: ServiceModel, family: Family) -> None:
        self.family = family
        self.protocol = service.protocol
        self.shapes: dict[str, dict] = service._service_description.get("shapes", {})
        self.checks: dict[str, Check | None] = {}
        self.needs: dict[str, bool] = {}
        self.patterns: dict[str, re.Pattern | None] = {}

    def root(self, name: str) -> Check | None:
        self._solve_needs(name)
        return self._check(name)

    # which shapes have anything to check at or below them --------------------------
    def _own(self, name: str) -> bool:
        s = self.shapes[name]
        t = s.get("type")
        fam = self.family
        if t == "structure":
            return fam.required and bool(s.get("required")) and not s.get("document")
        if t in ("string", "blob", "list", "map"):
            if fam.limits and (s.get("min", 0) > 0 or "max" in s):
                return True
            if t == "string":
                if fam.enums and s.get("enum"):
                    return True
                if fam.patterns and "pattern" in s and self._pattern(s["pattern"]) is not None:
                    return True
            return False
        if t in _NUMERIC:
            return fam.limits and ("min" in s or "max" in s)
        return False

    def _children(self, name: str) -> list[str]:
        s = self.shapes[name]
        t = s.get("type")
        if t == "structure":
            if s.get("document"):
                return []
            return [m["shape"] for m in s.get("members", {}).values() if not m.get("jsonvalue")]
        if t == "list":
            return [s["member"]["shape"]]
        if t == "map":
            return [s["key"]["shape"], s["value"]["shape"]]
        return []

    def _solve_needs(self, start: str) -> None:
        """Tarjan's SCCs: a shape needs a check if anything reachable from it does.

        Recursive shapes (DynamoDB's AttributeValue) are one component; a component is
        decided once every component below it is, and the answers are kept across
        operations.
        """
        if start in self.needs:
            return
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()

        def enter(node: str) -> None:
            index[node] = low[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            work.append((node, iter(self._children(node))))

        work: list[tuple[str, Any]] = []
        enter(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child in self.needs:
                    continue  # a finished component
                if child not in index:
                    enter(child)
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    inside = set(comp)
                    need = any(self._own(w) for w in comp) or any(
                        self.needs[c] for w in comp for c in self._children(w) if c not in inside
                    )
                    for w in comp:
                        self.needs[w] = need

    # the checks ---------------------------------------------------------------------
    def _check(self, name: str) -> Check | None:
        if not self.needs.get(name):
            return None
        if name in self.checks:
            found = self.checks[name]
            if found is not None:
                return found
            # still being built: a recursive reference, resolved when called
            checks = self.checks
            return lambda v: checks[name](v)  # type: ignore[misc]
        self.checks[name] = None
        s = self.shapes[name]
        t = s.get("type")
        if t == "structure":
            built = self._structure(name, s)
        elif t == "list":
            built = self._list(name, s)
        elif t == "map":
            built = self._map(name, s)
        elif t == "string":
            built = self._string(name, s)
        elif t == "blob":
            built = self._blob(name, s)
        else:
            built = self._number(name, s, t)
        self.checks[name] = built
        return built

    def _wire_name(self, member: str, ref: dict) -> str:
        if self.protocol == "ec2":
            if "queryName" in ref:
                return ref["queryName"]
            loc = ref.get("locationName")
            return loc[:1].upper() + loc[1:] if loc else member
        if self.protocol == "query":
            return ref.get("locationName", member)
        return member

    def _structure(self, name: str, s: dict) -> Check:
        required = set(s.get("required", ())) if self.family.required else set()
        items = []
        for member, ref in s.get("members", {}).items():
            sub = None if ref.get("jsonvalue") else self._check(ref["shape"])
            req = member in required
            if req or sub is not None:
                seg = ("m", member, self._wire_name(member, ref))
                # a document may be JSON null: present counts, whatever its value
                nullable = bool(self.shapes[ref["shape"]].get("document"))
                items.append((member, req, sub, seg, nullable))
        entries = tuple(items)

        def check_structure(v: Any) -> list[_Err] | None:
            if not isinstance(v, dict):
                return [_Err(_TYPE, v, name, "a structure")]
            errs = None
            for member, req, sub, seg, nullable in entries:
                x = v.get(member)
                if x is None:
                    if req and not (nullable and member in v):
                        e = _Err(_MISSING, None, None, "")
                        e.segs.append(seg)
                        errs = [e] if errs is None else errs + [e]
                    continue
                if sub is not None:
                    found = sub(x)
                    if found:
                        _prefix(found, seg)
                        errs = found if errs is None else errs + found
            return errs
        return check_structure

    def _limits_text(self, s: dict, what: str) -> list[str]:
        """The constraint phrases of a shape, in the order AWS lists them in brackets."""
        out = []
        fam = self.family
        if fam.limits:
            if what == "length":
                if "max" in s:
                    out.append(f"Member must have length less than or equal to {_num(s['max'])}")
                if s.get("min", 0) > 0:
                    out.append(f"Member must have length greater than or equal to {_num(s['min'])}")
            elif what == "value":
                if "max" in s:
                    out.append(f"Member must have value less than or equal to {_num(s['max'])}")
                if "min" in s:
                    out.append(f"Member must have value greater than or equal to {_num(s['min'])}")
        if what == "length" and s.get("type") == "string":
            if fam.patterns and "pattern" in s and self._pattern(s["pattern"]) is not None:
                out.append(f"Member must satisfy regular expression pattern: {s['pattern']}")
            if fam.enums and s.get("enum"):
                out.append(f"Member must satisfy enum value set: [{', '.join(s['enum'])}]")
        return out

    def _item_text(self, name: str) -> str:
        s = self.shapes[name]
        t = s.get("type")
        what = "value" if t in _NUMERIC else "length"
        return "[" + ", ".join(self._limits_text(s, what)) + "]"

    def _list(self, name: str, s: dict) -> Check:
        lo, hi = self._bounds(s)
        item_name = s["member"]["shape"]
        item = self._check(item_name)
        item_text = f"Member must satisfy constraint: {self._item_text(item_name)}"

        def check_list(v: Any) -> list[_Err] | None:
            if not isinstance(v, (list, tuple)):
                return [_Err(_TYPE, v, name, "a list")]
            n = len(v)
            errs = _size_errors(v, name, n, lo, hi) if n < lo or (hi is not None and n > hi) else None
            if item is None:
                return errs
            collapsed = False
            for i, x in enumerate(v, 1):
                if x is None:
                    continue
                found = item(x)
                if found:
                    nested, collapsed = _nest(found, v, name, item_text, ("i", i), collapsed)
                    if nested:
                        errs = nested if errs is None else errs + nested
            return errs
        return check_list

    def _map(self, name: str, s: dict) -> Check:
        lo, hi = self._bounds(s)
        key_name, value_name = s["key"]["shape"], s["value"]["shape"]
        key = self._check(key_name)
        value = self._check(value_name)
        key_text = f"Map keys must satisfy constraint: {self._item_text(key_name)}"
        value_text = f"Map value must satisfy constraint: {self._item_text(value_name)}"
        # Keys limited by length alone (DynamoDB's attribute names) are accepted inline
        # when plainly within bounds; only doubtful ones pay for the full check.
        ks = self.shapes[key_name]
        plain_keys = key is not None and ks.get("type") == "string" and not (
            (self.family.enums and ks.get("enum")) or (self.family.patterns and "pattern" in ks)
        )
        klo, khi = self._bounds(ks) if plain_keys else (0, None)
        khalf = khi // 2 if khi is not None else None

        def check_map(v: Any) -> list[_Err] | None:
            if not isinstance(v, dict):
                return [_Err(_TYPE, v, name, "a map")]
            n = len(v)
            errs = _size_errors(v, name, n, lo, hi) if n < lo or (hi is not None and n > hi) else None
            if key is not None:
                for k in v:
                    if plain_keys and type(k) is str and klo <= len(k) and (khalf is None or len(k) <= khalf):
                        continue  # even at two UTF-16 units a character it fits
                    found = key(k)
                    if found:
                        e = found[0]
                        found = [_Err(_ITEMS, v, name, key_text)] if e.kind == _CONSTRAINT else found
                        errs = found if errs is None else errs + found
                        break  # reported once, on the map
            if value is None:
                return errs
            bad_value = False
            for k, x in v.items():
                if x is None:
                    continue
                found = value(x)
                if found:
                    nested, bad_value = _nest(found, v, name, value_text, ("k", k), bad_value)
                    if nested:
                        errs = nested if errs is None else errs + nested
            return errs
        return check_map

    @staticmethod
    def _bounds(s: dict) -> tuple[int, int | None]:
        return int(s.get("min", 0)), (int(s["max"]) if "max" in s else None)

    def _string(self, name: str, s: dict) -> Check:
        fam = self.family
        lo, hi = self._bounds(s) if fam.limits else (0, None)
        pattern = self._pattern(s["pattern"]) if fam.patterns and "pattern" in s else None
        enum = frozenset(s["enum"]) if fam.enums and s.get("enum") else None
        pattern_text = f"Member must satisfy regular expression pattern: {s.get('pattern')}"
        enum_text = f"Member must satisfy enum value set: [{', '.join(s.get('enum', ()))}]"
        lo_text = f"Member must have length greater than or equal to {lo}"
        hi_text = f"Member must have length less than or equal to {hi}"

        def check_string(v: Any) -> list[_Err] | None:
            if type(v) is not str:
                if isinstance(v, str):
                    v = str(v)
                else:
                    return [_Err(_TYPE, v, name, "a string")]
            errs = None
            if pattern is not None and pattern.fullmatch(v) is None:
                errs = [_Err(_CONSTRAINT, v, name, pattern_text)]
            if lo or hi is not None:
                n = len(v) if v.isascii() else len(v.encode("utf-16-le")) // 2
                if n < lo:
                    e = _Err(_CONSTRAINT, v, name, lo_text)
                    errs = [e] if errs is None else errs + [e]
                elif hi is not None and n > hi:
                    e = _Err(_CONSTRAINT, v, name, hi_text)
                    errs = [e] if errs is None else errs + [e]
            if enum is not None and v not in enum:
                e = _Err(_CONSTRAINT, v, name, enum_text)
                errs = [e] if errs is None else errs + [e]
            return errs
        return check_string

    def _blob(self, name: str, s: dict) -> Check:
        lo, hi = self._bounds(s)
        lo_text = f"Member must have length greater than or equal to {lo}"
        hi_text = f"Member must have length less than or equal to {hi}"

        def check_blob(v: Any) -> list[_Err] | None:
            if isinstance(v, (bytes, bytearray, memoryview)):
                n = len(v)
            elif isinstance(v, str):  # botocore accepts text for blobs; it is sent as UTF-8
                n = len(v.encode("utf-8"))
            elif hasattr(v, "read") or hasattr(v, "pieces"):  # a streaming body: its length is the transport's business
                return None
            else:
                return [_Err(_TYPE, v, name, "bytes")]
            if n < lo:
                return [_Err(_CONSTRAINT, v, name, lo_text)]
            if hi is not None and n > hi:
                return [_Err(_CONSTRAINT, v, name, hi_text)]
            return None
        return check_blob

    def _number(self, name: str, s: dict, t: str) -> Check:
        lo = s.get("min")
        hi = s.get("max")
        lo_text = f"Member must have value greater than or equal to {_num(lo)}"
        hi_text = f"Member must have value less than or equal to {_num(hi)}"
        integral = t in ("integer", "long", "short", "byte", "biginteger")
        kinds: tuple[type, ...] = (int,) if integral else (int, float, Decimal)
        type_text = "an integer" if integral else "a number"

        def check_number(v: Any) -> list[_Err] | None:
            if type(v) is bool or not isinstance(v, kinds):
                return [_Err(_TYPE, v, name, type_text)]
            if lo is not None and v < lo:
                return [_Err(_CONSTRAINT, v, name, lo_text)]
            if hi is not None and v > hi:
                return [_Err(_CONSTRAINT, v, name, hi_text)]
            return None
        return check_number

    def _pattern(self, source: str) -> re.Pattern | None:
        """The pattern compiled for ``fullmatch`` (Java's ``matches``), or None.

        ``re.ASCII`` because Java's ``\\w``, ``\\d`` and ``\\s`` are ASCII-only. A pattern
        Python cannot compile (``\\p{L}``, ``\\z``...) or reads differently (POSIX
        classes, set operations: Python warns) is skipped, never guessed at.
        """
        if source in self.patterns:
            return self.patterns[source]
        return _compile_pattern(source, self.patterns)


def _compile_pattern(source: str, cache: dict[str, re.Pattern | None]) -> re.Pattern | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compiled: re.Pattern | None = re.compile(source, re.ASCII)
    except (re.error, FutureWarning, DeprecationWarning, SyntaxWarning, OverflowError, RecursionError):
        compiled = None
    cache[source] = compiled
    return compiled


def pattern_for(source: str) -> re.Pattern | None:
    """How the validator reads a model pattern (None: skipped); for tests and tools."""
    return _compile_pattern(source, {})


# ---------------------------------------------------------------------------------
# values as Java prints them (error path only)


def _num(x: Any) -> str:
    """A model bound as the service prints it: JSON integers as is, others as doubles."""
    return _jdouble(x) if isinstance(x, float) else str(x)


def _jdouble(x: float) -> str:
    """Java's ``Double.toString``: plain from 1e-3 to 1e7, else ``d.dddE±n``."""
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if str(x).startswith("-") else "0.0"
    sign = "-" if x < 0 else ""
    d = Decimal(repr(abs(x)))
    digits = "".join(map(str, d.as_tuple().digits)).rstrip("0") or "0"
    exp = d.adjusted()
    if 1e-3 <= abs(x) < 1e7:
        if exp >= 0:
            whole, frac = digits[: exp + 1].ljust(exp + 1, "0"), digits[exp + 1:]
        else:
            whole, frac = "0", "0" * (-exp - 1) + digits
        return f"{sign}{whole}.{frac or '0'}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exp}"


def _java(v: Any) -> str:
    """A scalar as Java prints it (for the EXTRA_LIMITS messages)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _jdouble(v)
    return str(v)


_REDACTED = "*** Sensitive Data Redacted ***"


def _render(v: Any, shape: str | None, shapes: dict[str, dict], depth: int = 0) -> str:
    s = shapes.get(shape, {}) if shape else {}
    if depth and s.get("sensitive"):
        return _REDACTED
    if v is None:
        return "null"
    if depth > 8:
        return "..."
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, Decimal)):
        return str(v)
    if isinstance(v, float):
        return _jdouble(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (bytes, bytearray, memoryview)):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(v)} cap={len(v)}]"
    if isinstance(v, dt.datetime):
        u = v.astimezone(dt.timezone.utc) if v.tzinfo else v
        return u.strftime("%a %b %d %H:%M:%S UTC %Y")
    t = s.get("type")
    if isinstance(v, (list, tuple)):
        item = s["member"]["shape"] if t == "list" else None
        return "[" + ", ".join(_render(x, item, shapes, depth + 1) for x in v) + "]"
    if isinstance(v, dict):
        if t == "structure":
            members = s.get("members", {})
            body = ", ".join(
                f"{m[:1].lower() + m[1:]}={_render(v.get(m), ref['shape'], shapes, depth + 1)}"
                for m, ref in members.items()
            )
            return f"{shape}({body})"
        value = s["value"]["shape"] if t == "map" else None
        return "{" + ", ".join(f"{k}={_render(x, value, shapes, depth + 1)}" for k, x in v.items()) + "}"
    return str(v)


def _size_errors(v: Any, name: str, n: int, lo: int, hi: int | None) -> list[_Err]:
    """A list or map with too many or too few entries."""
    if hi is not None and n > hi:
        return [_Err(_CONSTRAINT, v, name, f"Member must have length less than or equal to {hi}")]
    return [_Err(_CONSTRAINT, v, name, f"Member must have length greater than or equal to {lo}")]


def _nest(found: list[_Err], v: Any, name: str, text: str, seg: tuple[str, Any], reported: bool) -> tuple[list[_Err], bool]:
    """An item's errors as the container reports them: a constraint on the item itself once
    per container (``Member must satisfy constraint: [...]``), deeper errors with the item's
    place added to their path. Returns them and whether the once-per-container one is out."""
    nested: list[_Err] = []
    for e in found:
        if e.kind == _CONSTRAINT and not e.segs:
            if not reported:
                reported = True
                nested.append(_Err(_ITEMS, v, name, text))
        else:
            e.segs.append(seg)
            nested.append(e)
    return nested, reported
