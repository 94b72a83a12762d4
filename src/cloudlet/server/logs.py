"""One log line per request: method, service, operation, status, ms. Quiet by default."""

from __future__ import annotations

import logging
import time

import orjson

log = logging.getLogger("cloudlet.request")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name}
        fields = getattr(record, "fields", None)
        if fields:
            data.update(fields)
        else:
            data["message"] = record.getMessage()
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(data).decode()


def configure(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("cloudlet")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def log_request(method: str, service: str, operation: str, status: int, start: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    ms = round((time.perf_counter() - start) * 1000, 2)
    fields = {"method": method, "service": service, "operation": operation, "status": status, "ms": ms}
    log.info("%s %s %s %s %.2fms", method, service, operation, status, ms, extra={"fields": fields})
