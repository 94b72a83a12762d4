"""GetAccessKeyInfo: the account an access key id belongs to."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.sts import issue, sessions


def get_access_key_info(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    key = req["AccessKeyId"]
    gw = issue.gateway(ctx)
    account: str | None = None
    if key.startswith("ASIA"):
        session = sessions.session_info(gw, key, include_expired=True)
        account = session.account if session is not None else sessions.account_of_key(key)
    elif key.startswith("AKIA"):
        try:
            from cloudlet.services.iam import principals

            found = principals.lookup_access_key(gw, key)
        except ImportError:
            found = None
        account = found.account_id if found is not None else None
    if account is None:
        found = gw.credentials.lookup(key)  # configured keys and the 12-digit account roots
        account = found.account_id if found is not None else None
    if account is None and key[:4] in ("AKIA", "ASIA"):
        account = sessions.account_of_key(key)  # AWS reads the account from the id itself
    if account is None:
        # AWS decodes the account from the id itself; an id cloudlet neither issued nor
        # knows carries none it can read
        raise ServiceError("InvalidParameterValue", f"The access key ID {key} is not valid.", 400)  # wording unconfirmed
    return {"Account": account}
