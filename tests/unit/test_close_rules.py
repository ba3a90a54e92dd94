"""The close's SQL expressions of D-3 and of the transition kinds agree with the registry's pure
rule (``status_on``) and with docs/lifecycle.md's definitions, for any values (hypothesis; the
expressions are evaluated by an in-memory SQLite, no schema involved)."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from cakupan.dates import Month
from cakupan.registry.close import _CLOSED_AND_REPLACED, _TRANSITION_KIND, _status_sql
from cakupan.registry.rules import month_transitions, status_on

MONTHS = st.integers(Month(2024, 1).index, Month(2027, 12).index)
STATUSES = st.sampled_from(("pending", "active", "arrears", "closed", "void"))


@given(month=MONTHS, start=MONTHS, through=st.none() | MONTHS)
def test_status_expression_equals_status_on(month: int, start: int, through: int | None) -> None:
    sql = "SELECT " + _status_sql(":month", ":start", ":through")
    with sqlite3.connect(":memory:") as db:
        [(status,)] = db.execute(sql, {"month": month, "start": start, "through": through})
    expected = status_on(
        Month.from_index(month).last_day,
        Month.from_index(start),
        None if through is None else Month.from_index(through),
    )
    assert status == str(expected)


def expected_kind(e1: int, status1: str, e0: int | None, status0: str | None) -> str | None:
    paying = {"active", "arrears"}
    same = e0 is not None and e0 == e1
    if status1 in paying and not (same and status0 in paying):
        return "new" if e1 == 1 else "reacquired"
    if status1 == "arrears" and same and status0 == "active":
        return "lapsed_to_arrears"
    if status1 == "closed" and same and status0 in paying:
        return "closed_by_system"
    if status1 == "void" and not (same and status0 == "void"):
        return "voided"
    return None


def expected_kinds(e1: int, status1: str, e0: int | None, status0: str | None) -> tuple[str, ...]:
    """docs/lifecycle.md: the in-force episode's kind, then the closure of a replaced episode
    that was paying at the end of the month before."""
    own = expected_kind(e1, status1, e0, status0)
    replaced = e0 is not None and e0 != e1 and status0 in {"active", "arrears"}
    return (*([own] if own else []), *(["closed_by_system"] if replaced else []))


@given(
    e1=st.integers(1, 3),
    status1=STATUSES,
    before=st.none() | st.tuples(st.integers(1, 3), STATUSES),
)
def test_transition_expression_follows_the_definitions(
    e1: int, status1: str, before: tuple[int, str] | None
) -> None:
    e0, status0 = before if before is not None else (None, None)
    sql = f"SELECT {_TRANSITION_KIND} FROM (SELECT :e1 AS e1, :s1 AS status1, :e0 AS e0, :s0 AS status0)"
    with sqlite3.connect(":memory:") as db:
        [(kind,)] = db.execute(sql, {"e1": e1, "s1": status1, "e0": e0, "s0": status0})
    assert kind == expected_kind(e1, status1, e0, status0)


@given(
    e1=st.integers(1, 3),
    status1=STATUSES,
    before=st.none() | st.tuples(st.integers(1, 3), STATUSES),
)
def test_the_close_records_exactly_the_pure_rules_transitions(
    e1: int, status1: str, before: tuple[int, str] | None
) -> None:
    """Both SQL expressions of the close (the in-force episode's kind, and the closure of a
    replaced paying episode) together give ``month_transitions``."""
    e0, status0 = before if before is not None else (None, None)
    row = "(SELECT :e1 AS e1, :s1 AS status1, :e0 AS e0, :s0 AS status0)"
    sql = (
        f"SELECT kind FROM (SELECT {_TRANSITION_KIND} AS kind FROM {row}) t WHERE kind IS NOT NULL"
        f" UNION ALL SELECT 'closed_by_system' FROM {row} WHERE {_CLOSED_AND_REPLACED}"
    )
    with sqlite3.connect(":memory:") as db:
        kinds = tuple(
            k for (k,) in db.execute(sql, {"e1": e1, "s1": status1, "e0": e0, "s0": status0})
        )
    assert (
        kinds
        == month_transitions(e1, status1, e0, status0)
        == expected_kinds(e1, status1, e0, status0)
    )


def test_a_few_transitions_by_hand() -> None:
    assert expected_kind(1, "active", None, None) == "new"
    assert expected_kind(1, "arrears", 1, "pending") == "new"
    assert expected_kind(2, "active", 1, "closed") == "reacquired"
    assert expected_kind(1, "arrears", 1, "active") == "lapsed_to_arrears"
    assert expected_kind(1, "closed", 1, "arrears") == "closed_by_system"
    assert expected_kind(1, "void", 1, "pending") == "voided"
    assert expected_kind(1, "void", 1, "void") is None
    assert expected_kind(1, "active", 1, "active") is None
    # closed on the 1st and re-acquired in the same month: both transitions (issue 19)
    assert month_transitions(2, "active", 1, "arrears") == ("reacquired", "closed_by_system")
    assert month_transitions(2, "pending", 1, "arrears") == ("closed_by_system",)
    assert month_transitions(2, "active", 1, "closed") == ("reacquired",)
