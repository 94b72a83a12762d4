"""Code signing as deployments meet it: finding a code signing config by ARN, and judging
a deployment package against the config its function uses.

cloudlet has no AWS Signer, so no package or layer it holds carries a signature: every
deployment is of unsigned code. A config whose ``UntrustedArtifactOnDeployment`` is
``Enforce`` therefore refuses every CreateFunction/UpdateFunctionCode (and layers added by
UpdateFunctionConfiguration) of a function that uses it, with the CodeVerificationFailed
error AWS answers for an unsigned package; ``Warn`` lets it through and records the
``SignatureValidationErrors`` metric (``AWS/Lambda``), as AWS does for a deployment that
failed validation under Warn. Code already deployed keeps running either way: AWS checks
signatures at deployment, never at invocation.
"""

from __future__ import annotations

import re
from typing import Any

from cloudlet.core import clock, metrics
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.lambda_ import errors, storage
from cloudlet.services.lambda_.metrics import COUNT, NAMESPACE

ARN_PATTERN = (r"arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}:\d{12}:"
               r"code-signing-config:csc-[a-z0-9]{17}")
_ARN = re.compile(ARN_PATTERN)
ENFORCE = "Enforce"
WARN = "Warn"


def check_arn(arn: str, field: str = "codeSigningConfigArn") -> None:
    """The request validator's answer to an ARN that is not a code signing config's."""
    if not _ARN.fullmatch(arn):
        raise errors.validation(field, arn, f"Member must satisfy regular expression pattern: {ARN_PATTERN}")


def csc_id(arn: str) -> str:
    return arn.rsplit(":", 1)[1]


def find(t: Tx, arn: str) -> dict[str, Any] | None:
    """The stored record ({"config", "tags"}) of the config an ARN names in `t`'s account
    and region, or None (an ARN of another account or region names nothing here)."""
    rec = t.get(storage.CSC, csc_id(arn))
    if rec is None or rec.value["config"]["CodeSigningConfigArn"] != arn:
        return None
    return rec.value


def not_found(arn: str) -> ServiceError:
    """A config named where one is used (CreateFunction, PutFunctionCodeSigningConfig)."""
    return ServiceError(
        "CodeSigningConfigNotFoundException",
        f"The code signing configuration cannot be found. Check that the provided configuration is not deleted: {arn}.",
        404,
        fields={"Type": "User"},
    )


def verification_failed(what: str) -> ServiceError:
    """AWS's answer to an unsigned package (or layer) under an Enforce policy; `what` is
    the function's name (or the layer version's ARN)."""
    return ServiceError(
        "CodeVerificationFailedException",
        "Lambda cannot deploy the function. The function or layer might be signed using a signature that the "
        f"client is not configured to accept. Check the provided signature for {what}.",
        400,
        fields={"Type": "User"},
    )


def config_for(t: Tx, arn: str) -> dict[str, Any]:
    """The config a deployment names (CreateFunction's CodeSigningConfigArn)."""
    check_arn(arn)
    rec = find(t, arn)
    if rec is None:
        raise not_found(arn)
    return rec["config"]


def of_function(t: Tx, fn: dict[str, Any]) -> dict[str, Any] | None:
    """The config the function uses, or None (none set, or the one set was deleted)."""
    arn = fn.get("code_signing")
    if not arn:
        return None
    rec = find(t, arn)
    return None if rec is None else rec["config"]


def judge_unsigned(gateway: Any, account: str, region: str, function_name: str,
                   config: dict[str, Any] | None, what: str | None = None) -> None:
    """An unsigned package (or layer) deployed to a function using `config`: refused under
    Enforce; under Warn it deploys and the warning is counted in SignatureValidationErrors.
    Call it before the deployment is stored (Warn's metric is recorded here, so a later
    failure of the same request still counts one validation failure, as AWS counts it at
    validation)."""
    if config is None:
        return
    if config["CodeSigningPolicies"].get("UntrustedArtifactOnDeployment", WARN) == ENFORCE:
        raise verification_failed(what or function_name)
    if gateway is None:
        return
    now = clock.now()
    for dims in ({"FunctionName": function_name}, {}):
        metrics.record_many(gateway, account, region, NAMESPACE, dims, [("SignatureValidationErrors", 1.0, COUNT)], now)
