"""``cakupan nik check NIK``: validate a NIK against the rules and the known districts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from cakupan import regions
from cakupan.cli.common import DatabaseUrlOption, JsonOption, open_engine, print_json
from cakupan.dates import SystemClock, parse_date, today
from cakupan.db import make_session_factory
from cakupan.errors import invalid
from cakupan.i18n import current_lang, t
from cakupan.registry.nik import NikCheck, check_nik

app = typer.Typer(help="NIK (Nomor Induk Kependudukan).", no_args_is_help=True)


@app.command("check")
def check(
    nik: Annotated[str, typer.Argument(help="The 16-digit NIK.", show_default=False)],
    on: Annotated[
        str | None,
        typer.Option(
            "--today",
            help="Resolve the birth century against this date (YYYY-MM-DD; default today, Jakarta).",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a NIK: 16 digits, a known district, a real birth date (day + 40 for women), serial
    not 0000. Every problem is reported. Exit 0 when valid, 1 when not."""
    reference_day = _reference_day(on)
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        result = check_nik(nik, known_districts=_DistrictLookup(session), today=reference_day)
        district = regions.area(session, result.district_code) if result.district_code else None
    if as_json:
        print_json(result.as_json())
    else:
        typer.echo(_describe(result, district.name if district else None))
    raise typer.Exit(0 if result.valid else 1)


class _DistrictLookup:
    """A ``Container`` of district codes answered by the database (one query for one NIK)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and regions.district_exists(self._session, code)


def _reference_day(on: str | None) -> date:
    if on is None:
        return today(SystemClock())
    try:
        return parse_date(on)
    except ValueError as error:
        raise invalid(
            "--today",
            t("diharapkan tanggal YYYY-MM-DD: {e}", "expected a date YYYY-MM-DD: {e}").format(
                e=error
            ),
        ) from None


def _describe(result: NikCheck, district_name: str | None) -> str:
    english = current_lang() == "en"
    if result.valid:
        assert result.birth_date is not None
        sex = {"M": t("laki-laki", "male"), "F": t("perempuan", "female")}[result.sex or "M"]
        place = f"{result.district_code}" + (f" {district_name}" if district_name else "")
        return (
            t(
                "NIK {n} sah: kecamatan {k}, lahir {b}, {s}",
                "NIK {n} is valid: district {k}, born {b}, {s}",
            )
            .format(n=result.nik, k=place, b=result.birth_date.isoformat(), s=sex.render())
            .render()
        )
    heading = f"NIK {result.nik} is not valid:" if english else f"NIK {result.nik} tidak sah:"
    lines = [heading] + [f"  - {p.message.render()} [{p.code}]" for p in result.errors]
    return "\n".join(lines)
