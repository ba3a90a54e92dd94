"""The one date helper: business time zone, clocks, and calendar months (``YYYY-MM``).

Months are stored in the database as an integer index (``year * 12 + month - 1``) so that
set-based SQL can do month arithmetic (``paid_through + 4``) on every engine; in Python they are
:class:`Month` values and on every edge (CLI, API, files) they are ``YYYY-MM`` strings.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from cakupan.settings import BUSINESS_TIME_ZONE

JAKARTA = ZoneInfo(BUSINESS_TIME_ZONE)

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month. Ordered, hashable, supports ``month + n`` and ``month - other``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1-12, got {self.month}")
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year must be 1-9999, got {self.year}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse ``YYYY-MM``; raise ``ValueError`` with a readable reason otherwise."""
        match = _MONTH_RE.match(text.strip()) if isinstance(text, str) else None
        if not match:
            raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        """The month a date falls in."""
        return cls(day.year, day.month)

    @classmethod
    def from_index(cls, index: int) -> Month:
        """Inverse of :attr:`index`."""
        year, month0 = divmod(index, 12)
        return cls(year, month0 + 1)

    @property
    def index(self) -> int:
        """Months since year 0: the database representation."""
        return self.year * 12 + self.month - 1

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __add__(self, months: int) -> Month:
        return Month.from_index(self.index + months)

    def __sub__(self, other: Month) -> int:
        return self.index - other.index

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __repr__(self) -> str:
        return f"Month('{self}')"


def parse_date(text: str) -> date:
    """Parse ``YYYY-MM-DD`` strictly; raise ``ValueError`` with a readable reason otherwise."""
    if not isinstance(text, str) or not _DATE_RE.match(text.strip()):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {text!r}")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar date") from None


def month_range(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last`` inclusive (empty when last < first)."""
    return [first + i for i in range(last - first + 1)]


class Clock(Protocol):
    """Where "now" comes from. Rules never read a clock; actions get one injected."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, in Asia/Jakarta.

    A test harness may pin it to another clock with :func:`pinned_system_clock` (a Python context
    manager, called only by the test fixtures): then every ``SystemClock()`` in the process (the
    CLI's, a page's, an action given no clock) reads the pinned clock. Nothing in the settings, the
    environment or the command line can pin it, so a deployment cannot switch it on by accident.
    """

    def now(self) -> datetime:
        pinned = _PINNED[0]
        if pinned is not None:
            return pinned.now().astimezone(JAKARTA)
        return datetime.now(JAKARTA)


#: The clock that ``SystemClock`` reads instead of the real one while a test pins it (a module
#: global, not a context variable: the browser tests' server runs in a thread of its own).
_PINNED: list[Clock | None] = [None]


@contextmanager
def pinned_system_clock(clock: Clock) -> Iterator[Clock]:
    """Make every ``SystemClock`` in this process read ``clock`` inside the block (tests only).

    The suite's fixtures pin a :class:`FixedClock` for every test so that no result depends on the
    day the suite runs (docs/time.md)."""
    previous = _PINNED[0]
    _PINNED[0] = clock
    try:
        yield clock
    finally:
        _PINNED[0] = previous


@dataclass
class FixedClock:
    """A clock that stands still (tests, replays); ``advance`` moves it on."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


def today(clock: Clock) -> date:
    """The business date (Asia/Jakarta) of a clock."""
    return clock.now().astimezone(JAKARTA).date()
