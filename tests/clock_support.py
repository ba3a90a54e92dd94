"""The suite's clock: every test runs at :data:`TEST_NOW` whatever day the machine says it is.

``tests/conftest.py`` pins :class:`TestClock` as the process clock (``pinned_system_clock``) for the
whole session and sets it back to :data:`TEST_NOW` before each test, so every action, page, CLI
call and browser-test server started by a test reads the test's time, never today's. A test that
needs another moment takes the ``test_clock`` fixture and calls ``set``/``advance``, or passes its
own ``FixedClock`` to the code under test. Subprocesses get the same clock through
``python -m tests.clocked`` (:func:`clocked_command`). See docs/time.md.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

from cakupan.dates import JAKARTA

#: The instant every test starts at: a Thursday, November 2026, inside the PP 50/2025 discount
#: windows of every sector, after October's close and before November's (the suite's data and
#: expected amounts were written for it).
TEST_NOW = datetime(2026, 11, 26, 10, 0, tzinfo=JAKARTA)


class TestClock:
    """A clock that starts at a chosen instant and then runs with the real (monotonic) time, so
    that instants taken one after another still differ and order as they did, while the date is
    the test's. ``set`` and ``advance`` move it (follow-up dates, expiries, month ends)."""

    __test__ = False  # not a test class, whatever pytest's name rule thinks

    def __init__(self, at: datetime = TEST_NOW) -> None:
        self.set(at)

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("the test clock needs an aware datetime")
        self._anchor = at.astimezone(JAKARTA)
        self._started = time.monotonic()

    def advance(self, delta: timedelta) -> None:
        self._anchor += delta

    def now(self) -> datetime:
        return self._anchor + timedelta(seconds=time.monotonic() - self._started)


def clocked_command(at: datetime = TEST_NOW) -> list[str]:
    """The start of a subprocess command line that runs ``cakupan ...`` on a test clock: append
    the usual arguments (``[*clocked_command(), "--database-url", url, "serve", ...]``)."""
    return [sys.executable, "-m", "tests.clocked", at.isoformat()]
