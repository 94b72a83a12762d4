"""AWS Security Token Service: temporary credentials (sessions.py is the store the
credential lookup reads), role sessions, federation, and who-am-I."""

MODULES = ["identity", "assume", "tokens", "keyinfo", "messages"]


def reset_caches(gateway: object) -> None:
    """Forget sessions cached in memory (a reset wipes the store under them)."""
    from cloudlet.services.sts import sessions

    sessions.forget_all(gateway)  # type: ignore[arg-type]


def resources(ctx: object, operation: str, params: dict) -> list[str]:
    """AssumeRole* act on the role (whose trust policy is the resource policy IAM judges)."""
    arn = params.get("RoleArn")
    return [arn] if arn else ["*"]


def condition_keys(ctx: object, operation: str, params: dict) -> dict:
    """STS's own condition keys from the request."""
    keys: dict = {}
    for param, key in (("ExternalId", "sts:ExternalId"), ("RoleSessionName", "sts:RoleSessionName"),
                       ("SourceIdentity", "sts:SourceIdentity"), ("DurationSeconds", "sts:DurationSeconds")):
        if params.get(param) is not None:
            keys[key] = str(params[param])
    if params.get("TransitiveTagKeys"):
        keys["sts:TransitiveTagKeys"] = list(params["TransitiveTagKeys"])
    return keys
