"""The participants and payments file imports (``cakupan participants import`` / ``cakupan
payments import``) on SQLite and PostgreSQL: every column's validation, all-or-nothing versus
``--partial``, re-imports, conflicts, XLSX, unusable files, a hypothesis property (replaying a
sequence of imports changes nothing) and concurrent importers on PostgreSQL."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from cakupan.audit import AuditEntry
from cakupan.auth import Actor
from cakupan.db import is_postgres, transaction
from cakupan.imports import ImportResult
from cakupan.registry.imports import import_participants, import_payments
from cakupan.registry.models import (
    ImportBatch,
    Membership,
    Participant,
    Payment,
)
from tests.conftest import CliResult

ACTOR = Actor.system("test-imports")
FLOOR = 16_800  # JKK+JKM at base Rp 1.000.000, every month used here (2025)
PARTICIPANT_HEADER = (
    "nik,name,phone,occupation,reported_income,programs,registered_on,sex,birth_date,email,"
    "village_code,district_code,sector,funding,channel,branch_code,partner_code,agent_code"
)
PAYMENT_HEADER = "reference,nik,amount,paid_on,channel,partner_code,agent_code"

Cli = Callable[..., CliResult]


def nik(serial: int) -> str:
    """A valid NIK of district 16.71.01 (a man born 1990-01-01) with the given serial."""
    return f"167101010190{serial:04d}"


def participant_line(serial: int, registered_on: str = "2025-03-05", **values: str) -> str:
    row = {
        "nik": nik(serial),
        "name": f"Peserta {serial}",
        "phone": "081234567890",
        "occupation": "farmer",
        "reported_income": "1000000",
        "programs": "JKK+JKM",
        "registered_on": registered_on,
        "sex": "M",
        "birth_date": "1990-01-01",
        "email": f"p{serial}@contoh.id",
        "village_code": "",
        "district_code": "16.71.01",
        "sector": "other",
        "funding": "self",
        "channel": "branch",
        "branch_code": "",
        "partner_code": "",
        "agent_code": "",
    }
    row.update(values)
    return ",".join(row[column] for column in PARTICIPANT_HEADER.split(","))


def payment_line(reference: str, serial: int, amount: int, paid_on: str, **values: str) -> str:
    row = {
        "reference": reference,
        "nik": nik(serial),
        "amount": str(amount),
        "paid_on": paid_on,
        "channel": "",
        "partner_code": "",
        "agent_code": "",
    }
    row.update(values)
    return ",".join(row[column] for column in PAYMENT_HEADER.split(","))


def write(path: Path, header: str, lines: list[str]) -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def run(cli: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("--lang", "en", *args, "--json")
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def count(engine: Engine, model: Any) -> int:
    with transaction(engine) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


# -- participants --------------------------------------------------------------------------------

BAD_PARTICIPANT_VALUES = [
    ("nik", "1671010101900000", "0000"),
    ("nik", "12345", "16 digits"),
    ("name", "", "name is required"),
    ("phone", "12", "8-15 digits"),
    ("occupation", "astronaut", "astronaut"),
    ("reported_income", "1.5jt", "whole number of rupiah"),
    ("programs", "JHT", "JKK+JKM, JKK+JKM+JHT"),
    ("registered_on", "05/03/2025", "YYYY-MM-DD"),
    ("registered_on", "", "required"),
    ("sex", "X", "'X'"),
    ("birth_date", "1990/01/01", "YYYY-MM-DD"),
    ("email", "not-an-email", "not-an-email"),
    ("village_code", "9999999999", "9999999999"),
    ("district_code", "99.99.99", "99.99.99"),
    ("sector", "mining", "transport, other"),
    ("funding", "bank", "self, apbn, apbd"),
    ("channel", "tv", "branch, online, agent, partner"),
    ("branch_code", "NOPE", "NOPE"),
    ("partner_code", "bad code!", "bad code!"),
    ("agent_code", "bad code!", "bad code!"),
]


@pytest.mark.parametrize(("column", "value", "fragment"), BAD_PARTICIPANT_VALUES)
def test_participant_column_validation(
    cli: Cli, tmp_path: Path, engine: Engine, column: str, value: str, fragment: str
) -> None:
    path = write(
        tmp_path / "participants.csv",
        PARTICIPANT_HEADER,
        [participant_line(1), participant_line(2, **{column: value})],
    )
    code, body = run(cli, "participants", "import", str(path))
    assert code == 1
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (0, 0, 1)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, column)]
    assert fragment in body["errors"][0]["message"]
    assert count(engine, Participant) == 0  # all or nothing: the good first row is not kept


def test_participants_all_or_nothing_then_partial_then_reimport(
    cli: Cli, tmp_path: Path, engine: Engine
) -> None:
    path = write(
        tmp_path / "participants.csv",
        PARTICIPANT_HEADER,
        [
            participant_line(1),
            participant_line(2, phone="12", programs="JHT"),
            participant_line(3),
            participant_line(4, occupation="astronaut"),
        ],
    )
    code, body = run(cli, "participants", "import", str(path))
    assert code == 1
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (0, 0, 2)
    # every bad row and field is reported, in row order
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (2, "phone"),
        (2, "programs"),
        (4, "occupation"),
    ]
    assert count(engine, Participant) == 0

    code, body = run(cli, "participants", "import", str(path), "--partial")
    assert code == 1
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 0, 2)
    with transaction(engine) as session:
        niks = set(session.execute(select(Participant.nik)).scalars())
    assert niks == {nik(1), nik(3)}

    code, body = run(cli, "participants", "import", str(path), "--partial")
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (0, 2, 2)
    assert count(engine, Participant) == 2

    good = write(
        tmp_path / "good.csv", PARTICIPANT_HEADER, [participant_line(1), participant_line(3)]
    )
    code, body = run(cli, "participants", "import", str(good))
    assert (code, body) == (0, {"accepted": 0, "duplicates": 2, "rejected": 0, "errors": []})


def test_required_columns_only_and_a_second_registration_is_refused(
    cli: Cli, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "minimal.csv",
        "nik,name,phone,occupation,reported_income,programs,registered_on",
        [f"{nik(5)},Ani,081299998888,fisher,2500000,JKK+JKM+JHT,2025-02-01"],
    )
    code, body = run(cli, "participants", "import", str(path))
    assert (code, body["accepted"]) == (0, 1)
    again = write(
        tmp_path / "again.csv",
        "nik,name,phone,occupation,reported_income,programs,registered_on",
        [f"{nik(5)},Ani Lain,081299998888,fisher,2500000,JKK+JKM,2025-02-03"],
    )
    code, body = run(cli, "participants", "import", str(again))
    assert code == 1
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(1, "nik")]


# -- payments ------------------------------------------------------------------------------------


@pytest.fixture
def registered(cli: Cli, tmp_path: Path) -> None:
    """Participants 1-3 registered on 2025-03-05 (through the participants import)."""
    path = write(
        tmp_path / "registered.csv",
        PARTICIPANT_HEADER,
        [participant_line(serial) for serial in (1, 2, 3)],
    )
    code, body = run(cli, "participants", "import", str(path))
    assert (code, body["accepted"]) == (0, 3)


BAD_PAYMENT_ROWS = [
    (payment_line("", 1, FLOOR, "2025-03-10"), "reference", "reference is required"),
    (payment_line("X1", 1, FLOOR, "2025-03-10").replace(nik(1), "123"), "nik", "16 digits"),
    (payment_line("X1", 9, FLOOR, "2025-03-10"), "nik", "not registered"),
    (payment_line("X1", 1, 16_000, "2025-03-10"), "amount", "Rp 16.800 (1 month)"),
    (
        payment_line("X1", 1, FLOOR, "2025-03-10").replace(str(FLOOR), "16.800"),
        "amount",
        "whole number",
    ),
    (payment_line("X1", 1, FLOOR, "10-03-2025"), "paid_on", "YYYY-MM-DD"),
    (payment_line("X1", 1, FLOOR, "2025-02-10"), "paid_on", "before the registration"),
    (payment_line("X1", 1, FLOOR, "2099-03-10"), "paid_on", "future"),
    (payment_line("X1", 1, FLOOR, "2025-03-10", channel="Bank Transfer"), "channel", "channel"),
    (payment_line("X1", 1, FLOOR, "2025-03-10", partner_code="bad code!"), "partner_code", "bad"),
    (payment_line("X1", 1, FLOOR, "2025-03-10", agent_code="bad code!"), "agent_code", "bad"),
]


@pytest.mark.usefixtures("registered")
@pytest.mark.parametrize(("line", "column", "fragment"), BAD_PAYMENT_ROWS)
def test_payment_column_validation(
    cli: Cli, tmp_path: Path, engine: Engine, line: str, column: str, fragment: str
) -> None:
    path = write(
        tmp_path / "payments.csv",
        PAYMENT_HEADER,
        [payment_line("OK1", 2, FLOOR, "2025-03-10"), line],
    )
    code, body = run(cli, "payments", "import", str(path))
    assert code == 1
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (0, 0, 1)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, column)]
    assert fragment in body["errors"][0]["message"]
    assert count(engine, Payment) == 0


@pytest.mark.usefixtures("registered")
def test_payments_multi_month_partial_reimport_and_conflict(
    cli: Cli, tmp_path: Path, engine: Engine
) -> None:
    path = write(
        tmp_path / "bank-2025-04.csv",
        PAYMENT_HEADER,
        [
            payment_line("B1", 1, FLOOR, "2025-03-10"),  # March
            payment_line("B2", 1, 3 * FLOOR, "2025-04-10"),  # April-June in one payment
            payment_line("B3", 2, 12 * FLOOR, "2025-03-11", channel="brilink"),  # a year
            payment_line("B4", 3, FLOOR + 1, "2025-03-12"),  # not a whole number of months
        ],
    )
    code, body = run(cli, "payments", "import", str(path))
    assert (code, body["accepted"], body["rejected"]) == (1, 0, 1)
    assert count(engine, Payment) == 0

    code, body = run(cli, "payments", "import", str(path), "--partial")
    assert (code, body["accepted"], body["duplicates"], body["rejected"]) == (1, 3, 0, 1)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(4, "amount")]
    status = json.loads(cli("status", nik(1), "--as-of", "2025-06-30", "--json").stdout)
    assert (status["status"], status["paid_through"], status["months_paid_in_episode"]) == (
        "active",
        "2025-06",
        4,
    )
    status = json.loads(cli("status", nik(2), "--as-of", "2025-06-30", "--json").stdout)
    assert (status["paid_through"], status["months_paid_in_episode"]) == ("2026-02", 12)
    with transaction(engine) as session:
        channels = dict(session.execute(select(Payment.reference, Payment.channel)).all())
        batches = session.execute(
            select(ImportBatch.kind, ImportBatch.accepted, ImportBatch.rejected)
        ).all()
        linked = session.execute(
            select(func.count()).select_from(Payment).where(Payment.batch_id.is_not(None))
        ).scalar_one()
    assert channels == {"B1": "bank", "B2": "bank", "B3": "brilink"}  # default channel: bank
    assert sorted(batches) == [("participants", 3, 0), ("payments", 3, 1)]
    assert linked == 3

    # the same file again: nothing new
    code, body = run(cli, "payments", "import", str(path), "--partial")
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (0, 3, 1)
    assert count(engine, Payment) == 3

    # the same reference with other content is a conflict, reported on its row
    other = write(
        tmp_path / "other.csv",
        PAYMENT_HEADER,
        [payment_line("B1", 1, FLOOR, "2025-03-10"), payment_line("B2", 1, FLOOR, "2025-04-11")],
    )
    code, body = run(cli, "payments", "import", str(other))
    assert (code, body["accepted"], body["duplicates"], body["rejected"]) == (1, 0, 1, 1)
    [error] = body["errors"]
    assert error["row"] == 2
    assert "B2" in error["message"]
    assert "different content" in error["message"]
    assert count(engine, Payment) == 3


def test_payments_for_participants_imported_in_the_same_session(cli: Cli, tmp_path: Path) -> None:
    people = write(
        tmp_path / "p.csv",
        PARTICIPANT_HEADER,
        [participant_line(7, registered_on="2025-12-01")],
    )
    pays = write(
        tmp_path / "pay.csv",
        PAYMENT_HEADER,
        [
            payment_line("N1", 7, FLOOR, "2025-12-02"),
            payment_line("N2", 7, 2 * FLOOR, "2026-01-05"),  # Jan and Feb 2026: year boundary
        ],
    )
    assert run(cli, "participants", "import", str(people))[0] == 0
    code, body = run(cli, "payments", "import", str(pays))
    assert (code, body["accepted"]) == (0, 2)
    status = json.loads(cli("status", nik(7), "--as-of", "2026-02-28", "--json").stdout)
    assert (status["paid_through"], status["months_paid_in_episode"]) == ("2026-02", 3)


def test_xlsx_files(cli: Cli, tmp_path: Path, engine: Engine) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(
        ["NIK", "name", "phone", "occupation", "reported_income", "programs", "registered_on"]
    )
    sheet.append(
        [nik(11), "Wati", "081211112222", "market_trader", 1_000_000, "JKK+JKM", date(2025, 3, 1)]
    )
    sheet.append(
        [nik(12), "Joko", "081233334444", "porter", 1_000_000, "JKK+JKM", date(2025, 3, 2)]
    )
    people = tmp_path / "people.xlsx"
    book.save(people)
    book = Workbook()
    sheet = book.active
    sheet.append(["reference", "nik", "amount", "paid_on", "channel"])
    sheet.append(["X1", nik(11), 2 * FLOOR, date(2025, 3, 3), "pos"])
    sheet.append(["X2", nik(12), 1000, date(2025, 3, 3), "pos"])
    pays = tmp_path / "pays.xlsx"
    book.save(pays)

    assert run(cli, "participants", "import", str(people)) == (
        0,
        {"accepted": 2, "duplicates": 0, "rejected": 0, "errors": []},
    )
    code, body = run(cli, "payments", "import", str(pays), "--partial")
    assert (code, body["accepted"], body["rejected"]) == (1, 1, 1)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "amount")]
    with transaction(engine) as session:
        membership = session.execute(
            select(Membership.paid_through_month, Membership.months_paid)
            .join(Participant, Participant.id == Membership.participant_id)
            .where(Participant.nik == nik(11))
        ).one()
    assert (str(membership[0]), membership[1]) == ("2025-04", 2)


def test_unusable_files_exit_2(cli: Cli, tmp_path: Path, engine: Engine) -> None:
    missing = cli("payments", "import", str(tmp_path / "nope.csv"), "--json")
    assert missing.exit_code == 2
    assert "nope.csv" in missing.stderr
    assert missing.stdout == ""

    header = write(tmp_path / "header.csv", "reference,nik,paid_on", ["R1,x,2025-01-01"])
    wrong = cli("--lang", "en", "payments", "import", str(header), "--json")
    assert wrong.exit_code == 2
    assert "amount" in wrong.stderr

    latin = tmp_path / "latin1.csv"
    latin.write_bytes(
        (PARTICIPANT_HEADER + "\n" + participant_line(1, name="Andr\xe9")).encode("latin-1")
    )
    encoding = cli("--lang", "en", "participants", "import", str(latin), "--json")
    assert encoding.exit_code == 2
    assert "UTF-8" in encoding.stderr

    unknown = write(tmp_path / "unknown.csv", PAYMENT_HEADER + ",colour", [])
    assert cli("payments", "import", str(unknown), "--json").exit_code == 2
    assert count(engine, ImportBatch) == 0


def test_an_import_is_audited_once_with_the_file(cli: Cli, tmp_path: Path, engine: Engine) -> None:
    path = write(
        tmp_path / "p.csv",
        PARTICIPANT_HEADER,
        [participant_line(serial) for serial in range(20, 30)],
    )
    assert run(cli, "participants", "import", str(path))[0] == 0
    with transaction(engine) as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.after).where(
                AuditEntry.action.like("participants%")
            )
        ).all()
    assert len(rows) == 1
    action, after = rows[0]
    assert action == "participants.import"
    assert (after["file"], after["accepted"], after["rejected"]) == ("p.csv", 10, 0)
    assert len(after["sha256"]) == 64


# -- property: replaying a sequence of imports changes nothing --------------------------------

_example = itertools.count(1)


@st.composite
def import_sequences(draw: st.DrawFn) -> tuple[list[tuple[str, list[str], bool]], list[int]]:
    """Files in chronological order: one participants file, then payment files cut from a
    chronological list of payments (valid multiples of the floor, wrong amounts, repeats of an
    earlier row, conflicting reuses of a reference), each imported with or without --partial."""
    example = next(_example)
    serials = [1000 + example * 4 + i for i in range(draw(st.integers(1, 3)))]
    registered = date(2025, 1, 6)
    people = [participant_line(s, registered_on=registered.isoformat()) for s in serials]
    events: list[tuple[date, str]] = []
    for position, serial in enumerate(serials):
        day = registered + timedelta(days=position)
        for index in range(draw(st.integers(0, 5))):
            day += timedelta(days=draw(st.sampled_from((1, 20, 35, 80, 140))))
            ref = f"H{example}-{serial}-{index}"
            kind = draw(st.sampled_from(("ok", "ok", "ok", "bad_amount", "repeat", "conflict")))
            months = draw(st.integers(1, 3))
            amount = months * FLOOR + (7 if kind == "bad_amount" else 0)
            events.append((day, payment_line(ref, serial, amount, day.isoformat())))
            if kind == "repeat":
                events.append((day, payment_line(ref, serial, amount, day.isoformat())))
            if kind == "conflict":
                events.append((day, payment_line(ref, serial, amount + FLOOR, day.isoformat())))
    events.sort(key=lambda event: event[0])
    lines = [line for _, line in events]
    cuts = sorted(draw(st.lists(st.integers(0, len(lines)), max_size=2)))
    files = [("participants", people, draw(st.booleans()))]
    for start, end in itertools.pairwise([0, *cuts, len(lines)]):
        if end > start:
            files.append(("payments", lines[start:end], draw(st.booleans())))
    return files, serials


def _ledger(engine: Engine, serials: list[int]) -> dict[str, Any]:
    niks = [nik(s) for s in serials]
    with transaction(engine) as session:
        memberships = session.execute(
            select(
                Participant.nik,
                Membership.episode_no,
                Membership.start_month,
                Membership.paid_through_month,
                Membership.months_paid,
                Membership.card_number,
            )
            .join(Participant, Participant.id == Membership.participant_id)
            .where(Participant.nik.in_(niks))
            .order_by(Participant.nik, Membership.episode_no)
        ).all()
        payments = session.execute(
            select(
                Payment.channel,
                Payment.reference,
                Participant.nik,
                Payment.amount,
                Payment.paid_on,
                Payment.first_month,
                Payment.months,
            )
            .join(Participant, Participant.id == Payment.participant_id)
            .where(Participant.nik.in_(niks))
            .order_by(Payment.channel, Payment.reference)
        ).all()
    return {
        "memberships": [tuple(r) for r in memberships],
        "payments": [tuple(r) for r in payments],
    }


def _replay(
    engine: Engine, tmp: Path, files: list[tuple[str, list[str], bool]]
) -> list[ImportResult]:
    results = []
    for number, (kind, lines, partial) in enumerate(files):
        if kind == "participants":
            path = write(tmp / f"{number}-p.csv", PARTICIPANT_HEADER, lines)
            results.append(import_participants(engine, ACTOR, path, partial=partial))
        else:
            path = write(tmp / f"{number}-pay.csv", PAYMENT_HEADER, lines)
            results.append(import_payments(engine, ACTOR, path, partial=partial))
    return results


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=import_sequences())
def test_replaying_imports_gives_the_same_ledger(
    engine: Engine, tmp_path: Path, sequence: tuple[list[tuple[str, list[str], bool]], list[int]]
) -> None:
    # Each example has its own NIKs and references, so examples share the database safely.
    files, serials = sequence
    first = _replay(engine, tmp_path, files)
    ledger = _ledger(engine, serials)
    second = _replay(engine, tmp_path, files)
    assert _ledger(engine, serials) == ledger
    for (_, lines, partial), before, after in zip(files, first, second, strict=True):
        # nothing new; every row is a duplicate or rejected again (a row rejected the first time
        # because another version of its reference came later in the sequence is a conflict or a
        # duplicate now, so the split between the two may differ). Counted against the file's
        # rows, not the first pass's counts: a refused all-or-nothing file reports its valid rows
        # as 0 accepted (on both passes), and a later file may have posted one of them since (a
        # repeated row cut into two files), which the replay then counts as a duplicate.
        assert after.accepted == 0
        assert before.accepted + before.duplicates + before.rejected <= len(lines)
        if after.rejected and not partial:
            assert after.duplicates + after.rejected <= len(lines)
        else:
            assert after.duplicates + after.rejected == len(lines)
    # a replay is a fixed point: a third one answers exactly like the second
    third = _replay(engine, tmp_path, files)
    assert _ledger(engine, serials) == ledger
    assert [r.as_json() for r in third] == [r.as_json() for r in second]


# -- concurrency (PostgreSQL) ------------------------------------------------------------------


@pytest.mark.postgres_only
def test_concurrent_overlapping_payment_imports_lose_and_duplicate_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    assert is_postgres(engine)
    serials = list(range(300, 340))
    people = write(
        tmp_path / "people.csv",
        PARTICIPANT_HEADER,
        [participant_line(s, registered_on="2025-01-06") for s in serials],
    )
    assert import_participants(engine, ACTOR, people).accepted == len(serials)

    def payments_of(serial: int) -> list[str]:
        # six monthly payments in date order: January to June
        return [
            payment_line(f"C{serial}-{m}", serial, FLOOR, f"2025-{m:02d}-10") for m in range(1, 7)
        ]

    files, rows = [], 0
    in_files: set[int] = set()
    for worker in range(8):
        # worker w takes 15 participants from 5w on (mod 40): each participant is in 3 files
        chosen = [serials[(worker * 5 + i) % len(serials)] for i in range(15)]
        in_files.update(chosen)
        lines = [line for serial in chosen for line in payments_of(serial)]
        rows += len(lines)
        files.append(write(tmp_path / f"worker{worker}.csv", PAYMENT_HEADER, lines))
    results: list[ImportResult] = []
    failures: list[BaseException] = []
    start = threading.Barrier(len(files))

    def work(path: Path) -> None:
        try:
            start.wait()
            results.append(import_payments(engine, ACTOR, path))
        except BaseException as error:  # reported below, with the worker's file
            failures.append(error)

    threads = [threading.Thread(target=work, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures
    assert len(results) == len(files)
    assert all(r.rejected == 0 for r in results), [r.as_json() for r in results]
    expected = {f"C{s}-{m}" for s in in_files for m in range(1, 7)}
    with transaction(engine) as session:
        references = list(session.execute(select(Payment.reference)).scalars())
        projections = session.execute(
            select(Participant.nik, Membership.paid_through_month, Membership.months_paid).join(
                Participant, Participant.id == Membership.participant_id
            )
        ).all()
    assert sorted(references) == sorted(expected)  # each exactly once
    assert sum(r.accepted for r in results) == len(expected)
    assert sum(r.duplicates for r in results) == rows - len(expected)
    paid = {n: (str(through), months) for n, through, months in projections}
    assert paid == {nik(s): ("2025-06", 6) for s in in_files}
