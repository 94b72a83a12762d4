"""The forms a FunctionName takes, and the ARNs Lambda builds.

AWS accepts a function as ``my-function``, ``my-function:v1`` (name and qualifier),
``123456789012:function:my-function`` (partial ARN) or the full ARN, each optionally
ending in ``:<qualifier>`` (a version number, ``$LATEST`` or an alias name).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cloudlet.core.arns import partition_of
from cloudlet.services.lambda_ import errors

_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_ALIAS = re.compile(r"(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}")
_VERSION = re.compile(r"[0-9]+")
LATEST = "$LATEST"


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    base = f"arn:{partition_of(region)}:lambda:{region}:{account}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def layer_arn(region: str, account: str, name: str, version: int | None = None) -> str:
    base = f"arn:{partition_of(region)}:lambda:{region}:{account}:layer:{name}"
    return f"{base}:{version}" if version is not None else base


def esm_arn(region: str, account: str, uuid: str) -> str:
    return f"arn:{partition_of(region)}:lambda:{region}:{account}:event-source-mapping:{uuid}"


def code_signing_config_arn(region: str, account: str, csc_id: str) -> str:
    return f"arn:{partition_of(region)}:lambda:{region}:{account}:code-signing-config:{csc_id}"


def runtime_version_arn(region: str, runtime: str) -> str:
    """The runtime version a function runs: cloudlet has one version of each runtime, so
    its ARN is derived from the runtime's name alone (the same in every region but for
    the prefix, as AWS's are)."""
    digest = hashlib.sha256(f"cloudlet-runtime:{runtime}".encode()).hexdigest()
    return f"arn:{partition_of(region)}:lambda:{region}::runtime:{digest}"


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A function as a request names it: where it lives, its name, and the qualifier if any."""

    account: str
    region: str
    name: str
    qualifier: str | None

    @property
    def arn(self) -> str:
        return function_arn(self.region, self.account, self.name)

    @property
    def qualified_arn(self) -> str:
        """The ARN with the qualifier when there is one (the unqualified ARN otherwise)."""
        return function_arn(self.region, self.account, self.name, self.qualifier)


def parse(text: str, account: str, region: str, qualifier: str | None = None) -> FunctionRef:
    """Read a FunctionName (any form) and an optional Qualifier parameter.

    A qualifier in the name and a different ``Qualifier`` is AWS's InvalidParameterValue;
    a full ARN of another region cannot be reached from this one.
    """
    parts = text.split(":")
    derived: str | None = None
    if parts[0] == "arn":
        if len(parts) not in (7, 8) or parts[2] != "lambda" or parts[5] != "function":
            raise errors.invalid(f"1 validation error detected: Value '{text}' at 'functionName' failed to satisfy "
                                 "constraint: Member must satisfy regular expression pattern")
        arn_region, account, name = parts[3], parts[4], parts[6]
        derived = parts[7] if len(parts) == 8 else None
        if arn_region != region:
            raise errors.invalid(f"Functions from '{arn_region}' are not reachable in this region ('{region}')")
    elif len(parts) >= 3 and parts[1] == "function":
        account, name = parts[0], parts[2]
        derived = parts[3] if len(parts) == 4 else None
        if len(parts) > 4:
            raise errors.invalid(f"Invalid function name: {text}")
    elif len(parts) <= 2:
        name = parts[0]
        derived = parts[1] if len(parts) == 2 else None
    else:
        raise errors.invalid(f"Invalid function name: {text}")
    if not _NAME.fullmatch(name):
        raise errors.invalid(f"Invalid function name: {text}" if len(name) <= 64 else
                             f"1 validation error detected: Value '{text}' at 'functionName' failed to satisfy "
                             "constraint: Member must have length less than or equal to 64")
    if derived == "":
        derived = None
    if qualifier == "":
        qualifier = None
    if derived is not None and qualifier is not None and derived != qualifier:
        raise errors.invalid("The derived qualifier from the function name does not match the specified qualifier.")
    return FunctionRef(account, region, name, derived or qualifier)


def is_version(qualifier: str) -> bool:
    return qualifier == LATEST or bool(_VERSION.fullmatch(qualifier))


def valid_alias(name: str) -> bool:
    return bool(_ALIAS.fullmatch(name))


def parse_layer(text: str, account: str, region: str) -> tuple[str, str, str]:
    """A LayerName (name or layer ARN) -> (account, region, name)."""
    if text.startswith("arn:"):
        parts = text.split(":")
        if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "layer":
            raise errors.invalid(f"Invalid layer name: {text}")
        return parts[4], parts[3], parts[6]
    return account, region, text


def parse_layer_version_arn(text: str) -> tuple[str, str, str, int] | None:
    """``arn:aws:lambda:<region>:<account>:layer:<name>:<version>`` -> parts, or None."""
    parts = text.split(":")
    if len(parts) != 8 or parts[0] != "arn" or parts[2] != "lambda" or parts[5] != "layer" or not parts[7].isdecimal():
        return None
    return parts[4], parts[3], parts[6], int(parts[7])
