"""cloudlet's runtime client for python3.x functions: the Lambda Runtime API loop.

Runs under the function's own interpreter (any Python from 3.7), so it uses only the
standard library and avoids what is slow to import: a cold start pays for this file, not
for boto3 (which the function imports itself, from the SDK directory on PYTHONPATH).
It behaves as AWS's Python runtime does where a function can tell: the handler's module
path, the context object, the log format, the error documents and their wording.
"""

import json
import os
import socket
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
# the script's own directory is sys.path[0]: the function's modules must not be shadowed
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    del sys.path[0]

import logging  # noqa: E402  (after the path fix: a function may not shadow it either way)
import traceback  # noqa: E402

_API = "/2018-06-01/runtime"


class _Client:
    """A minimal keep-alive HTTP/1.1 client: http.client would cost its imports (email...)
    on every cold start, and the Runtime API always answers with a Content-Length."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.address = (host, int(port))
        self.sock = None
        self.buf = b""

    def request(self, method, path, body=b"", headers=()):
        head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n" % (
            method, path, self.address[0], self.address[1], len(body))
        for name, value in headers:
            head += "%s: %s\r\n" % (name, value)
        data = head.encode("latin-1") + b"\r\n" + body
        for attempt in (0, 1):
            try:
                if self.sock is None:
                    self.sock = socket.create_connection(self.address)
                    self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self.buf = b""
                self.sock.sendall(data)
                return self._response()
            except (OSError, ValueError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _response(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ValueError("connection closed by the Runtime API")
        self.buf += chunk

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None


# logging: AWS's format, one CloudWatch event per record (newlines become \r) -----------
_current = {"request_id": ""}


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _current["request_id"]
        return True


class _LambdaHandler(logging.StreamHandler):
    def emit(self, record):
        try:
            msg = self.format(record).replace("\n", "\r")
            stream = sys.stdout
            stream.write(msg + "\n")
            stream.flush()
        except Exception:  # a log line must never fail the invocation
            self.handleError(record)


class _JsonFormatter(logging.Formatter):
    """LogFormat JSON: one object per record, as AWS's runtime writes them."""

    def format(self, record):
        doc = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", ""),
        }
        if record.exc_info and record.exc_info[0] is not None:
            doc["errorType"] = record.exc_info[0].__name__
            doc["errorMessage"] = str(record.exc_info[1])
            doc["stackTrace"] = traceback.format_tb(record.exc_info[2])
        return json.dumps(doc, default=str)


# LoggingConfig's ApplicationLogLevel in Python's words
_LEVELS = {"TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING,
           "ERROR": logging.ERROR, "FATAL": logging.CRITICAL}
_JSON = {"on": False}


def _configure_logging():
    handler = _LambdaHandler()
    root = logging.getLogger()
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON":
        _JSON["on"] = True
        handler.setFormatter(_JsonFormatter())
        root.setLevel(_LEVELS.get(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").upper(), logging.INFO))
    else:
        formatter = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S")
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter())
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)


# the context object ------------------------------------------------------------------
class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __init__(self, data):
        self.cognito_identity_id = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id, self.cognito_identity_pool_id)


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]

    def __init__(self, data):
        self.installation_id = data.get("installation_id")
        self.app_title = data.get("app_title")
        self.app_version_name = data.get("app_version_name")
        self.app_version_code = data.get("app_version_code")
        self.app_package_name = data.get("app_package_name")


class ClientContext(object):
    __slots__ = ["client", "custom", "env"]

    def __init__(self, data):
        client = data.get("client")
        self.client = Client(client) if isinstance(client, dict) else None
        self.custom = data.get("custom")
        self.env = data.get("env")


class LambdaContext(object):
    def __init__(self, request_id, deadline_ms, invoked_arn, identity, client_context):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = CognitoIdentity(identity) if identity is not None else CognitoIdentity({})
        self.client_context = ClientContext(client_context) if client_context is not None else None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg):
        sys.stdout.write(str(msg))
        sys.stdout.flush()

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,identity=%s])"
            % (self.aws_request_id, self.log_group_name, self.log_stream_name, self.function_name,
               self.memory_limit_in_mb, self.function_version, self.invoked_function_arn,
               self.client_context, self.identity))


# errors ------------------------------------------------------------------------------
class _Fault(Exception):
    """An error the runtime reports in AWS's words (Runtime.ImportModuleError...)."""

    def __init__(self, error_type, message, tb=None):
        Exception.__init__(self, message)
        self.error_type = error_type
        self.message = message
        self.tb = tb


def _user_frames(tb):
    """The traceback without this file's frames, formatted as AWS's stackTrace."""
    frames = [f for f in traceback.extract_tb(tb) if os.path.abspath(f[0]) != os.path.abspath(__file__)]
    return traceback.format_list(frames)


def _error_doc(exc, request_id):
    if isinstance(exc, _Fault):
        error_type, message = exc.error_type, exc.message
        stack = _user_frames(exc.tb) if exc.tb is not None else []
    else:
        error_type, message = type(exc).__name__, str(exc)
        stack = _user_frames(exc.__traceback__)
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": stack}


def _log_error(doc):
    if _JSON["on"]:  # an unhandled error is an ERROR record (no level filters it out)
        record = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "log_level": "ERROR"}
        record.update(doc)
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()
        return
    text = "[ERROR] %s: %s\nTraceback (most recent call last):\n%s" % (
        doc["errorType"], doc["errorMessage"], "".join(doc["stackTrace"]))
    sys.stdout.write(text.rstrip("\n").replace("\n", "\r") + "\n")
    sys.stdout.flush()


def _load_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise _Fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e))
    modname = modname.replace("/", ".")
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise _Fault("Runtime.BuiltInModuleConflict",
                         "Cannot use built-in module %s as a handler module" % modname)
        import importlib

        module = importlib.import_module(modname)
    except ImportError as e:
        raise _Fault("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        raise _Fault("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e),
                     sys.exc_info()[2])
    func = getattr(module, fname, None)
    if func is None:
        raise _Fault("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))
    return func


def _json_default(obj):
    # DynamoDB hands out Decimals; AWS's runtime serializes them as numbers
    if type(obj).__name__ == "Decimal":
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _post_error(client, path, doc):
    _flush()
    body = json.dumps(doc).encode("utf-8")
    client.request("POST", path, body, (("Lambda-Runtime-Function-Error-Type", doc["errorType"]),
                                        ("Content-Type", "application/json")))


def main():
    client = _Client(os.environ["AWS_LAMBDA_RUNTIME_API"])
    _configure_logging()
    # the function's compiled modules go to cloudlet's cache, not into its (shared, read-only)
    # code tree; set only now, so the standard library above loaded its own caches
    prefix = os.environ.pop("CLOUDLET_PYCACHE", None)
    if prefix and hasattr(sys, "pycache_prefix"):
        sys.pycache_prefix = prefix
    try:
        handler = _load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:
        doc = _error_doc(exc, "")
        _log_error(doc)
        _post_error(client, _API + "/init/error", doc)
        sys.exit(1)
    while True:
        status, headers, body = client.request("GET", _API + "/invocation/next")
        if status != 200:
            sys.stderr.write("cloudlet runtime: /next answered %d: %r\n" % (status, body[:200]))
            sys.exit(1)
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        _current["request_id"] = request_id
        trace = headers.get("lambda-runtime-trace-id")
        if trace:
            os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            identity = json.loads(headers["lambda-runtime-cognito-identity"]) \
                if headers.get("lambda-runtime-cognito-identity") else None
            client_context = json.loads(headers["lambda-runtime-client-context"]) \
                if headers.get("lambda-runtime-client-context") else None
            context = LambdaContext(request_id, int(headers.get("lambda-runtime-deadline-ms", "0")),
                                    headers.get("lambda-runtime-invoked-function-arn"), identity, client_context)
            event = json.loads(body.decode("utf-8")) if body else None
            result = handler(event, context)
            try:
                out = json.dumps(result, default=_json_default).encode("utf-8")
            except (TypeError, ValueError) as e:
                raise _Fault("Runtime.MarshalError", "Unable to marshal response: %s" % e)
        except Exception as exc:
            doc = _error_doc(exc, request_id)
            _log_error(doc)
            _post_error(client, "%s/invocation/%s/error" % (_API, request_id), doc)
            continue
        _flush()
        client.request("POST", "%s/invocation/%s/response" % (_API, request_id), out,
                       (("Content-Type", "application/json"),))


def _await_assignment():
    """A spare: started ahead of need with the imports above done, it waits for the
    sandbox it is to become (environment, directory, log file, module path), so a cold
    start does not pay for starting Python."""
    line = sys.stdin.buffer.readline()
    if not line:  # the engine stopped before it needed us
        sys.exit(0)
    job = json.loads(line.decode("utf-8"))
    os.environ.clear()
    os.environ.update(job["env"])
    os.chdir(job["cwd"])
    log = os.open(job["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.path[0:0] = job["path"]  # where PYTHONPATH would have put them
    del sys.argv[1:]  # as if started for this sandbox
    time.tzset()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--spare"]:
        _await_assignment()
    main()
