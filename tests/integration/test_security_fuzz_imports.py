"""Issue 21, item 14: a hypothesis fuzz test of the payments importer (CSV) on SQLite and
PostgreSQL. Files mix valid rows with hostile cells (control and invisible characters, huge and
negative numbers, odd dates, unknown channels, formula-like text, NIK-shaped junk). Whatever the
file: the command never exits 3; every data row is either posted (or a duplicate) or rejected
with a row error naming it; the database holds exactly the accepted rows; importing the same file
again posts nothing. Seeded (``derandomize``), 20 files of up to 12 rows: well under a minute per
engine."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from cakupan.db import transaction
from cakupan.registry.models import Payment
from tests.integration.test_ledger_imports import FLOOR, PAYMENT_HEADER, Cli, nik
from tests.integration.test_ledger_imports import registered as registered

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\x1b[31m",
        "\u200b",
        "\u202eREF",
        "=HYPERLINK(1)",
        "9" * 30,
        "-1",
        "1e3",
        "0x10",
        "١٢٣",  # Arabic-Indic digits
        "ｒｅｆ",  # full-width
        "a" * 200,
    ]
)


def _cell(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(valid, valid, valid, HOSTILE_TEXT)


ROW = st.fixed_dictionaries(
    {
        "reference": _cell(st.from_regex(r"[A-Z]{2}-[0-9]{1,4}", fullmatch=True)),
        "nik": _cell(st.sampled_from([nik(1), nik(2), nik(3), nik(9), "123"])),
        "amount": _cell(st.sampled_from([str(FLOOR), str(2 * FLOOR), "16000", "0"])),
        "paid_on": _cell(st.sampled_from(["2025-03-10", "2025-04-01", "2025-02-30", "0001-01-01"])),
        "channel": _cell(st.sampled_from(["", "bank", "pos", "brilink", "bogus-chan"])),
        "partner_code": st.just(""),
        "agent_code": st.just(""),
    }
)


def _file(rows: list[dict[str, str]], salt: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PAYMENT_HEADER.split(","))
    for row in rows:
        values = dict(row)
        if values["reference"] and values["reference"][0].isalpha() and "-" in values["reference"]:
            values["reference"] = f"F{salt}{values['reference']}"  # one example's references
        writer.writerow([values[c] for c in PAYMENT_HEADER.split(",")])
    return out.getvalue()


@pytest.mark.usefixtures("registered")
def test_every_row_is_posted_once_or_rejected_never_exit_3(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    counter = iter(range(10_000))

    @given(rows=st.lists(ROW, min_size=1, max_size=12))
    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(rows: list[dict[str, str]]) -> None:
        salt = next(counter)
        path = tmp_path / f"fuzz-{salt}.csv"
        text = _file(rows, salt).replace("\x00", "")  # a NUL makes the whole CSV unusable (exit 2)
        path.write_text(text, encoding="utf-8")
        before = _payments(engine)
        first = cli("--lang", "en", "payments", "import", str(path), "--partial", "--json")
        assert first.exit_code in (0, 1, 2), first.stderr
        if first.exit_code == 2:  # the file itself refused: nothing written
            assert _payments(engine) == before
            return
        body: dict[str, Any] = json.loads(first.stdout)
        data_rows = [
            number
            for number, row in enumerate(csv.reader(io.StringIO(text)), start=0)
            if number and any(cell.strip() for cell in row)
        ]
        rejected = {e["row"] for e in body["errors"]}
        assert rejected <= set(data_rows)
        assert body["rejected"] == len(rejected)
        assert body["accepted"] + body["duplicates"] + body["rejected"] == len(data_rows)
        assert _payments(engine) == before + body["accepted"]
        again = cli("--lang", "en", "payments", "import", str(path), "--partial", "--json")
        assert again.exit_code in (0, 1), again.stderr
        assert json.loads(again.stdout)["accepted"] == 0
        assert _payments(engine) == before + body["accepted"]

    check()


def _payments(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Payment)) or 0)
