"""No NIK in logs: 16-digit numbers in log messages, arguments and tracebacks are masked."""

from __future__ import annotations

import logging
import re

from cakupan.access import mask_nik

_NIK_RE = re.compile(r"(?<!\d)\d{16}(?!\d)")


def redact(text: str) -> str:
    """``text`` with every 16-digit number (a NIK) masked as ``3577********0001``."""
    return _NIK_RE.sub(lambda match: mask_nik(match.group(0)), text)


class NikRedactingFilter(logging.Filter):
    """A logging filter that masks NIKs in the formatted message and the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


#: Loggers that can carry request data (paths, query strings, error messages).
REDACTED_LOGGERS = ("cakupan.web", "uvicorn.access", "uvicorn.error")


def install_redaction() -> None:
    """Attach the filter to the loggers the web app and uvicorn write to (idempotent)."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, NikRedactingFilter) for f in logger.filters):
            logger.addFilter(NikRedactingFilter())
