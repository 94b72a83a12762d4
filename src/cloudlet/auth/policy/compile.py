"""Policy documents: validated as IAM / Organizations validate them, compiled for evaluation.

Validation messages are AWS's MalformedPolicyDocument texts. Compilation turns every Action,
Resource and Principal element into matchers built once per policy text; the result is cached
by (text, kind), so the same document parses once per process.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Callable, Pattern

from cloudlet.auth.policy import patterns
from cloudlet.auth.policy.conditions import Condition, split_operator
from cloudlet.auth.policy.model import KINDS, Kind, PolicyError, Principal

# AWS's wording (IAM API MalformedPolicyDocument messages as users report them).
INVALID_JSON = "This policy contains invalid Json"
SYNTAX = "Syntax errors in policy."
LEGACY = "The policy failed legacy parsing"
BAD_VERSION = "The policy must contain a valid version string"
NO_ACTIONS = "Policy statement must contain actions."
NO_RESOURCES = "Policy statement must contain resources."
NO_PRINCIPAL_ALLOWED = "Policy document should not specify a principal."
MISSING_PRINCIPAL = "Missing required field Principal"
PROHIBITED_RESOURCE = "Has prohibited field Resource"
VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."
SID_CHARS = ("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the "
             "regular expression [0-9A-Za-z]*")
SID_UNIQUE_IAM = "The Statement Ids in the policy are not unique"
SID_UNIQUE = "Statement IDs (SID) in a single policy must be unique."
RESOURCE_VENDOR = "Resource vendor must be fully qualified and cannot contain regexes."
# Organizations answers every malformed SCP / RCP with one message.
ORG_POLICY = "The provided policy document does not meet the requirements of the specified policy type."

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP = {"Version", "Id", "Statement"}
_STMT = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
         "NotPrincipal", "Condition"}
_SID = re.compile(r"^[0-9A-Za-z]*$")
_ACCOUNT = re.compile(r"^\d{12}$")
_PRINCIPAL_KEYS = ("AWS", "Service", "Federated", "CanonicalUser")
_IAM_KINDS = ("identity", "trust", "boundary", "session")

# how a resource-policy statement names the caller (stronger number wins):
NAMED_NONE, NAMED_ACCOUNT, NAMED_ROLE, NAMED_DIRECT = 0, 1, 2, 3


class _Error(Exception):
    pass


def _fail(detail: str) -> None:
    raise _Error(detail)


# ---- matchers ------------------------------------------------------------------------------

class Matcher:
    """A set of glob patterns (Action or Resource element) with literal ones in a set."""

    __slots__ = ("everything", "exact", "regex", "templates", "ignore_case")

    def __init__(self, values: list[str], ignore_case: bool, variables: bool) -> None:
        self.ignore_case = ignore_case
        self.everything = False
        exact: set[str] = set()
        globs: list[str] = []
        templates = []
        for v in values:
            parts = patterns.parse_template(v) if variables else None
            if parts is not None:
                build = patterns.resolve_glob_ci if ignore_case else patterns.resolve_glob
                templates.append(patterns.Template(parts, build))
                continue
            if ignore_case:
                v = v.lower()
            if v == "*":
                self.everything = True
            elif patterns.has_wildcard(v):
                globs.append(patterns.glob_fragment(v))
            else:
                exact.add(v)
        self.exact = frozenset(exact)
        self.regex: Pattern[str] | None = (
            patterns.compile_regex("(?:" + "|".join(globs) + ")") if globs else None)
        self.templates = tuple(templates)

    def static_match(self, value: str) -> bool:
        """``value`` already lower-cased when the matcher ignores case."""
        return (self.everything or value in self.exact
                or (self.regex is not None and self.regex.fullmatch(value) is not None))

    def match(self, value: str, lookup: Callable[[str], Any]) -> bool:
        if self.static_match(value):
            return True
        for t in self.templates:
            rx = t.resolve(lookup)
            if rx is not None and rx.fullmatch(value) is not None:  # type: ignore[attr-defined]
                return True
        return False


class PrincipalMatcher:
    """A Principal / NotPrincipal element."""

    __slots__ = ("anyone", "accounts", "arns", "services", "federated", "canonical")

    def __init__(self, value: Any) -> None:
        self.anyone = False
        accounts: set[str] = set()
        arns: set[str] = set()
        services: set[str] = set()
        federated: set[str] = set()
        canonical: set[str] = set()
        if value == "*":
            self.anyone = True
        else:
            for k, vals in value.items():
                for v in vals:
                    if k == "AWS":
                        if v == "*":
                            self.anyone = True
                        elif _ACCOUNT.match(v):
                            accounts.add(v)
                        elif v.endswith(":root") and v.startswith("arn:"):
                            accounts.add(v.split(":")[4])
                        else:
                            arns.add(v)
                    elif k == "Service":
                        if v == "*":
                            self.anyone = True
                        services.add(v.lower())
                    elif k == "Federated":
                        federated.add(v)
                    else:
                        canonical.add(v)
        self.accounts = frozenset(accounts)
        self.arns = frozenset(arns)
        self.services = frozenset(services)
        self.federated = frozenset(federated)
        self.canonical = frozenset(canonical)

    def how(self, p: Principal) -> int:
        """How this element names ``p``: NAMED_DIRECT (its own ARN, or everyone), NAMED_ROLE
        (a session, through its role's ARN), NAMED_ACCOUNT (its account) or NAMED_NONE."""
        if self.anyone:
            return NAMED_DIRECT
        kind = p.kind
        if kind == "service":
            return NAMED_DIRECT if p.arn.lower() in self.services else NAMED_NONE
        if kind == "anonymous":
            return NAMED_NONE
        if p.arn in self.arns or p.arn in self.federated or p.arn in self.canonical:
            return NAMED_DIRECT
        if p.role_arn is not None and p.role_arn in self.arns:
            return NAMED_ROLE
        if p.account and p.account in self.accounts:
            return NAMED_DIRECT if kind == "root" else NAMED_ACCOUNT
        return NAMED_NONE


class Statement:
    __slots__ = ("sid", "allow", "actions", "not_action", "resources", "not_resource",
                 "principal", "not_principal", "conditions")

    def __init__(self) -> None:
        self.sid: str | None = None
        self.allow = True
        self.actions: Matcher | None = None
        self.not_action = False
        self.resources: Matcher | None = None  # None: no Resource element (trust policies)
        self.not_resource = False
        self.principal: PrincipalMatcher | None = None
        self.not_principal = False
        self.conditions: tuple[Condition, ...] = ()

    def action_matches(self, action_l: str) -> bool:
        hit = self.actions.static_match(action_l)  # type: ignore[union-attr]
        return not hit if self.not_action else hit

    def resource_matches(self, resource: str, lookup: Callable[[str], Any]) -> bool:
        if self.resources is None:
            return True
        hit = self.resources.match(resource, lookup)
        return not hit if self.not_resource else hit

    def conditions_hold(self, lookup: Callable[[str], Any]) -> bool:
        for c in self.conditions:
            if not c.test(lookup):
                return False
        return True


class Policy:
    """A validated, compiled policy document. Immutable once built; safe to share."""

    __slots__ = ("kind", "version", "text", "document", "statements", "_by_action")

    def __init__(self, kind: Kind, version: str | None, text: str, document: dict,
                 statements: tuple[Statement, ...]) -> None:
        self.kind = kind
        self.version = version
        self.text = text
        self.document = document
        self.statements = statements
        self._by_action: dict[str, tuple[Statement, ...]] = {}

    def for_action(self, action_l: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction covers ``action_l`` (memoised per action)."""
        hit = self._by_action.get(action_l)
        if hit is None:
            hit = tuple(s for s in self.statements if s.action_matches(action_l))
            if len(self._by_action) > 2048:
                self._by_action.clear()
            self._by_action[action_l] = hit
        return hit

    def __repr__(self) -> str:
        return f"Policy({self.kind}, {len(self.statements)} statements)"


# ---- validation + compile ------------------------------------------------------------------

def _strings(value: Any, *, empty_error: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        if not value:
            _fail(empty_error)
        if not all(isinstance(v, str) for v in value):
            _fail(SYNTAX)
        return value
    _fail(SYNTAX)
    return []


def _check_action(a: str) -> None:
    if a == "*":
        return
    if ":" not in a:
        _fail(VENDOR)
    if a.count(":") > 1:
        _fail(ONE_COLON)
    vendor, name = a.split(":")
    if not vendor or not re.match(r"^[A-Za-z0-9*?-]+$", vendor) or not name:
        _fail(VENDOR)


def _check_resource(r: str) -> None:
    if r == "*":
        return
    parts = r.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        _fail(f'Resource {r} must be in ARN format or "*".')
    if parts[2] and patterns.has_wildcard(parts[2]) or not parts[2]:
        _fail(RESOURCE_VENDOR)


def _principal_value(value: Any, kind: Kind) -> Any:
    if isinstance(value, str):
        if value != "*":
            _fail(f'Invalid principal in policy: "{value}"')
        return "*"
    if not isinstance(value, dict) or not value:
        _fail(SYNTAX)
    out: dict[str, list[str]] = {}
    for k, v in value.items():
        if k not in _PRINCIPAL_KEYS:
            _fail(SYNTAX)
        vals = _strings(v, empty_error=SYNTAX)
        for x in vals:
            if k == "AWS" and not (x == "*" or _ACCOUNT.match(x) or x.startswith("arn:")):
                _fail(f'Invalid principal in policy: "AWS":"{x}"')
            if k == "AWS" and x.startswith("arn:") and x.split(":")[2:3] not in (["iam"], ["sts"]):
                _fail(f'Invalid principal in policy: "AWS":"{x}"')
        out[k] = vals
    return out


def _conditions(block: Any, variables: bool) -> tuple[Condition, ...]:
    if not isinstance(block, dict):
        _fail(SYNTAX)
    out = []
    for op_name, keys in block.items():
        split = split_operator(op_name) if isinstance(op_name, str) else None
        if split is None:
            _fail(SYNTAX)
        if not isinstance(keys, dict):
            _fail(SYNTAX)
        qualifier, base, if_exists = split  # type: ignore[misc]
        for key, values in keys.items():
            if ":" not in key:
                _fail(VENDOR)
            if isinstance(values, (str, int, float, bool)):
                values = [values]
            if not isinstance(values, list) or not all(
                    isinstance(v, (str, int, float, bool)) for v in values):
                _fail(SYNTAX)
            texts = [("true" if v else "false") if isinstance(v, bool) else str(v) for v in values]
            out.append(Condition(qualifier, base, if_exists, key, texts, variables))
    return tuple(out)


def _statement(raw: Any, kind: Kind, variables: bool) -> Statement:
    if not isinstance(raw, dict):
        _fail(SYNTAX)
    for k in raw:
        if k not in _STMT:
            _fail(SYNTAX)
    st = Statement()
    sid = raw.get("Sid")
    if sid is not None:
        if not isinstance(sid, str):
            _fail(SYNTAX)
        if kind != "resource" and not _SID.match(sid):
            _fail(SID_CHARS)
        st.sid = sid
    effect = raw.get("Effect")
    if effect is None:
        _fail(SYNTAX)
    if effect not in ("Allow", "Deny"):
        _fail(LEGACY if isinstance(effect, str) else SYNTAX)
    st.allow = effect == "Allow"

    has_p, has_np = "Principal" in raw, "NotPrincipal" in raw
    if kind in ("identity", "boundary", "session"):
        if has_p or has_np:
            _fail(NO_PRINCIPAL_ALLOWED)
    elif kind == "scp":
        if has_p or has_np:
            _fail(NO_PRINCIPAL_ALLOWED)
    else:
        if has_p and has_np:
            _fail(SYNTAX)
        if not (has_p or has_np):
            _fail(MISSING_PRINCIPAL)
        if has_np and kind != "resource":
            # NotPrincipal belongs to resource-based policies (IAM UG, NotPrincipal)
            _fail(SYNTAX)
        value = _principal_value(raw["Principal"] if has_p else raw["NotPrincipal"], kind)
        if kind == "rcp" and value != "*" and value != {"AWS": ["*"]}:
            _fail('RCP statements must have "Principal": "*"')
        st.principal = PrincipalMatcher(value)
        st.not_principal = has_np

    has_a, has_na = "Action" in raw, "NotAction" in raw
    if has_a and has_na:
        _fail(SYNTAX)
    if not (has_a or has_na):
        _fail(NO_ACTIONS)
    actions = _strings(raw["Action"] if has_a else raw["NotAction"], empty_error=NO_ACTIONS)
    for a in actions:
        _check_action(a)
    st.actions = Matcher(actions, ignore_case=True, variables=False)
    st.not_action = has_na

    has_r, has_nr = "Resource" in raw, "NotResource" in raw
    if has_r and has_nr:
        _fail(SYNTAX)
    if kind == "trust":
        if has_r or has_nr:
            _fail(PROHIBITED_RESOURCE)
    elif not (has_r or has_nr):
        _fail(NO_RESOURCES)
    else:
        resources = _strings(raw["Resource"] if has_r else raw["NotResource"],
                             empty_error=NO_RESOURCES)
        for r in resources:
            _check_resource(r)
        st.resources = Matcher(resources, ignore_case=False, variables=variables)
        st.not_resource = has_nr

    if "Condition" in raw:
        st.conditions = _conditions(raw["Condition"], variables)
    return st


def _build(doc: Any, kind: Kind, text: str) -> Policy:
    if not isinstance(doc, dict):
        _fail(SYNTAX)
    for k in doc:
        if k not in _TOP:
            _fail(SYNTAX)
    version = doc.get("Version")
    if "Version" in doc and version not in VERSIONS:
        _fail(BAD_VERSION)
    if "Statement" not in doc:
        _fail(SYNTAX)
    raw = doc["Statement"]
    raws = raw if isinstance(raw, list) else [raw]
    # Policy variables exist only in the 2012-10-17 language; before it ${...} is literal text.
    variables = version == "2012-10-17"
    statements = tuple(_statement(r, kind, variables) for r in raws)
    seen: set[str] = set()
    for st in statements:
        if st.sid:
            if st.sid in seen:
                _fail(SID_UNIQUE if kind == "resource" else SID_UNIQUE_IAM)
            seen.add(st.sid)
    return Policy(kind, version, text, doc, statements)


@lru_cache(maxsize=4096)
def _parse_text(text: str, kind: Kind) -> Policy:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise PolicyError(ORG_POLICY if kind in ("scp", "rcp") else INVALID_JSON, INVALID_JSON) from None
    return _compile(doc, kind, text)


def _compile(doc: Any, kind: Kind, text: str) -> Policy:
    try:
        return _build(doc, kind, text)
    except _Error as e:
        detail = str(e)
        raise PolicyError(ORG_POLICY if kind in ("scp", "rcp") else detail, detail) from None


def parse(doc: str | dict, kind: Kind) -> Policy:
    """Validate as IAM/Organizations validate (raise PolicyError with AWS's message) and
    compile for fast evaluation. Cached by (text, kind) — the same text parses once."""
    if kind not in KINDS:
        raise ValueError(f"unknown policy kind {kind!r}")
    if isinstance(doc, (bytes, bytearray)):
        doc = doc.decode("utf-8", "replace")
    if isinstance(doc, str):
        return _parse_text(doc, kind)
    return _parse_text(json.dumps(doc, separators=(",", ":")), kind)
