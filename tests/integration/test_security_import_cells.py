"""Control, zero-width and bidi characters in *any* column of *any* import are row errors
(issue 21, item 8: one normaliser for every input path), on SQLite and PostgreSQL: a NUL in a
prospect's name or occupation once reached PostgreSQL and ended the import with exit 3."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, func, select

from cakupan.campaigns.models import Prospect
from cakupan.db import transaction
from tests.conftest import CliResult


def test_hidden_characters_in_any_imported_cell_are_row_errors(
    engine: Engine, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    path = tmp_path / "prospek.csv"
    path.write_text(
        "nik,name,phone,occupation\n"
        ",Siti\x00Aminah,0812 5555 1111,farmer\n"
        ",Rina,0812 5555 2222,fish\u200ber\n"
        ",Ani,0812 5555 3333,farmer\n",
        encoding="utf-8",
    )
    out = cli("prospects", "import", str(path), "--json")
    assert out.exit_code == 1, out.stderr
    answer = json.loads(out.stdout)
    assert (answer["accepted"], answer["rejected"]) == (0, 2)
    errors = answer["errors"]
    assert {(e["row"], e["field"]) for e in errors} == {(1, "name"), (2, "occupation")}
    assert any("U+0000" in e["message"] for e in errors if e["row"] == 1)
    assert any("U+200B" in e["message"] for e in errors if e["row"] == 2)
    partial = cli("prospects", "import", str(path), "--partial", "--json")
    assert partial.exit_code == 1, partial.stderr
    assert json.loads(partial.stdout)["accepted"] == 1
    with transaction(engine) as session:
        assert session.scalars(select(Prospect.name)).all() == ["Ani"]
        assert session.scalar(select(func.count()).select_from(Prospect)) == 1
