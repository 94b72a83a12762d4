"""Virtual MFA devices: created with a TOTP seed, enabled for a user by two consecutive
codes (RFC 6238 on the cloudlet clock), then checked by `principals.verify_mfa`."""

from __future__ import annotations

import base64
import os
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.iam import errors, model, storage, totp, views

Input = dict[str, Any]
Output = dict[str, Any]

MAX_DEVICES_PER_USER = 8
#: how many steps back AWS accepts the first of the two codes from (the user types them late)
_ENABLE_WINDOW = 3


def _put(t: Tx, rec: dict[str, Any]) -> None:
    t.put("mfa", rec["SerialNumber"], rec, attrs={"user": (rec.get("UserName") or "").lower()})


def _device(t: Tx, serial: str) -> dict[str, Any]:
    rec = t.get("mfa", serial)
    if rec is None:
        raise errors.no_such_entity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
    return rec.value


def create_virtual_mfa_device(ctx: Context, req: Input) -> Output:
    path = model.norm_path(req.get("Path"))
    serial = model.arn(ctx.account, "mfa", path, req["VirtualMFADeviceName"])
    model.check_new_tags(req.get("Tags"))
    seed = os.urandom(20)  # 160 bits, as RFC 4226 recommends
    rec = {"SerialNumber": serial, "Seed": seed, "UserName": None, "EnableDate": None,
           "Tags": model.merge_tags({}, req.get("Tags") or [], "MFADevice")}
    with storage.write(ctx) as t:
        if t.get("mfa", serial) is not None:
            raise errors.already_exists("MFADevice entity at the same path and name already exists.")
        _put(t, rec)
    out: Output = {"SerialNumber": serial, "Base32StringSeed": base64.b32encode(seed)}
    if rec["Tags"]:
        out["Tags"] = model.tag_list(rec["Tags"])
    return {"VirtualMFADevice": out}


def enable_mfa_device(ctx: Context, req: Input) -> Output:
    code1, code2 = req["AuthenticationCode1"], req["AuthenticationCode2"]
    with storage.write(ctx) as t:
        user = storage.require(t, "user", req["UserName"])
        dev = _device(t, req["SerialNumber"])
        if dev.get("EnableDate"):
            raise errors.already_exists("MFA Device is already in use.")
        if len(t.find("mfa", "user", user["Name"].lower())) >= MAX_DEVICES_PER_USER:
            raise errors.limit_exceeded(f"Cannot exceed quota for MFADevicesPerUser: {MAX_DEVICES_PER_USER}")
        now = totp.counter_at(clock.time_s())
        first = next(
            (c for c in range(now - _ENABLE_WINDOW, now + 1)
             if totp.code_at(dev["Seed"], c) == code1 and totp.code_at(dev["Seed"], c + 1) == code2),
            None,
        )
        if first is None:
            raise ServiceError("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)
        dev.update(UserName=user["Name"], EnableDate=model.now(), LastCounter=first + 1)
        _put(t, dev)
    return {}


def deactivate_mfa_device(ctx: Context, req: Input) -> Output:
    serial = req["SerialNumber"]
    with storage.write(ctx) as t:
        rec = t.get("mfa", serial)
        name = req.get("UserName")
        if rec is None or not rec.value.get("EnableDate") or (
            name and (rec.value["UserName"] or "").lower() != name.lower()
        ):
            raise errors.no_such_entity(f"MFA Device with serial number {serial} does not exist.")
        dev = rec.value
        dev.update(UserName=None, EnableDate=None, LastCounter=-1)
        _put(t, dev)
    return {}


def _user_name(ctx: Context, req: Input) -> str | None:
    if req.get("UserName"):
        return req["UserName"]
    resource = ctx.principal_arn.split(":", 5)[-1]
    return resource.rsplit("/", 1)[1] if resource.startswith("user/") else None


def list_mfa_devices(ctx: Context, req: Input) -> Output:
    name = _user_name(ctx, req)
    with ctx.tx() as t:
        if name is not None:
            user = storage.require(t, "user", name)
            devices = [d for d in storage.find(t, "mfa", "user", user["Name"].lower()) if d.get("EnableDate")]
        else:  # the root user's own devices
            devices = [d for d in storage.find(t, "mfa", "user", "") if d.get("EnableDate")]
    out = model.page(devices, req, lambda d: d["SerialNumber"], "MFADevices")
    out["MFADevices"] = [
        {"UserName": d["UserName"], "SerialNumber": d["SerialNumber"], "EnableDate": d["EnableDate"]}
        for d in out["MFADevices"]
    ]
    return out


def get_mfa_device(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = t.get("mfa", req["SerialNumber"])
    if rec is None or not rec.value.get("EnableDate"):
        raise errors.no_such_entity(f"MFA Device with serial number {req['SerialNumber']} does not exist.")
    d = rec.value
    return {"UserName": d["UserName"], "SerialNumber": d["SerialNumber"], "EnableDate": d["EnableDate"]}


def list_virtual_mfa_devices(ctx: Context, req: Input) -> Output:
    status = req.get("AssignmentStatus") or "Any"
    with ctx.tx() as t:
        devices = [r.value for r in t.scan("mfa")]
        if status == "Assigned":
            devices = [d for d in devices if d.get("EnableDate")]
        elif status == "Unassigned":
            devices = [d for d in devices if not d.get("EnableDate")]
        out = model.page(devices, req, lambda d: d["SerialNumber"], "VirtualMFADevices")
        rows = []
        for d in out["VirtualMFADevices"]:
            row: dict[str, Any] = {"SerialNumber": d["SerialNumber"]}
            if d.get("EnableDate"):
                row["EnableDate"] = d["EnableDate"]
                user = storage.get(t, "user", d["UserName"])
                if user is not None:
                    row["User"] = views.user(user)
            rows.append(row)
        out["VirtualMFADevices"] = rows
    return out


def delete_virtual_mfa_device(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        dev = _device(t, req["SerialNumber"])
        if dev.get("EnableDate"):
            raise errors.delete_conflict("MFA VirtualDevice in use. Must deactivate first.")
        t.delete("mfa", dev["SerialNumber"])
    return {}


def tag_mfa_device(ctx: Context, req: Input) -> Output:
    model.check_new_tags(req["Tags"])
    with storage.write(ctx) as t:
        dev = _device(t, req["SerialNumber"])
        dev["Tags"] = model.merge_tags(dev["Tags"], req["Tags"], "MFADevice")
        _put(t, dev)
    return {}


def untag_mfa_device(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        dev = _device(t, req["SerialNumber"])
        dev["Tags"] = model.untag(dev["Tags"], req["TagKeys"])
        _put(t, dev)
    return {}


def list_mfa_device_tags(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        dev = _device(t, req["SerialNumber"])
    return model.page(model.tag_list(dev["Tags"]), req, lambda tag: tag["Key"], "Tags")
