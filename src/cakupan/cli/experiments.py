"""``cakupan experiments create|list|report``: reminder experiments (thin over
``cakupan.reminders.experiments``)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from cakupan.auth import Actor
from cakupan.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    console,
    open_engine,
    print_json,
    required_date_option,
)
from cakupan.dates import SystemClock
from cakupan.db import make_session_factory, transaction
from cakupan.errors import invalid
from cakupan.i18n import current_lang, t
from cakupan.reminders.experiments import (
    DEFAULT_HOLDOUT_SHARE,
    create_experiment,
    experiment_report,
)
from cakupan.reminders.models import Experiment

app = typer.Typer(help="Eksperimen pengingat / reminder experiments.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Unique name.", show_default=False)],
    arms: Annotated[
        str,
        typer.Option(
            "--arms",
            help="name:channel[:days-before,...] separated by ';', e.g. 'wa-5:whatsapp:5;wa-1:whatsapp:1;sms:sms'.",
            show_default=False,
        ),
    ],
    starts_on: Annotated[
        str, typer.Option("--from", help="Start date YYYY-MM-DD.", show_default=False)
    ],
    ends_on: Annotated[str, typer.Option("--to", help="End date YYYY-MM-DD.", show_default=False)],
    holdout: Annotated[
        float, typer.Option("--holdout", help="Share without reminders (0.02-0.20).")
    ] = DEFAULT_HOLDOUT_SHARE,
    description: Annotated[str, typer.Option("--description")] = "",
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Buat eksperimen / create an experiment (assignment: a hash of participant and experiment)."""
    parsed = []
    for part in arms.split(";"):
        bits = part.strip().split(":")
        if len(bits) < 2 or not bits[0]:
            raise invalid(
                "--arms",
                t(
                    "diharapkan nama:kanal[:hari], diterima {v!r}",
                    "expected name:channel[:days], got {v!r}",
                ).format(v=part),
            )
        arm: dict[str, object] = {"name": bits[0], "channel": bits[1]}
        if len(bits) > 2 and bits[2]:
            try:
                arm["due_before_days"] = [int(d) for d in bits[2].split(",")]
            except ValueError:
                raise invalid(
                    "--arms",
                    t("hari harus angka: {v!r}", "days must be numbers: {v!r}").format(v=bits[2]),
                ) from None
        parsed.append(arm)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        experiment = create_experiment(
            session,
            Actor.system(),
            SystemClock(),
            name=name,
            description=description,
            arms=parsed,
            holdout_share=holdout,
            starts_on=required_date_option(starts_on, "--from"),
            ends_on=required_date_option(ends_on, "--to"),
        )
        experiment_id = experiment.id
    if as_json:
        print_json({"id": experiment_id, "name": name})
    else:
        console.print(f"{t('Eksperimen', 'Experiment')} {experiment_id}: {name}", markup=False)


@app.command("list")
def list_(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Daftar eksperimen / list experiments."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        found = list(session.scalars(select(Experiment).order_by(Experiment.id)))
        items = [
            {
                "id": e.id,
                "name": e.name,
                "starts_on": e.starts_on.isoformat(),
                "ends_on": e.ends_on.isoformat(),
                "arms": [a["name"] for a in e.arms],
                "holdout_share": e.holdout_share,
                "synthetic": e.synthetic,
            }
            for e in found
        ]
    if as_json:
        print_json(items)
        return
    for item in items:
        label = " [synthetic]" if item["synthetic"] else ""
        console.print(
            f"{item['id']:>4} {item['name']}{label} {item['starts_on']}..{item['ends_on']} {item['arms']}",
            markup=False,
        )


@app.command("report")
def report(
    experiment_id: Annotated[int, typer.Argument(help="Experiment id.")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hasil per lengan dengan interval dan kesimpulan / results per arm with intervals and a
    verdict (fixed horizon: nothing concluded before each outcome's final date)."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        document = experiment_report(session, experiment_id, SystemClock())
    if as_json:
        print_json(document)
        return
    english = current_lang() == "en"
    console.print(
        f"{document['name']}{' [SYNTHETIC]' if document['synthetic'] else ''} ({document['target_month']})",
        markup=False,
    )
    for arm in document["arms"]:
        console.print(f"  {arm['arm']} n={arm['n']}", markup=False)
        for key, outcome in arm["outcomes"].items():
            rate = "-" if outcome["rate"] is None else f"{outcome['rate'] * 100:.1f}%"
            verdict = outcome.get("verdict_en" if english else "verdict_id") or ""
            console.print(f"    {key:<18} {rate:>7}  {verdict}", markup=False)
    if document["sample_ratio"]["alert"]:
        console.print(
            t("PERINGATAN: sample ratio mismatch", "WARNING: sample ratio mismatch"), markup=False
        )
