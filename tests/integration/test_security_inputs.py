"""Issue 21, bad input on every path: payment channels are a controlled list (item 10). SQLite
and PostgreSQL, through the CLI import and the partner API."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from cakupan.db import transaction
from cakupan.registry.models import Payment
from cakupan.registry.rules import payment_channels
from tests.integration.test_ledger_imports import (
    FLOOR,
    PAYMENT_HEADER,
    Cli,
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
