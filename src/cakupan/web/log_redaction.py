"""No NIK in logs: every 16-digit number is masked in a log line *after* it is formatted.

Masking happens in the formatter's output (message, arguments, request line, traceback and
exception text alike), never by rewriting the record: uvicorn's access formatter reads
``record.args`` itself, so a filter that replaced them broke it (``--- Logging error ---``) and
the unmasked request line was dumped instead (issue 21).

- :class:`RedactingFormatter` wraps any formatter; :func:`install_redaction` wraps the
  formatter of every handler configured so far (root, every named logger, and logging's
  last-resort handler), idempotently.
- :func:`uvicorn_log_config` is uvicorn's own logging configuration with redacting formatters,
  passed to ``uvicorn.run`` so the server's loggers are masked from their first line, in every
  worker process.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from cakupan.access import mask_nik

_NIK_RE = re.compile(r"(?<!\d)\d{16}(?!\d)")


def redact(text: str) -> str:
    """``text`` with every 16-digit number (a NIK) masked as ``3577********0001``."""
    return _NIK_RE.sub(lambda match: mask_nik(match.group(0)), text)


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner`` (the default formatter when None), then masks NIKs in the text."""

    def __init__(self, inner: logging.Formatter | None = None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def _redacting_subclass(base: type[logging.Formatter]) -> type[logging.Formatter]:
    class Redacting(base):  # type: ignore[valid-type,misc]
        def format(self, record: logging.LogRecord) -> str:
            return redact(super().format(record))

    Redacting.__name__ = Redacting.__qualname__ = f"Redacting{base.__name__}"
    return Redacting


def _uvicorn_formatters() -> tuple[type[logging.Formatter], type[logging.Formatter]]:
    from uvicorn.logging import AccessFormatter, DefaultFormatter

    return _redacting_subclass(DefaultFormatter), _redacting_subclass(AccessFormatter)


RedactingDefaultFormatter, RedactingAccessFormatter = _uvicorn_formatters()


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's ``LOGGING_CONFIG`` with NIK-masking formatters, plus the ``cakupan`` loggers
    (INFO, to standard error) through the same masking."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"]["()"] = f"{__name__}.RedactingDefaultFormatter"
    config["formatters"]["access"]["()"] = f"{__name__}.RedactingAccessFormatter"
    config["loggers"]["cakupan"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _wrap(handler: logging.Handler) -> None:
    formatter = handler.formatter
    if isinstance(formatter, RedactingFormatter) or type(formatter).__name__.startswith(
        "Redacting"
    ):
        return
    handler.setFormatter(RedactingFormatter(formatter))


def install_redaction() -> None:
    """Mask NIKs in the output of every handler configured so far (idempotent): the root
    logger's, every named logger's, and the last-resort handler that prints warnings when no
    handler is configured (a CLI run)."""
    if logging.lastResort is not None:
        _wrap(logging.lastResort)
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            _wrap(handler)
