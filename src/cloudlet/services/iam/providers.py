"""Identity providers: OpenID Connect (URL, client ids, thumbprints) and SAML (metadata)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.iam import errors, model, storage

Input = dict[str, Any]
Output = dict[str, Any]

MAX_THUMBPRINTS = 5


def _oidc(t: Any, arn: str) -> dict[str, Any]:
    rec = t.get("oidc", arn)
    if rec is None:
        raise errors.no_such_entity(f"OpenIDConnect Provider not found for arn {arn}")
    return rec.value


def _host_path(url: str) -> str:
    return re.sub(r"^https://", "", url, flags=re.I).rstrip("/")


def create_open_id_connect_provider(ctx: Context, req: Input) -> Output:
    url = req["Url"]
    if not url.lower().startswith("https://") or len(_host_path(url)) == 0:
        raise errors.validation("Invalid Open ID Connect Provider URL")
    thumbprints = list(req.get("ThumbprintList") or [])
    if len(thumbprints) > MAX_THUMBPRINTS:
        raise errors.limit_exceeded(f"Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {MAX_THUMBPRINTS}")
    model.check_new_tags(req.get("Tags"))
    arn = f"arn:aws:iam::{ctx.account}:oidc-provider/{_host_path(url)}"
    rec = {"Arn": arn, "Url": _host_path(url), "ClientIDList": list(dict.fromkeys(req.get("ClientIDList") or [])),
           "ThumbprintList": thumbprints, "CreateDate": model.now(),
           "Tags": model.merge_tags({}, req.get("Tags") or [], "OpenIDConnectProvider")}
    with storage.write(ctx) as t:
        if t.get("oidc", arn) is not None:
            raise errors.already_exists(f"Provider with url {url} already exists.")
        t.put("oidc", arn, rec)
    out: Output = {"OpenIDConnectProviderArn": arn}
    if rec["Tags"]:
        out["Tags"] = model.tag_list(rec["Tags"])
    return out


def get_open_id_connect_provider(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = _oidc(t, req["OpenIDConnectProviderArn"])
    out = {k: rec[k] for k in ("Url", "ClientIDList", "ThumbprintList", "CreateDate")}
    if rec["Tags"]:
        out["Tags"] = model.tag_list(rec["Tags"])
    return out


def list_open_id_connect_providers(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        return {"OpenIDConnectProviderList": [{"Arn": r.key} for r in t.scan("oidc")]}


def _update_oidc(ctx: Context, arn: str, change: Any) -> Output:
    with storage.write(ctx) as t:
        rec = _oidc(t, arn)
        change(rec)
        t.put("oidc", arn, rec)
    return {}


def delete_open_id_connect_provider(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        _oidc(t, req["OpenIDConnectProviderArn"])
        t.delete("oidc", req["OpenIDConnectProviderArn"])
    return {}


def add_client_id_to_open_id_connect_provider(ctx: Context, req: Input) -> Output:
    def add(rec: dict[str, Any]) -> None:
        if req["ClientID"] not in rec["ClientIDList"]:
            rec["ClientIDList"].append(req["ClientID"])

    return _update_oidc(ctx, req["OpenIDConnectProviderArn"], add)


def remove_client_id_from_open_id_connect_provider(ctx: Context, req: Input) -> Output:
    def remove(rec: dict[str, Any]) -> None:
        rec["ClientIDList"] = [c for c in rec["ClientIDList"] if c != req["ClientID"]]

    return _update_oidc(ctx, req["OpenIDConnectProviderArn"], remove)


def update_open_id_connect_provider_thumbprint(ctx: Context, req: Input) -> Output:
    if len(req["ThumbprintList"]) > MAX_THUMBPRINTS:
        raise errors.limit_exceeded(f"Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {MAX_THUMBPRINTS}")

    def update(rec: dict[str, Any]) -> None:
        rec["ThumbprintList"] = list(req["ThumbprintList"])

    return _update_oidc(ctx, req["OpenIDConnectProviderArn"], update)


def tag_open_id_connect_provider(ctx: Context, req: Input) -> Output:
    model.check_new_tags(req["Tags"])

    def tag(rec: dict[str, Any]) -> None:
        rec["Tags"] = model.merge_tags(rec["Tags"], req["Tags"], "OpenIDConnectProvider")

    return _update_oidc(ctx, req["OpenIDConnectProviderArn"], tag)


def untag_open_id_connect_provider(ctx: Context, req: Input) -> Output:
    def untag(rec: dict[str, Any]) -> None:
        rec["Tags"] = model.untag(rec["Tags"], req["TagKeys"])

    return _update_oidc(ctx, req["OpenIDConnectProviderArn"], untag)


def list_open_id_connect_provider_tags(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = _oidc(t, req["OpenIDConnectProviderArn"])
    return model.page(model.tag_list(rec["Tags"]), req, lambda tag: tag["Key"], "Tags")


# SAML ----------------------------------------------------------------------------------

_VALID_UNTIL = re.compile(r'validUntil\s*=\s*["\']([^"\']+)["\']')


def _saml(t: Any, arn: str) -> dict[str, Any]:
    rec = t.get("saml", arn)
    if rec is None:
        raise errors.no_such_entity(f"Manifest not found for arn {arn}")
    return rec.value


def _metadata(doc: str) -> dict[str, Any]:
    """The metadata must be a SAML EntityDescriptor; its validUntil (if any) is the provider's."""
    if "EntityDescriptor" not in doc:
        raise errors.invalid_input("Could not parse metadata")
    out: dict[str, Any] = {"SAMLMetadataDocument": doc, "ValidUntil": None}
    found = _VALID_UNTIL.search(doc)
    if found:
        import datetime as dt

        try:
            out["ValidUntil"] = dt.datetime.fromisoformat(found.group(1).replace("Z", "+00:00"))
        except ValueError:
            raise errors.invalid_input("Could not parse metadata") from None
        if out["ValidUntil"].tzinfo is None:
            out["ValidUntil"] = out["ValidUntil"].replace(tzinfo=dt.timezone.utc)
    return out


def create_saml_provider(ctx: Context, req: Input) -> Output:
    name = req["Name"]
    model.check_new_tags(req.get("Tags"))
    arn = f"arn:aws:iam::{ctx.account}:saml-provider/{name}"
    rec = {"Arn": arn, "CreateDate": model.now(), "UUID": str(uuid.uuid4()),
           "Tags": model.merge_tags({}, req.get("Tags") or [], "SAMLProvider"), **_metadata(req["SAMLMetadataDocument"])}
    with storage.write(ctx) as t:
        if t.get("saml", arn) is not None:
            raise errors.already_exists(f"SAMLProvider {name} already exists")
        t.put("saml", arn, rec)
    out: Output = {"SAMLProviderArn": arn}
    if rec["Tags"]:
        out["Tags"] = model.tag_list(rec["Tags"])
    return out


def get_saml_provider(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = _saml(t, req["SAMLProviderArn"])
    out: Output = {"SAMLProviderUUID": rec["UUID"], "SAMLMetadataDocument": rec["SAMLMetadataDocument"],
                   "CreateDate": rec["CreateDate"]}
    if rec["ValidUntil"]:
        out["ValidUntil"] = rec["ValidUntil"]
    if rec["Tags"]:
        out["Tags"] = model.tag_list(rec["Tags"])
    return out


def update_saml_provider(ctx: Context, req: Input) -> Output:
    arn = req["SAMLProviderArn"]
    with storage.write(ctx) as t:
        rec = _saml(t, arn)
        if req.get("SAMLMetadataDocument"):
            rec.update(_metadata(req["SAMLMetadataDocument"]))
        t.put("saml", arn, rec)
    return {"SAMLProviderArn": arn}


def delete_saml_provider(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        _saml(t, req["SAMLProviderArn"])
        t.delete("saml", req["SAMLProviderArn"])
    return {}


def list_saml_providers(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        found = [r.value for r in t.scan("saml")]
    out = []
    for rec in found:
        entry = {"Arn": rec["Arn"], "CreateDate": rec["CreateDate"]}
        if rec["ValidUntil"]:
            entry["ValidUntil"] = rec["ValidUntil"]
        out.append(entry)
    return {"SAMLProviderList": out}
