"""Progress of a web upload being posted (issue 21, item 12): the import reports the rows it has
done; the imports page asks ``GET /imports/progress/{key}`` while its upload request runs.

The state is a small JSON file per upload in a private directory under the system's temporary
directory, not process memory: with ``cakupan serve --workers N`` the page's progress requests
may reach another server process than the one posting the file (all on the same machine). The
key is chosen by the page (random) and the file is named by the user too, so one user never
reads another's progress. Nothing personal is stored: counts and a phase only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["ImportProgress", "count_csv_rows", "read_progress", "valid_key"]

#: How often the file is rewritten at most while rows are being posted.
_MIN_INTERVAL_SECONDS = 0.25
#: Files older than this are removed (an upload that never finished, a server killed mid-way).
_MAX_AGE_SECONDS = 6 * 3600
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _folder() -> Path:
    folder = Path(tempfile.gettempdir()) / f"cakupan-import-progress-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def valid_key(key: str | None) -> bool:
    """A key the page may choose: 8-64 letters, digits, ``-`` or ``_``."""
    return key is not None and _KEY.match(key) is not None


def _path(owner: str, key: str) -> Path:
    digest = hashlib.sha256(f"{owner}\0{key}".encode()).hexdigest()[:32]
    return _folder() / f"{digest}.json"


def count_csv_rows(path: Path) -> int | None:
    """The data rows of a CSV file (lines after the header; a quoted line break counts twice,
    so this is an estimate for the progress bar only), or None for another kind of file."""
    if path.suffix.lower() != ".csv":
        return None
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


class ImportProgress:
    """The progress of one upload: ``rows`` (a callback for the import), ``phase`` and
    ``close``. Writing never fails the import (a full disk only loses the progress display)."""

    def __init__(self, owner: str, key: str, total: int | None) -> None:
        self.path = _path(owner, key)
        self.total = total
        self.rows_done = 0
        self.current = "posting"
        self._written = 0.0
        self._sweep()
        self._write()

    def rows(self, done: int) -> None:
        """Rows checked and posted so far (called by the import after each chunk)."""
        self.rows_done = done
        if time.monotonic() - self._written >= _MIN_INTERVAL_SECONDS:
            self._write()

    def phase(self, name: str) -> None:
        """``posting``, ``reclose`` (closing again the months late rows touched) or ``done``."""
        self.current = name
        self._write()

    def close(self) -> None:
        """Forget the upload (its result page has been answered)."""
        self.path.unlink(missing_ok=True)

    def _write(self) -> None:
        self._written = time.monotonic()
        state = {"phase": self.current, "rows": self.rows_done, "total": self.total}
        temporary = self.path.with_suffix(".tmp")
        with contextlib.suppress(OSError):
            temporary.write_text(json.dumps(state))
            temporary.replace(self.path)

    def _sweep(self) -> None:
        cutoff = time.time() - _MAX_AGE_SECONDS
        with contextlib.suppress(OSError):
            for old in self.path.parent.glob("*.json"):
                if old.stat().st_mtime < cutoff:
                    old.unlink(missing_ok=True)


def read_progress(owner: str, key: str) -> dict[str, Any] | None:
    """``{"phase", "rows", "total", "percent"}`` of the user's upload ``key``, or None."""
    if not valid_key(key):
        return None
    try:
        state = json.loads(_path(owner, key).read_text())
    except (OSError, ValueError):
        return None
    total, rows = state.get("total"), int(state.get("rows") or 0)
    percent = None
    if isinstance(total, int) and total > 0:
        percent = min(100, rows * 100 // total)
    return {"phase": state.get("phase"), "rows": rows, "total": total, "percent": percent}
