"""The environment a function sees: its own variables plus the ones AWS sets
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).

There are no containers, so layers are not mounted at /opt: each layer's directory is put
on the paths where AWS would find it under /opt (``python/``, ``python/lib/pythonX.Y/
site-packages``, ``nodejs/node_modules``, ``lib/``, ``bin/``), in the function's order.
``LAMBDA_TASK_ROOT`` is the unpacked code's real directory, not /var/task; ``TMPDIR`` and
``HOME`` are a per-sandbox directory removed with it (a function writing to the literal
path /tmp writes to the host's). Nothing of cloudlet's own environment is inherited.
"""

from __future__ import annotations

import importlib.util
import os

from .interpreters import Interpreter
from .model import SandboxSpec

#: what boto3 needs, linked one by one: the whole site-packages would leak compiled
#: extensions built for cloudlet's Python into functions running on another
SDK_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")

_BASE_PATH = "/usr/local/bin:/usr/bin:/bin"


def sdk_dir(root: str) -> str:
    """A directory of symlinks to cloudlet's own boto3 and its pure-Python dependencies,
    made once under `root`. Missing packages are skipped (boto3 is imported lazily)."""
    path = os.path.join(root, "sdk")
    os.makedirs(path, exist_ok=True)
    for name in SDK_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        src = os.path.dirname(spec.origin) if spec.submodule_search_locations else spec.origin
        link = os.path.join(path, os.path.basename(src))
        if os.path.islink(link) and os.readlink(link) == src:
            continue
        tmp = f"{link}.{os.getpid()}.tmp"
        try:
            os.symlink(src, tmp)
            os.replace(tmp, link)
        except OSError:
            if os.path.lexists(tmp):
                os.unlink(tmp)
    return path


def build(
    spec: SandboxSpec,
    interp: Interpreter,
    *,
    runtime_api: str,
    log_stream: str,
    home: str,
    sdk: str,
    pycache: str,
    endpoint_url: str,
    credentials: tuple[str, str, str],
) -> dict[str, str]:
    key, secret, token = credentials
    layer_bins = [os.path.join(d, "bin") for d in spec.layer_dirs]
    env: dict[str, str] = dict(spec.environment)
    # the reserved variables are set after the function's own, so they win (AWS refuses
    # them at CreateFunction)
    env.update(
        AWS_LAMBDA_FUNCTION_NAME=spec.function_name,
        AWS_LAMBDA_FUNCTION_VERSION=spec.version,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(spec.memory_mb),
        AWS_LAMBDA_LOG_GROUP_NAME=spec.log_group,
        AWS_LAMBDA_LOG_STREAM_NAME=log_stream,
        AWS_LAMBDA_INITIALIZATION_TYPE="on-demand",
        AWS_LAMBDA_RUNTIME_API=runtime_api,
        AWS_REGION=spec.region,
        AWS_DEFAULT_REGION=spec.region,
        AWS_EXECUTION_ENV=f"AWS_Lambda_{spec.runtime}",
        AWS_ACCESS_KEY_ID=key,
        AWS_SECRET_ACCESS_KEY=secret,
        AWS_SESSION_TOKEN=token,
        # boto3 inside the function reaches cloudlet with no endpoint in its code
        AWS_ENDPOINT_URL=endpoint_url,
        _HANDLER=spec.handler,
        LAMBDA_TASK_ROOT=spec.code_dir,
        LAMBDA_RUNTIME_DIR=os.path.join(os.path.dirname(__file__), "bootstrap"),
        TZ=":UTC",
        LANG="en_US.UTF-8",
        # AWS's /var/lang/bin holds the runtime's own interpreter: here, its directory
        PATH=os.pathsep.join([*([os.path.dirname(interp.path)] if interp.path else []), _BASE_PATH, *layer_bins]),
        LD_LIBRARY_PATH=os.pathsep.join(
            [os.path.join(spec.code_dir, "lib"), *(os.path.join(d, "lib") for d in spec.layer_dirs)]
        ),
        TMPDIR=os.path.join(home, "tmp"),
        HOME=home,
    )
    if spec.logging_value("LogFormat") == "JSON":
        # AWS's runtimes read these: their logging writes JSON records, filtered by level
        env.update(AWS_LAMBDA_LOG_FORMAT="JSON", AWS_LAMBDA_LOG_LEVEL=spec.logging_value("ApplicationLogLevel", "INFO"))
    # the host's own AWS settings must not reach the function (it has its role's keys)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        env.pop(name, None)
    if interp.kind == "python":
        # a layer built for the runtime asked for, and one built for the interpreter standing in
        sites = dict.fromkeys([f"python{spec.runtime[len('python'):]}", f"python{interp.version}"])
        paths = [spec.code_dir]
        for d in spec.layer_dirs:
            paths.append(os.path.join(d, "python"))
            paths += [os.path.join(d, "python", "lib", site, "site-packages") for site in sites]
        env.update(
            PYTHONPATH=os.pathsep.join([*paths, sdk]),
            PYTHONUNBUFFERED="1",
            PYTHONNOUSERSITE="1",
            CLOUDLET_PYCACHE=pycache,
        )
    elif interp.kind == "node":
        env["NODE_PATH"] = os.pathsep.join(
            [os.path.join(d, "nodejs", "node_modules") for d in spec.layer_dirs]
            + [os.path.join(d, "nodejs", f"node{interp.version}", "node_modules") for d in spec.layer_dirs]
        )
    return env
