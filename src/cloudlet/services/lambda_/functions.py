"""Functions and their versions: create, read, update code and configuration, publish,
delete, list; and the account's settings.

A function's $LATEST is one ``fn`` record; a published version is an immutable copy of its
configuration and a reference to the same stored zip (``code.share``). The code is
unpacked while CreateFunction/UpdateFunctionCode run, so the response says the function
is Pending/InProgress (as AWS answers) and every later read says Active/Successful.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.lambda_ import access, code, errors, names, signing, storage
from cloudlet.services.lambda_.names import LATEST

Input = dict[str, Any]
Output = dict[str, Any]

MAX_TIMEOUT = 900
MAX_MEMORY = 10240
ENV_LIMIT = 4096
MAX_LAYERS = 5
CONCURRENCY_LIMIT = 1000
RESERVED_ENV = (
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
)
#: configuration members that do not make a version different from another
_VOLATILE = ("FunctionArn", "Version", "RevisionId", "LastModified", "State", "StateReason",
             "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode")


def create_function(ctx: Context, req: Input) -> Any:
    """Checking, storing and unpacking a package of up to 250 MB runs off the event loop."""
    if not ctx.internal:
        return asyncio.to_thread(_create_function, ctx, req)
    return _create_function(ctx, req)


def _create_function(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    if where.qualifier is not None:
        raise errors.invalid("Unsupported parameter: qualified function name (a version or alias) for CreateFunction")
    if where.account != ctx.account:
        raise errors.invalid(f"Functions can only be created in the caller's account ({ctx.account}).")
    if req.get("PackageType") == "Image" or (req.get("Code") or {}).get("ImageUri"):
        raise code.image_unsupported()
    if not req.get("Runtime") or not req.get("Handler"):
        raise errors.invalid("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
    config = _new_config(where, req)
    signed_by = req.get("CodeSigningConfigArn")
    if signed_by:
        with access.tx(ctx, where) as t:
            csc = signing.config_for(t, signed_by)
        signing.judge_unsigned(ctx.gateway, where.account, where.region, where.name, csc)
    pkg = code.package_from(ctx, req["Code"], operation="CreateFunction")
    with access.tx(ctx, where) as t:
        layers = _layers(ctx, t, req.get("Layers"))
    code.check_total(pkg.unzipped, [layer["unzipped"] for layer in layers])
    code.tree(ctx.gateway, pkg.sha_hex, data=pkg.data)  # unpacked now: reads after this say Active
    config.update(CodeSha256=pkg.sha256, CodeSize=pkg.size)
    if layers:
        config["Layers"] = [{"Arn": layer["arn"], "CodeSize": layer["size"]} for layer in layers]
    fn: dict[str, Any] = {
        "config": config,
        "code": {"sha_hex": pkg.sha_hex, "unzipped": pkg.unzipped},
        "tags": dict(req.get("Tags") or {}),
        "layers": layers,
        "reserved": None,
        "last_version": 0,
        "published": None,
    }
    if signed_by:
        fn["code_signing"] = signed_by
    with access.tx(ctx, where) as t:
        if storage.get_function(t, where.name) is not None:
            raise errors.conflict(f"Function already exist: {where.name}")
        code.keep(t, pkg)
        _hold_layers(t, layers)
        out = fn["config"]
        if req.get("Publish"):
            out = _publish(t, where, fn, None)
        storage.put_function(t, where.name, fn)
    # AWS answers before the package is ready; cloudlet unpacked it already, so only this
    # response says Pending (reads say Active, which is what waiters poll for)
    shown = {k: v for k, v in out.items() if not k.startswith("LastUpdateStatus")}
    return {**shown, "State": "Pending", "StateReason": "The function is being created.", "StateReasonCode": "Creating"}


def get_function(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"], req.get("Qualifier"))
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        version, _ = access.version_of(t, where, fn)
        rec = access.record_of(t, where, fn, version)
    out: Output = {
        "Configuration": _shown(rec["config"], where),
        "Code": {"RepositoryType": "S3", "Location": access.code_location(ctx.gateway, rec["code"]["sha_hex"])},
    }
    if fn["tags"]:
        out["Tags"] = dict(fn["tags"])
    if fn.get("reserved") is not None:
        out["Concurrency"] = {"ReservedConcurrentExecutions": fn["reserved"]}
    return out


def get_function_configuration(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"], req.get("Qualifier"))
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        version, _ = access.version_of(t, where, fn)
        config = access.record_of(t, where, fn, version)["config"]
    return _shown(config, where)


def update_function_code(ctx: Context, req: Input) -> Any:
    if not ctx.internal:
        return asyncio.to_thread(_update_function_code, ctx, req)  # as CreateFunction: off the loop
    return _update_function_code(ctx, req)


def _update_function_code(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    if req.get("ImageUri"):
        raise code.image_unsupported()
    pkg = code.package_from(ctx, req, operation="UpdateFunctionCode")
    arch = req.get("Architectures")
    if arch is not None and len(arch) != 1:
        raise errors.invalid("Lambda functions can only support a single architecture.")
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        layer_sizes = [layer["unzipped"] for layer in fn.get("layers") or ()]
        csc = signing.of_function(t, fn)
    signing.judge_unsigned(ctx.gateway if not req.get("DryRun") else None, where.account, where.region, where.name, csc)
    code.check_total(pkg.unzipped, layer_sizes)
    if req.get("DryRun"):
        with access.tx(ctx, where) as t:
            fn = access.load(t, where)
            access.check_revision(req.get("RevisionId"), fn["config"]["RevisionId"])
        return {**fn["config"], "CodeSha256": pkg.sha256, "CodeSize": pkg.size}
    code.tree(ctx.gateway, pkg.sha_hex, data=pkg.data)
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        access.check_revision(req.get("RevisionId"), fn["config"]["RevisionId"])
        code.keep(t, pkg)
        code.release(t, fn["code"]["sha_hex"])
        fn["code"] = {"sha_hex": pkg.sha_hex, "unzipped": pkg.unzipped}
        fn["config"].update(CodeSha256=pkg.sha256, CodeSize=pkg.size, LastModified=access.last_modified())
        if arch is not None:
            fn["config"]["Architectures"] = list(arch)
        access.touch(fn)
        out = fn["config"]
        if req.get("Publish"):
            out = _publish(t, where, fn, None)
        storage.put_function(t, where.name, fn)
    access.retire(ctx.gateway, where.arn)
    return _in_progress(out)


def update_function_configuration(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    if req.get("ImageConfig"):
        raise code.image_unsupported()
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        access.check_revision(req.get("RevisionId"), fn["config"]["RevisionId"])
        layers = _layers(ctx, t, req["Layers"]) if "Layers" in req else None
        csc = signing.of_function(t, fn)
    held = {layer["Arn"] for layer in fn["config"].get("Layers") or ()}
    for layer in layers or ():  # a layer it has already was judged when it was added
        if layer["arn"] not in held:
            signing.judge_unsigned(ctx.gateway, where.account, where.region, where.name, csc, layer["arn"])
    if layers is not None:
        code.check_total(fn["code"]["unzipped"], [layer["unzipped"] for layer in layers])
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        access.check_revision(req.get("RevisionId"), fn["config"]["RevisionId"])
        config = fn["config"]
        _apply(config, req, where.name)
        if layers is not None:
            _hold_layers(t, layers)
            _release_layers(t, fn.get("layers"))
            fn["layers"] = layers
            if layers:
                config["Layers"] = [{"Arn": layer["arn"], "CodeSize": layer["size"]} for layer in layers]
            else:
                config.pop("Layers", None)
        config["LastModified"] = access.last_modified()
        access.touch(fn)
        storage.put_function(t, where.name, fn)
    access.retire(ctx.gateway, where.arn)
    return _in_progress(fn["config"])


def delete_function(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"], req.get("Qualifier"))
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        q = where.qualifier
        if q is not None:
            if q == LATEST:
                raise errors.invalid("$LATEST version cannot be deleted without deleting the function.")
            if not q.isdecimal():
                raise errors.invalid("Deletion of aliases is not supported.")
            ver = storage.get_version(t, where.name, q)
            if ver is None:
                raise errors.function_not_found(where.qualified_arn)
            users = [a["Name"] for _, a in storage.all_of(t, storage.ALIAS, where.name)
                     if a["FunctionVersion"] == q or q in ((a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {})]
            if users:
                raise errors.conflict(f"Unable to delete version because the following aliases reference it: {users}")
            storage.delete_version(t, where.name, q)
            code.release(t, ver["code"]["sha_hex"])
            _release_layers(t, ver.get("layers"))
            for kind in (storage.POLICY, storage.URL, storage.EIC, storage.PC, storage.RTM):
                _drop_qualified(t, kind, where.name, q)
        else:
            for ver in storage.versions(t, where.name):
                code.release(t, ver["code"]["sha_hex"])
                _release_layers(t, ver.get("layers"))
                storage.delete_version(t, where.name, ver["config"]["Version"])
            for kind in (storage.ALIAS, storage.POLICY, storage.URL, storage.EIC, storage.PC, storage.RTM):
                for qual, _ in storage.all_of(t, kind, where.name):
                    _drop_qualified(t, kind, where.name, qual or None)
            code.release(t, fn["code"]["sha_hex"])
            _release_layers(t, fn.get("layers"))
            t.delete(storage.FN, where.name)
    access.retire(ctx.gateway, where.arn)
    return {}


def list_functions(ctx: Context, req: Input) -> Output:
    everything = req.get("FunctionVersion") == "ALL"
    with ctx.tx() as t:
        found: list[dict[str, Any]] = []
        for fn in storage.functions(t):
            found.append(fn["config"])
            if everything:
                found += [v["config"] for v in storage.versions(t, fn["config"]["FunctionName"])]
    out = access.page("Functions", found, _marker(req), min(req.get("MaxItems") or 50, 50))
    out["Functions"] = [dict(c) for c in out["Functions"]]
    return out


def publish_version(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        current = fn["config"]
        if req.get("CodeSha256") and req["CodeSha256"] != current["CodeSha256"]:
            raise errors.invalid(
                f"CodeSHA256 ({req['CodeSha256']}) is different from current CodeSHA256 in $LATEST "
                f"({current['CodeSha256']}). Please try again with the current CodeSHA256."
            )
        access.check_revision(req.get("RevisionId"), current["RevisionId"])
        out = _publish(t, where, fn, req.get("Description"))
        storage.put_function(t, where.name, fn)
    return out


def list_versions_by_function(ctx: Context, req: Input) -> Output:
    where = access.ref(ctx, req["FunctionName"])
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        # here $LATEST is listed under its qualified ARN (":$LATEST"), as AWS lists it
        latest = {**fn["config"], "FunctionArn": names.function_arn(where.region, where.account, where.name, LATEST)}
        found = [latest] + [v["config"] for v in storage.versions(t, where.name)]
    out = access.page("Versions", found, _marker(req), min(req.get("MaxItems") or 50, 50))
    out["Versions"] = [dict(c) for c in out["Versions"]]
    return out


def get_account_settings(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        fns = storage.functions(t)
        total = 0
        reserved = 0
        for fn in fns:
            total += fn["config"]["CodeSize"]
            total += sum(v["config"]["CodeSize"] for v in storage.versions(t, fn["config"]["FunctionName"]))
            reserved += fn.get("reserved") or 0
        total += sum(r.value["Content"]["CodeSize"] for r in t.scan(storage.LAYER))
    return {
        "AccountLimit": {
            "TotalCodeSize": 80_530_636_800,
            "CodeSizeUnzipped": code.MAX_UNZIPPED,
            "CodeSizeZipped": code.MAX_DIRECT_ZIP,
            "ConcurrentExecutions": CONCURRENCY_LIMIT,
            "UnreservedConcurrentExecutions": CONCURRENCY_LIMIT - reserved,
        },
        "AccountUsage": {"TotalCodeSize": total, "FunctionCount": len(fns)},
    }


# -- helpers ------------------------------------------------------------------------------


def _shown(config: dict[str, Any], where: names.FunctionRef) -> dict[str, Any]:
    """A configuration as read through a qualifier: an alias shows its own ARN."""
    out = dict(config)
    if where.qualifier is not None and not where.qualifier.isdecimal():
        out["FunctionArn"] = where.qualified_arn
    return out


def _in_progress(config: dict[str, Any]) -> dict[str, Any]:
    return {**config, "LastUpdateStatus": "InProgress", "LastUpdateStatusReason": "The function is being created.",
            "LastUpdateStatusReasonCode": "Creating"}


def _marker(req: Input) -> str | None:
    """ListFunctions and ListVersionsByFunction refuse a Marker they did not hand out."""
    marker = req.get("Marker")
    if marker and not marker.isdecimal():
        raise errors.invalid(f"Invalid marker: {marker}")
    return marker


def _fingerprint(fn: dict[str, Any]) -> str:
    """What makes $LATEST a different version than the last published one."""
    config = {k: v for k, v in fn["config"].items() if k not in _VOLATILE}
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()


def _publish(t: Any, where: names.FunctionRef, fn: dict[str, Any], description: str | None) -> dict[str, Any]:
    """A new version from $LATEST, unless nothing changed since the last one (then that one)."""
    mark = _fingerprint(fn)
    last = fn.get("published")
    if last and last["mark"] == mark:
        ver = storage.get_version(t, where.name, str(last["version"]))
        if ver is not None:
            return dict(ver["config"])
    number = fn.get("last_version", 0) + 1
    config = copy.deepcopy(fn["config"])
    config.update(
        Version=str(number), FunctionArn=names.function_arn(where.region, where.account, where.name, str(number)),
        RevisionId=access.new_revision(), LastModified=access.last_modified(),
    )
    if description is not None:
        config["Description"] = description
    layers = list(fn.get("layers") or ())
    storage.put_version(t, where.name, number, {"config": config, "code": dict(fn["code"]), "layers": layers})
    code.share(t, fn["code"]["sha_hex"])
    _hold_layers(t, layers)
    fn["last_version"] = number
    fn["published"] = {"version": number, "mark": mark}
    return dict(config)


def _drop_qualified(t: Any, kind: str, name: str, qualifier: str | None) -> None:
    if kind == storage.URL:
        url = storage.get(t, kind, name, qualifier)
        if url is not None:
            storage.delete_url_id(t, url["url_id"])
    storage.delete(t, kind, name, qualifier)


def _new_config(where: names.FunctionRef, req: Input) -> dict[str, Any]:
    config: dict[str, Any] = {
        "FunctionName": where.name,
        "FunctionArn": where.arn,
        "Runtime": req["Runtime"],
        "Role": req["Role"],
        "Handler": req["Handler"],
        "CodeSize": 0,
        "Description": "",
        "Timeout": 3,
        "MemorySize": 128,
        "LastModified": access.last_modified(),
        "CodeSha256": "",
        "Version": LATEST,
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": access.new_revision(),
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "Architectures": ["x86_64"],
        "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{where.name}"},
    }
    arch = req.get("Architectures")
    if arch is not None:
        if len(arch) != 1:
            raise errors.invalid("Lambda functions can only support a single architecture.")
        config["Architectures"] = list(arch)
    _apply(config, req, where.name)
    return config


def _apply(config: dict[str, Any], req: Input, name: str) -> None:
    """The settable members of CreateFunction/UpdateFunctionConfiguration, checked."""
    if "Runtime" in req:
        _check_runtime(req["Runtime"])
        region = config["FunctionArn"].split(":")[3]
        config["RuntimeVersionConfig"] = {"RuntimeVersionArn": names.runtime_version_arn(region, req["Runtime"])}
    for key in ("Runtime", "Handler", "Description", "KMSKeyArn"):
        if key in req:
            config[key] = req[key]
    if "Role" in req:
        _check_role(req["Role"])
        config["Role"] = req["Role"]
    if "Timeout" in req:
        if req["Timeout"] > MAX_TIMEOUT:
            raise errors.validation("timeout", req["Timeout"], f"Member must have value less than or equal to {MAX_TIMEOUT}")
        config["Timeout"] = req["Timeout"]
    if "MemorySize" in req:
        if req["MemorySize"] > MAX_MEMORY:
            raise errors.validation("memorySize", req["MemorySize"], f"Member must have value less than or equal to {MAX_MEMORY}")
        config["MemorySize"] = req["MemorySize"]
    if "Environment" in req:
        variables = dict((req["Environment"] or {}).get("Variables") or {})
        _check_environment(variables)
        if variables:
            config["Environment"] = {"Variables": variables}
        else:
            config.pop("Environment", None)
    if "EphemeralStorage" in req:
        config["EphemeralStorage"] = {"Size": req["EphemeralStorage"]["Size"]}
    if "TracingConfig" in req:
        config["TracingConfig"] = {"Mode": req["TracingConfig"].get("Mode") or "PassThrough"}
    if "DeadLetterConfig" in req:
        target = (req["DeadLetterConfig"] or {}).get("TargetArn")
        if target:
            service = target.split(":")[2] if target.count(":") >= 5 else ""
            if service not in ("sqs", "sns"):
                raise errors.invalid(
                    f"The provided target arn {target} is invalid. The target arn must be an SQS queue or SNS topic arn."
                )
            config["DeadLetterConfig"] = {"TargetArn": target}
        else:
            config.pop("DeadLetterConfig", None)
    if "VpcConfig" in req:
        vpc = req["VpcConfig"] or {}
        if vpc.get("SubnetIds") or vpc.get("SecurityGroupIds"):
            config["VpcConfig"] = {
                "SubnetIds": list(vpc.get("SubnetIds") or ()),
                "SecurityGroupIds": list(vpc.get("SecurityGroupIds") or ()),
                "Ipv6AllowedForDualStack": bool(vpc.get("Ipv6AllowedForDualStack", False)),
            }
        else:
            config.pop("VpcConfig", None)
    if "LoggingConfig" in req:
        _apply_logging(config, req["LoggingConfig"] or {}, name)
    if "SnapStart" in req:
        config["SnapStart"] = {"ApplyOn": req["SnapStart"].get("ApplyOn") or "None", "OptimizationStatus": "Off"}
    if "FileSystemConfigs" in req:
        if req["FileSystemConfigs"]:
            config["FileSystemConfigs"] = list(req["FileSystemConfigs"])
        else:
            config.pop("FileSystemConfigs", None)


def _apply_logging(config: dict[str, Any], given: dict[str, Any], name: str) -> None:
    logging = dict(config.get("LoggingConfig") or {})
    logging.update({k: v for k, v in given.items() if v is not None})
    logging.setdefault("LogFormat", "Text")
    logging.setdefault("LogGroup", f"/aws/lambda/{name}")
    if logging["LogFormat"] == "Text":
        if given.get("ApplicationLogLevel") or given.get("SystemLogLevel"):
            raise errors.invalid(
                "Application and System log levels can only be set when LogFormat is JSON."
            )
        logging.pop("ApplicationLogLevel", None)
        logging.pop("SystemLogLevel", None)
    else:
        logging.setdefault("ApplicationLogLevel", "INFO")
        logging.setdefault("SystemLogLevel", "INFO")
    config["LoggingConfig"] = logging


#: runtimes AWS no longer lets a function be created or updated with, and what it suggests
_DEPRECATED = {
    **{r: "python3.13" for r in ("python2.7", "python3.6", "python3.7", "python3.8")},
    **{r: "nodejs22.x" for r in ("nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x",
                                 "nodejs12.x", "nodejs14.x", "nodejs16.x")},
    **{r: "dotnet8" for r in ("dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6")},
    **{r: "ruby3.3" for r in ("ruby2.5", "ruby2.7")},
    "go1.x": "provided.al2023",
    "java8": "java21",
}


def _check_runtime(runtime: str) -> None:
    if runtime in _DEPRECATED:
        raise errors.invalid(
            f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
            f"functions. We recommend you use the new runtime ({_DEPRECATED[runtime]}) while creating or updating "
            "functions."
        )


def _check_role(role: str) -> None:
    parts = role.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/") \
            or not (len(parts[4]) == 12 and parts[4].isdecimal()):
        raise errors.invalid("The role defined for the function cannot be assumed by Lambda.")


def _check_environment(variables: dict[str, str]) -> None:
    reserved = [k for k in variables if k in RESERVED_ENV]
    if reserved:
        raise errors.invalid(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            "provided contains reserved keys that are currently not supported for modification. Reserved keys used "
            f"in this request: {', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) > ENV_LIMIT:
        raise errors.invalid(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            f"provided exceeded the 4KB limit. String measured: {measured}"
        )


def _hold_layers(t: Any, layers: list[dict[str, Any]] | None) -> None:
    """A function version keeps its layers' zips: a deleted layer version still works for
    the functions that already use it, as in AWS."""
    for layer in layers or ():
        code.share(t, layer["sha_hex"])


def _release_layers(t: Any, layers: list[dict[str, Any]] | None) -> None:
    for layer in layers or ():
        code.release(t, layer["sha_hex"])


def _layers(ctx: Context, t: Any, arns: list[str] | None) -> list[dict[str, Any]]:
    """The layer versions a function names, each checked to exist: {"arn", "size"
    (zipped), "unzipped", "sha_hex"}."""
    if not arns:
        return []
    if len(arns) > MAX_LAYERS:
        raise errors.invalid(f"Cannot reference more than {MAX_LAYERS} layers.")
    seen: dict[str, str] = {}
    out = []
    for arn in arns:
        parts = names.parse_layer_version_arn(arn)
        if parts is None:
            raise errors.invalid(f"Layer version {arn} does not exist.")
        account, region, name, version = parts
        if name in seen:
            raise errors.invalid(
                f"Two different versions of the same layer are not allowed to be referenced in the same function. "
                f"{seen[name]} and {arn} share the same layer."
            )
        seen[name] = arn
        with ctx.tx(account=account, region=region) as lt:
            rec = lt.get(storage.LAYER, storage.vkey(name, version))
        if rec is None:
            raise errors.invalid(f"Layer version {arn} does not exist.")
        out.append({"arn": arn, "size": rec.value["Content"]["CodeSize"], "unzipped": rec.value["unzipped"],
                    "sha_hex": rec.value["sha_hex"]})
    return out
