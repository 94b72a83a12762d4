"""SMS settings of the account. cloudlet sends no text messages (they go to the outbox),
so no number ever replies STOP: none is opted out, and the account is not in the SMS
sandbox (every number may be sent to)."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.sns import errors, model

Input = dict[str, Any]
Output = dict[str, Any]

KIND = "smsattrs"
SETTABLE = frozenset(
    {"MonthlySpendLimit", "DeliveryStatusIAMRole", "DeliveryStatusSuccessSamplingRate", "DefaultSenderID",
     "DefaultSMSType", "UsageReportS3Bucket"}
)


def set_sms_attributes(ctx: Context, req: Input) -> Output:
    given = {k: str(v) for k, v in req["attributes"].items()}
    for name, value in given.items():
        if name not in SETTABLE:
            raise errors.invalid(f"{name} is not a valid attribute")
        if name == "DefaultSMSType" and value not in ("Promotional", "Transactional"):
            raise errors.invalid("DefaultSMSType Reason: must be Promotional or Transactional")
    with ctx.tx() as tx:
        rec = tx.get(KIND, "")
        tx.put(KIND, "", {**(rec.value if rec else {}), **given})
    return {}


def get_sms_attributes(ctx: Context, req: Input) -> Output:
    with ctx.tx() as tx:
        rec = tx.get(KIND, "")
    attrs = rec.value if rec else {}
    names = req.get("attributes")
    if names:
        attrs = {k: v for k, v in attrs.items() if k in names}
    return {"attributes": attrs}


def check_if_phone_number_is_opted_out(ctx: Context, req: Input) -> Output:
    model.check_phone(req["phoneNumber"])
    return {"isOptedOut": False}


def list_phone_numbers_opted_out(ctx: Context, req: Input) -> Output:
    return {"phoneNumbers": []}


def opt_in_phone_number(ctx: Context, req: Input) -> Output:
    model.check_phone(req["phoneNumber"])
    return {}


def get_sms_sandbox_account_status(ctx: Context, req: Input) -> Output:
    return {"IsInSandbox": False}
