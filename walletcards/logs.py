"""Logging for every entry point (`serve`, `worker`, gunicorn via wsgi.py): one format, set once.

``WALLETCARDS_LOG_LEVEL`` (DEBUG, INFO, WARNING, ERROR) and ``WALLETCARDS_LOG_FORMAT``
(``text``, or ``json`` for log shippers: one JSON object a line). Secrets never reach a log
line: settings hide them, and database URLs are logged with :func:`safe_url`.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy.engine import make_url

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# what every LogRecord has; anything else came in through ``extra=`` and goes into the JSON
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...extra, "exception"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def configure(level: str = "INFO", fmt: str = "text", stream: IO[str] | None = None) -> None:
    """Send every logger's records to stderr in the one format. Idempotent: a second call
    (wsgi.py under gunicorn's own config, which already installed it) only sets the level."""
    root = logging.getLogger()
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # 7 lines at import
    ours = [h for h in root.handlers if isinstance(h.formatter, TextFormatter | JsonFormatter)]
    if ours and stream is None:
        for handler in ours:
            handler.setFormatter(formatter(fmt))
        return
    for handler in ours:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    root.addHandler(handler)


def gunicorn_config(level: str = "INFO", fmt: str = "text") -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its error and access logs in our format, to stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": "walletcards"}
    handler["stream"] = "ext://sys.stderr"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"walletcards": {"()": type(formatter(fmt))}},
        "handlers": {"console": handler},
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {
            name: {"level": level, "handlers": [], "propagate": True}
            for name in ("gunicorn.error", "gunicorn.access")
        },
    }


def safe_url(url: str) -> str:
    """A database URL fit for a log line: the password replaced by ***."""
    return make_url(url).render_as_string(hide_password=True)
