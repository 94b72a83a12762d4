"""The IAM policy language: validation, compilation and evaluation (pure logic, no I/O).

    policy = parse(text, "identity")          # raises PolicyError with AWS's message
    evaluate(Request(...), PolicySet(identity=[policy], ...)) -> Decision
"""

from cloudlet.auth.policy.compile import Policy, parse
from cloudlet.auth.policy.evaluate import evaluate, is_allowed_by
from cloudlet.auth.policy.model import Decision, Kind, PolicyError, PolicySet, Principal, Request

__all__ = [
    "Decision",
    "Kind",
    "Policy",
    "PolicyError",
    "PolicySet",
    "Principal",
    "Request",
    "evaluate",
    "is_allowed_by",
    "parse",
]
