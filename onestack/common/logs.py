"""Structured logs: one logfmt line per event, with the fields a request or action carries.

Every request writes a line, so formatting is kept cheap: the timestamp is formatted once a
second, plain numbers and words are written as they are, and `configure` turns off the record
fields nothing prints (caller's file and line, thread and process names). A value is escaped
as it is printed (quotes, backslashes and control characters, so a client's `\n` or NUL in a
path cannot forge or break a line).
"""

from __future__ import annotations

import logging
import re
import sys
import time

# Record attributes that are not extra fields (uvicorn adds a colourised copy of its message).
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}
_NEEDS_QUOTES = re.compile('[ "=\\\\\x00-\x1f\x7f-\x9f\u2028\u2029]')
_ESCAPED = re.compile('["\\\\\x00-\x1f\x7f-\x9f\u2028\u2029]')
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class LogfmtFormatter(logging.Formatter):
    """`ts=... level=... logger=... msg="..." key=value ...` from a record and its extras."""

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(second))
        parts = [
            f"ts={self._stamp} level={record.levelname.lower()} logger={record.name}",
            f"msg={_quote(record.getMessage())}",
        ]
        parts += [f"{k}={_quote(v)}" for k, v in vars(record).items() if k not in _STANDARD]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _quote(value: object) -> str:
    if type(value) in (int, float):  # never needs quotes
        return str(value)
    text = str(value)
    if not text or _NEEDS_QUOTES.search(text):
        return '"' + _ESCAPED.sub(_escape, text) + '"'
    return text


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def configure(level: str = "info") -> None:
    """Send every onestack log line to stderr in logfmt at `level`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Fields no line prints, each costing every record something (the logging HOWTO's
    # "Optimization"): the caller's file and line, thread, process and multiprocessing names.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
