"""Constants and errors shared by the pattern modules."""

from __future__ import annotations






EVENTBRIDGE = "eventbridge"
SNS = "sns"
#: SNS FilterPolicyScope values
MESSAGE_ATTRIBUTES = "MessageAttributes"
MESSAGE_BODY = "MessageBody"

SNS_MAX_KEYS = 5
SNS_MAX_COMBINATIONS = 150
#: EventBridge compares numbers only inside this range, to six decimals (event-ruler)
NUMERIC_LIMIT = 5e9
#: simultaneously live wildcard states one field may have (event-ruler's complexity check)
WILDCARD_COMPLEXITY_LIMIT = 10
#: $or alternatives multiply out; past this a pattern is refused as too complex (our guard:
#: AWS documents no number, and the expansion is exponential in nested $or)
MAX_BRANCHES = 1000

_EB_PREFIX = "Event pattern is not valid. Reason: "
_SNS_PREFIX = "Invalid parameter: "
_SNS_SUBSCRIBE_PREFIX = "Invalid parameter: Attributes Reason: "
_TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character "
    "sequences after a wildcard character"
)
#: names that may not be fields inside a "$or" branch (event-ruler reserves them)
_OR_RESERVED = frozenset(
    "exactly equals-ignore-case prefix suffix anything-but exists wildcard numeric cidr "
    "= < <= > >= regex not-wildcard not-equals-ignore-case date-after date-on-or-after "
    "date-before date-on-or-before in-date-range ip-address-in-range "
    "ip-address-not-in-range".split()
)


class PatternError(ValueError):
    """An invalid pattern; str(err) is the message AWS gives (EventBridge: InvalidEventPatternException's message; SNS: the InvalidParameter message for FilterPolicy).

    ``reason`` is the text after AWS's prefix. SNS words the prefix differently for Subscribe
    (``Invalid parameter: Attributes Reason: ...``) than for SetSubscriptionAttributes
    (``Invalid parameter: ...``, the default ``str``): use ``subscribe_message`` there.
    """

    def __init__(self, message: str, reason: str, subscribe_message: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.subscribe_message = subscribe_message or message


class _Invalid(Exception):
    """Internal: a rule-language error before the dialect wraps it."""

    def __init__(self, reason: str, kind: str = "policy", located: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # "policy" (FilterPolicy: ...) or "scope" (SNS nesting message)
        self.located = located  # reason already ends with the parser location

