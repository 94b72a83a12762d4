"""Browser uploads: ``POST /<bucket>`` with ``multipart/form-data`` (not in botocore's model).

The form is parsed as it streams (``postform``), its file written to a spool file; the
policy and signature are checked before the first file byte is kept; the object is then
stored by PutObject through ``Gateway.dispatch`` (validation, authorization, audit,
notifications) as the form's signer, and S3's success response is built from the form.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import tempfile
from typing import TYPE_CHECKING, Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.ids import request_id as new_request_id
from cloudlet.protocol import codec
from cloudlet.protocol.http import PIECE, Request, Response, SpooledBody
from cloudlet.server.config import public_url
from cloudlet.services.s3 import postform, storage

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway


def _bucket(req: Request) -> str:
    path = req.path.lstrip("/")
    if path:
        return path.split("/", 1)[0]
    host = req.host.split(":", 1)[0]
    return host.split(".s3", 1)[0] if ".s3" in host else host.split(".", 1)[0]


def _pieces(req: Request) -> Any:
    if req.stream is not None:
        return req.stream.pieces(PIECE)
    return (req.body,)


async def handle(gw: "Gateway", req: Request, client_ip: str) -> Response:
    rid = new_request_id()
    enc = codec.encoder("s3", "rest-xml")
    path = None
    try:
        bucket = _bucket(req)
        with storage.tx(_ctx(gw, "", "us-east-1", "", "", rid, client_ip)) as t:
            b = storage.get_bucket(t, bucket)
        form, path, grant = await asyncio.to_thread(_parse, gw, req, bucket, b["region"])
        identity = gw.credentials.identity_for(grant.access_key)
        key = form.key or ""
        params = postform.put_object_params(form, bucket, key)
        params["Body"] = SpooledBody(path, form.file_size or 0)
        ctx = _ctx(gw, identity.account_id, b["region"], identity.arn, identity.access_key, rid, client_ip)
        out = gw.dispatch(ctx, params)
        if inspect.isawaitable(out):
            out = await out
        location = postform.object_url(f"{public_url(gw.config)}/{bucket}", key)
        status, headers, body = postform.success_response(form, bucket, key, out["ETag"], location)
        resp = Response(status, [*enc.request_headers(rid), *headers.items()], body)
        if out.get("VersionId"):
            resp.headers.append(("x-amz-version-id", out["VersionId"]))
        return resp
    except ServiceError as err:
        return enc.encode_error(None, err, rid)
    finally:
        if path is not None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def _parse(gw: "Gateway", req: Request, bucket: str, region: str) -> tuple[postform.Form, str, postform.Grant]:
    """Read the form, checking the policy before any file byte is kept."""
    fd, path = tempfile.mkstemp(prefix="post-", dir=gw.spool_dir)
    grants: list[postform.Grant] = []

    def secret_for(access_key: str) -> str | None:
        ident = gw.credentials.lookup(access_key)
        return ident.secret_key if ident is not None else None

    def on_file(form: postform.Form) -> int | None:
        grant = postform.check_policy(
            form, bucket, clock.now(), secret_for if gw.config.verify_signatures else None, region=region
        )
        grants.append(grant)
        return grant.max_size

    try:
        with os.fdopen(fd, "wb") as f:
            form = postform.parse_form(req.headers["content-type"], _pieces(req), f.write, on_file=on_file)
        if not grants:
            raise ServiceError("InvalidArgument", "POST requires exactly one file upload per request.", 400,
                               fields={"ArgumentName": "file", "ArgumentValue": "0"})
        grants[0].check_size(form.file_size or 0)
    except BaseException:
        os.unlink(path)
        raise
    return form, path, grants[0]


def _ctx(gw: "Gateway", account: str, region: str, arn: str, key: str, rid: str, ip: str) -> Context:
    return Context(
        account=account, region=region, principal_arn=arn, access_key=key, request_id=rid,
        service="s3", operation="PutObject", source_ip=ip, gateway=gw,
    )
