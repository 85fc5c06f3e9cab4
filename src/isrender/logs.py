"""Structured logs: one format for every line (``text`` or ``json``), a request id on each.

``configure(fmt, level)`` installs one root handler; uvicorn's loggers propagate to it (its
own access log is replaced by ``access``). The request id lives in a context variable, set by
the HTTP middleware (``isrender.server.ops``) for the length of a request, so any line logged
while serving it, in the event loop or in a worker thread started with the request's context,
carries it. Job code calls ``job_event("job.started", job="j|1||x|5", entries=3)``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any, Literal

__all__ = [
    "LogFormat",
    "access",
    "configure",
    "job_event",
    "request_id",
    "sane_request_id",
]

LogFormat = Literal["text", "json"]
NO_REQUEST = "-"
request_id: ContextVar[str] = ContextVar("isrender_request_id", default=NO_REQUEST)
# an incoming X-Request-ID is echoed into logs and headers: keep it short and printable
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_DROPPED = {"request_id", "color_message"}  # ours, and uvicorn's ANSI-coloured duplicate

access_log = logging.getLogger("isrender.access")
jobs_log = logging.getLogger("isrender.jobs")


def sane_request_id(incoming: str | None) -> str:
    """The client's id when it is short and printable, else a new one."""
    if incoming and _SANE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields passed as ``extra=`` (anything not a standard record attribute)."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and k not in _DROPPED}


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", NO_REQUEST),
            "msg": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = " ".join(f"{k}={_text_value(v)}" for k, v in _fields(record).items())
        return f"{text} {extra}" if extra else text


def _text_value(value: object) -> str:
    text = str(value)
    return json.dumps(text) if not text or any(c in text for c in ' "=\n') else text


def configure(fmt: LogFormat = "text", level: str = "info") -> None:
    """One stderr handler on the root logger; uvicorn's loggers propagate to it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True


def access(method: str, route: str, path: str, status: int, size: int, seconds: float) -> None:
    """The one access line of a request (uvicorn's own access log is switched off)."""
    if not access_log.isEnabledFor(logging.INFO):  # before the fields are made
        return
    access_log.info(
        "%s %s %d",
        method,
        path,
        status,
        extra={"method": method, "route": route, "status": status, "bytes": size,
               "duration_ms": round(seconds * 1000, 2)},
    )  # fmt: skip


def job_event(name: str, /, **fields: Any) -> None:
    """A job event as one structured line: ``job_event("job.finished", job=h, outcome=o)``."""
    # a field named like a LogRecord attribute ("name", "msg") would make logging raise
    safe = {(f"{k}_" if k in _STANDARD else k): v for k, v in fields.items()}
    jobs_log.info(name, extra={"event": name, **safe})
