"""Issue 21, bad input on every path: payment channels are a controlled list (item 10). SQLite
and PostgreSQL, through the CLI import and the partner API."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from cakupan.db import transaction
from cakupan.registry.models import Participant, Payment
from cakupan.registry.rules import payment_channels
from tests.integration.partner_api_support import registration_body
from tests.integration.test_ledger_imports import (
    FLOOR,
    PARTICIPANT_HEADER,
    PAYMENT_HEADER,
    Cli,
    count,
    nik,
    participant_line,
    payment_line,
    run,
    write,
)
from tests.integration.test_ledger_imports import registered as registered
from tests.integration.test_partner_api import Api, payment
from tests.integration.test_partner_api import api as api


@pytest.mark.usefixtures("registered")
def test_an_unknown_channel_is_refused_so_a_reference_cannot_post_twice(
    cli: Cli, tmp_path: Path
) -> None:
    first = write(
        tmp_path / "a.csv",
        PAYMENT_HEADER,
        [payment_line("R-1", 1, FLOOR, "2025-03-10", channel="bank")],
    )
    assert run(cli, "payments", "import", str(first))[0] == 0
    typo = write(
        tmp_path / "b.csv",
        PAYMENT_HEADER,
        [
            payment_line("R-1", 1, FLOOR, "2025-03-10", channel="bnak"),
            payment_line("R-2", 1, FLOOR, "2025-03-10", channel="bogus-chan"),
            payment_line("R-3", 1, FLOOR, "2025-03-10", channel="zzz"),
        ],
    )
    code, body = run(cli, "payments", "import", str(typo), "--partial")
    assert (code, body["accepted"], body["rejected"]) == (1, 0, 3)
    assert {e["field"] for e in body["errors"]} == {"channel"}
    assert "expected one of" in body["errors"][0]["message"]
    assert "brilink" in body["errors"][0]["message"]


def test_the_partner_api_refuses_an_unknown_channel(api: Api) -> None:
    api.register("mitra.a", 1)
    refused = api.call(
        "mitra.a", "POST", "/payments", payment(1, 8_400, "C-1", channel="zzz"), key="c1"
    )
    assert refused.status_code == 422, refused.text
    assert "channel" in refused.text
    batch = api.call(
        "mitra.a",
        "POST",
        "/payments/batches",
        {"rows": [payment(1, 8_400, "C-2", channel="bogus-chan")], "partial": True},
        key="c2",
    )
    assert batch.status_code in (200, 422), batch.text
    assert "channel" in batch.text
    with transaction(api.engine) as session:
        assert session.scalars(select(Payment.reference)).all() == []
    posted = api.call("mitra.a", "POST", "/payments", payment(1, 8_400, "C-3"), key="c3")
    assert posted.status_code == 200, posted.text


def test_the_channel_list_is_data() -> None:
    assert {"branch", "bank", "brilink", "agen46", "pos", "ewallet", "online"} <= payment_channels()
    assert "zzz" not in payment_channels()


# -- item 8: control, zero-width and bidi characters --------------------------------------------

HIDDEN = [
    ("\x00", "U+0000"),  # NUL: stored truncated by SQLite, crashed PostgreSQL
    ("\x1b", "U+001B"),  # ESC
    ("\x07", "U+0007"),  # BEL
    ("\u200b", "U+200B"),  # zero-width space
    ("\u202e", "U+202E"),  # right-to-left override
    ("\u2066", "U+2066"),  # left-to-right isolate
    ("\ufeff", "U+FEFF"),  # BOM inside the text
]


@pytest.mark.parametrize(("char", "code"), HIDDEN)
def test_hidden_characters_in_names_and_references_are_row_errors(
    api: Api, char: str, code: str
) -> None:
    body = registration_body(1, name=f"Peserta{char}Satu")
    refused = api.call("mitra.a", "POST", "/registrations", body)
    assert refused.status_code == 422, refused.text
    # (C0 controls are refused by the schema's pattern, the others by the registry's normaliser)
    assert [e["field"].split(".")[-1] for e in refused.json()["errors"]] == ["name"]
    assert code in refused.text or ord(char) < 0x20
    api.register("mitra.a", 2)
    paid = api.call(
        "mitra.a", "POST", "/payments", payment(2, 8_400, f"REF{char}1"), key=f"k{code}"
    )
    assert paid.status_code == 422, paid.text
    assert "reference" in paid.text
    with transaction(api.engine) as session:
        assert session.scalars(select(Payment.reference)).all() == []


@pytest.mark.usefixtures("registered")
def test_csv_rows_with_hidden_characters_are_rejected_by_row(cli: Cli, tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.csv",
        PAYMENT_HEADER,
        [
            payment_line("OK\u200b1", 1, FLOOR, "2025-03-10"),
            payment_line("OK\x1b2", 1, FLOOR, "2025-03-10"),
            payment_line("OK-3", 1, FLOOR, "2025-03-10"),
        ],
    )
    code, body = run(cli, "payments", "import", str(path), "--partial")
    assert (code, body["accepted"], body["rejected"]) == (1, 1, 2)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(1, "reference"), (2, "reference")]
    assert "U+200B" in body["errors"][0]["message"]


def test_names_are_nfc_normalised(api: Api) -> None:
    decomposed = "Jose\u0301 Andre\u0301"
    api.register("mitra.a", 1, name=decomposed)
    with transaction(api.engine) as session:
        assert session.scalars(select(Participant.name)).one() == "Jos\u00e9 Andr\u00e9"


# -- item 9: one range per rupiah field ---------------------------------------------------------


@pytest.mark.parametrize(
    "income", ["99999999999999999999999", "9000000000000000000", "10000000001", "9" * 5000]
)
def test_huge_incomes_are_row_errors_never_exit_3(
    cli: Cli, tmp_path: Path, engine: Engine, income: str
) -> None:
    path = write(
        tmp_path / "people.csv",
        PARTICIPANT_HEADER,
        [participant_line(1, reported_income=income), participant_line(2)],
    )
    code, body = run(cli, "participants", "import", str(path), "--partial")
    assert (code, body["accepted"], body["rejected"]) == (1, 1, 1)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(1, "reported_income")]
    assert "Rp 10.000.000.000" in body["errors"][0]["message"]
    assert count(engine, Participant) == 1


@pytest.mark.usefixtures("registered")
@pytest.mark.parametrize("amount", ["99999999999999999999", "9223372036854775808", "9" * 5000])
def test_huge_amounts_are_row_errors_never_exit_3(cli: Cli, tmp_path: Path, amount: str) -> None:
    line = payment_line("H-1", 1, FLOOR, "2025-03-10").replace(str(FLOOR), amount)
    path = write(tmp_path / "p.csv", PAYMENT_HEADER, [line])
    code, body = run(cli, "payments", "import", str(path))
    assert (code, body["rejected"]) == (1, 1)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(1, "amount")]


def test_the_api_has_the_same_income_range(api: Api) -> None:
    at_limit = api.call(
        "mitra.a",
        "POST",
        "/registrations/quote",
        {"nik": nik(1), "reported_income": 10_000_000_000, "programs": "JKK+JKM", "months": 1},
    )
    assert at_limit.status_code == 200, at_limit.text
    over = api.call(
        "mitra.a",
        "POST",
        "/registrations/quote",
        {"nik": nik(1), "reported_income": 10_000_000_001, "programs": "JKK+JKM", "months": 1},
    )
    assert over.status_code == 422
