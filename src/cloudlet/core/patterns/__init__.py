"""Event patterns: EventBridge rules and SNS subscription filter policies.

One engine serves both because AWS runs both on the same rule language (the open-source
event-ruler): the same operators, the same error texts, the same quirks. The two dialects differ
only in what they accept around it (SNS: no wildcards, at most five keys, at most 150
combinations, no nesting on the ``MessageAttributes`` scope) and in how errors are worded.

    matcher = compile_pattern('{"source": ["aws.ec2"]}')           # parse + validate once
    matcher.matches({"source": "aws.ec2", "detail": {}})             # then only closures run

Semantics (as AWS documents them, and as its engine behaves where the documents are silent):

* a pattern names *leaf* fields by path; each lists alternatives, any of which may match; all
  fields must match (``$or`` lists alternative sets of fields);
* the event is seen as its leaves: arrays are flattened (any element may match), objects are
  not leaves (``exists`` on an object is false), empty arrays have no leaves, ``null`` is a leaf;
* two fields matched inside objects that are different elements of the same array do not
  match together (array consistency);
* keys are joined with dots, so ``{"a": {"b": [1]}}`` and ``{"a.b": [1]}`` name the same field
  in patterns and events alike ("Considerations when creating event patterns");
* numbers compare by value (``[300]`` matches ``3.0e2``); EventBridge compares numerically only
  within +-5.0e9 with at most six decimals, as its engine does.

Errors carry AWS's wording, including the parser location AWS appends
(``\\n at [Source: (String)"..."; line: 1, column: 10]``).

Modules: ``common`` (constants, errors), ``lexer`` (JSON tokens with AWS's error columns),
``values`` (leaf tests: numbers, CIDR, wildcards), ``compiler`` (the rule grammar),
``limits`` (SNS's key and combination limits), ``matcher`` (matching, and the entry points).
"""

from cloudlet.core.patterns.common import EVENTBRIDGE, MESSAGE_ATTRIBUTES, MESSAGE_BODY, SNS, PatternError
from cloudlet.core.patterns.matcher import Matcher, compile_pattern

__all__ = ["EVENTBRIDGE", "MESSAGE_ATTRIBUTES", "MESSAGE_BODY", "SNS", "Matcher", "PatternError", "compile_pattern"]
