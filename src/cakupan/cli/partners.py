"""``cakupan partners ...``: partners and agents, agreements, agency applications, the agent
lifecycle. Thin: every write is an action of :mod:`cakupan.partners.actions`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cakupan import partners
from cakupan.auth import Actor
from cakupan.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    console,
    date_option,
    open_engine,
    print_json,
    required_date_option,
)
from cakupan.dates import Month, SystemClock
from cakupan.db import make_session_factory, transaction
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.incentives.definition import AgreementParameters
from cakupan.partners import actions, queries
from cakupan.partners.rules import parse_rate_percent

app = typer.Typer(help="Mitra dan agen / partners and agents.", no_args_is_help=True)
agreements_app = typer.Typer(help="Perjanjian kerja sama / agreements.", no_args_is_help=True)
applications_app = typer.Typer(
    help="Pengajuan keagenan / agency applications.", no_args_is_help=True
)
agents_app = typer.Typer(
    help="Siklus hidup agen / agent lifecycle (recruit, train, activate, evaluate, terminate).",
    no_args_is_help=True,
)
app.add_typer(agreements_app, name="agreements")
app.add_typer(applications_app, name="applications")
app.add_typer(agents_app, name="agents")

PartialOption = Annotated[
    bool, typer.Option("--partial", help="Post the valid rows even when others are rejected.")
]
CodeArgument = Annotated[str, typer.Argument(help="Partner or agent code.", show_default=False)]
DateOption = Annotated[
    str | None, typer.Option("--on", help="Date (YYYY-MM-DD); default today.", show_default=False)
]


def _parameters(
    commission_rate: str | None, threshold_registrations: int | None, threshold_amount: int | None
) -> AgreementParameters:
    try:
        rate = parse_rate_percent(commission_rate) if commission_rate else None
    except ValueError as error:
        raise invalid("commission_rate", t(str(error), str(error))) from None
    try:
        return AgreementParameters(
            commission_rate_percent=rate,
            threshold_registrations=threshold_registrations,
            threshold_amount=threshold_amount,
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise invalid(field, t(first["msg"], first["msg"])) from None


def _print_partner(info: queries.PartnerInfo) -> None:
    parent = f" <- {info.parent_code}" if info.parent_code else ""
    console.print(
        f"{info.code:<16} {info.kind:<13} {info.branch_code:<6} {info.status:<10} {info.name}{parent}",
        markup=False,
        highlight=False,
    )


@app.command("import")
def import_partners(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file of partners.", show_default=False)],
    partial: PartialOption = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import partners and agents with their agreements; columns
    code,name,kind,parent_code,branch_code,scheme,commission_rate,valid_from,valid_to.

    All-or-nothing unless --partial. Exit 0 when no row is rejected, 1 otherwise, 2 when the
    file cannot be used.
    """
    engine = open_engine(database_url)
    result = actions.import_partners(engine, Actor.system(), SystemClock(), file, partial=partial)
    if as_json:
        print_json(result.as_json())
    else:
        console.print(result.render(), markup=False, highlight=False)
    raise typer.Exit(result.exit_code)


@app.command("list")
def list_partners(
    kind: Annotated[str | None, typer.Option("--kind", show_default=False)] = None,
    branch: Annotated[str | None, typer.Option("--branch", show_default=False)] = None,
    parent: Annotated[str | None, typer.Option("--parent", show_default=False)] = None,
    status: Annotated[str | None, typer.Option("--status", show_default=False)] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """List partners and agents (filter by kind, branch, parent, status)."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        found = queries.list_partners(
            session,
            Actor.system(),
            kind=kind,
            branch_code=branch,
            parent_code=parent,
            status=status,
        )
    if as_json:
        print_json([info.as_json() for info in found])
        return
    for info in found:
        _print_partner(info)
    console.print(t(f"{len(found)} mitra/agen", f"{len(found)} partners/agents").render())


@app.command("show")
def show(
    code: CodeArgument, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Show a partner or agent: its place in the hierarchy, agreements and evaluations."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        info = queries.get_partner(session, code)
        payload: dict[str, Any] = {
            **info.as_json(),
            "children": sorted(
                p.code for p in queries.list_partners(session, Actor.system(), parent_code=code)
            ),
            "agents_under": sorted(queries.agents_under(session, code)),
            "agreements": [a.as_json() for a in queries.agreements_of(session, code)],
            "evaluations": queries.evaluations_of(session, code),
        }
    if as_json:
        print_json(payload)
        return
    _print_partner(info)
    for agreement in payload["agreements"]:
        console.print(
            f"  {t('perjanjian', 'agreement')} #{agreement['id']}: {agreement['scheme']} "
            f"v{agreement['scheme_version']} {agreement['valid_from']}..{agreement['valid_to'] or ''} "
            f"{agreement['status']} {agreement['parameters'] or ''}",
            markup=False,
            highlight=False,
        )
    if payload["children"]:
        console.print(f"  {t('di bawahnya', 'below')}: {', '.join(payload['children'])}")


@app.command("create")
def create(
    code: CodeArgument,
    name: Annotated[str, typer.Option("--name", show_default=False)],
    kind: Annotated[str, typer.Option("--kind", show_default=False)],
    branch: Annotated[str | None, typer.Option("--branch", show_default=False)] = None,
    parent: Annotated[str | None, typer.Option("--parent", show_default=False)] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create one partner (active). Agents are better recruited with `partners agents recruit`."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        row = actions.create_partner(
            session,
            Actor.system(),
            SystemClock(),
            actions.NewPartner(
                code=code, name=name, kind=kind, branch_code=branch, parent_code=parent
            ),
        )
        info = queries.get_partner(session, row.code)
    if as_json:
        print_json(info.as_json())
    else:
        _print_partner(info)


# -- agreements ------------------------------------------------------------------------------------


@agreements_app.command("list")
def agreements_list(
    code: CodeArgument, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """List a partner's agreements, latest first."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        queries.get_partner(session, code)
        found = queries.agreements_of(session, code)
    if as_json:
        print_json([a.as_json() for a in found])
        return
    for a in found:
        console.print(
            f"#{a.id} {a.scheme_name} v{a.scheme_version} {a.valid_from}..{a.valid_to or ''} "
            f"{a.status} {a.parameters}",
            markup=False,
            highlight=False,
        )


@agreements_app.command("add")
def agreements_add(
    code: CodeArgument,
    scheme: Annotated[str, typer.Option("--scheme", help="Scheme name, e.g. korporasi-2024.")],
    valid_from: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    valid_to: Annotated[
        str | None, typer.Option("--to", help="Last day (YYYY-MM-DD).", show_default=False)
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version", help="Scheme version (default: the one in force).", show_default=False
        ),
    ] = None,
    commission_rate: Annotated[
        str | None, typer.Option("--commission-rate", help="Percent, e.g. 2.5.", show_default=False)
    ] = None,
    threshold_registrations: Annotated[
        int | None, typer.Option("--threshold-registrations", show_default=False)
    ] = None,
    threshold_amount: Annotated[
        int | None, typer.Option("--threshold-amount", help="Rupiah.", show_default=False)
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add an agreement naming a scheme version and its parameters."""
    params = _parameters(commission_rate, threshold_registrations, threshold_amount)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        row = actions.add_agreement(
            session,
            Actor.system(),
            SystemClock(),
            code,
            scheme_name=scheme,
            scheme_version_no=version,
            valid_from=required_date_option(valid_from, "valid_from"),
            valid_to=date_option(valid_to, "valid_to"),
            parameters=params,
        )
        info = queries.agreement(session, row.id)
    if as_json:
        print_json(info.as_json())
    else:
        console.print(t(f"Perjanjian #{info.id} dibuat", f"Agreement #{info.id} created").render())


@agreements_app.command("end")
def agreements_end(
    agreement_id: Annotated[int, typer.Argument(help="Agreement id.")],
    on: Annotated[str, typer.Option("--on", help="Last day of validity (YYYY-MM-DD).")],
    reason: Annotated[str, typer.Option("--reason")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """End an agreement early (its last day of validity becomes --on)."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        actions.end_agreement(
            session,
            Actor.system(),
            SystemClock(),
            agreement_id,
            on=required_date_option(on, "on"),
            reason=reason,
        )
        info = queries.agreement(session, agreement_id)
    if as_json:
        print_json(info.as_json())
    else:
        console.print(t("Perjanjian diakhiri", "Agreement ended").render())


# -- applications ----------------------------------------------------------------------------------


@applications_app.command("submit")
def applications_submit(
    code: Annotated[str, typer.Option("--code", help="Partner code to create on approval.")],
    name: Annotated[str, typer.Option("--name")],
    kind: Annotated[str, typer.Option("--kind")],
    branch: Annotated[str, typer.Option("--branch")],
    scheme: Annotated[str, typer.Option("--scheme")],
    valid_from: Annotated[str, typer.Option("--from", help="Agreement start (YYYY-MM-DD).")],
    valid_to: Annotated[str | None, typer.Option("--to", show_default=False)] = None,
    parent: Annotated[str | None, typer.Option("--parent", show_default=False)] = None,
    commission_rate: Annotated[
        str | None, typer.Option("--commission-rate", show_default=False)
    ] = None,
    threshold_registrations: Annotated[
        int | None, typer.Option("--threshold-registrations", show_default=False)
    ] = None,
    threshold_amount: Annotated[
        int | None, typer.Option("--threshold-amount", show_default=False)
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit an agency application (documents are attached with `applications attach`)."""
    params = _parameters(commission_rate, threshold_registrations, threshold_amount)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        row = actions.submit_application(
            session,
            Actor.system(),
            SystemClock(),
            actions.NewApplication(
                code=code,
                name=name,
                kind=kind,
                branch_code=branch,
                scheme_name=scheme,
                valid_from=required_date_option(valid_from, "valid_from"),
                valid_to=date_option(valid_to, "valid_to"),
                parent_code=parent,
                parameters=params,
            ),
        )
        payload = queries.application(session, row.id)
    _print_application(payload, as_json)


def _act_on_application(
    database_url: str | None,
    application_id: int,
    as_json: bool,
    act: Callable[[Session, Actor, SystemClock], object],
) -> None:
    """Run one audited application step in a transaction, then show the application."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        act(session, Actor.system(), SystemClock())
        payload = queries.application(session, application_id)
    _print_application(payload, as_json)


def _print_application(payload: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(payload)
        return
    console.print(
        f"#{payload['id']} {payload['code']} {payload['name']} ({payload['kind']}) "
        f"{payload['scheme']} v{payload['scheme_version']}: {payload['status']}",
        markup=False,
        highlight=False,
    )
    for doc in payload.get("documents", []):
        console.print(f"  {doc['kind']:<20} {doc['title']} sha256={doc['sha256'][:12]}…")


@applications_app.command("attach")
def applications_attach(
    application_id: Annotated[int, typer.Argument()],
    file: Annotated[
        Path, typer.Argument(help="The document file (recorded by reference and hash).")
    ],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="legal (Dokumen legalitas), ecosystem_profile (Profil ekosistem), "
            "potential_analysis (Analisis potensi) or other (Lainnya).",
        ),
    ],
    title: Annotated[str | None, typer.Option("--title", show_default=False)] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Attach a document to an application (path, SHA-256 and size are recorded)."""
    _act_on_application(
        database_url,
        application_id,
        as_json,
        lambda s, a, c: actions.attach_file(s, a, c, application_id, file, kind=kind, title=title),
    )


@applications_app.command("review")
def applications_review(
    application_id: Annotated[int, typer.Argument()],
    note: Annotated[str | None, typer.Option("--note", show_default=False)] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Start reviewing a submitted application."""
    _act_on_application(
        database_url,
        application_id,
        as_json,
        lambda s, a, c: actions.review_application(s, a, c, application_id, note=note),
    )


@applications_app.command("approve")
def applications_approve(
    application_id: Annotated[int, typer.Argument()],
    reason: Annotated[str | None, typer.Option("--reason", show_default=False)] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve an application under review: creates the partner and its agreement."""
    _act_on_application(
        database_url,
        application_id,
        as_json,
        lambda s, a, c: actions.approve_application(s, a, c, application_id, reason=reason),
    )


@applications_app.command("reject")
def applications_reject(
    application_id: Annotated[int, typer.Argument()],
    reason: Annotated[str, typer.Option("--reason")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject an application, with a reason."""
    _act_on_application(
        database_url,
        application_id,
        as_json,
        lambda s, a, c: actions.reject_application(s, a, c, application_id, reason=reason),
    )


@applications_app.command("list")
def applications_list(
    status: Annotated[str | None, typer.Option("--status", show_default=False)] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """List applications, newest first."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        found = queries.applications(session, status)
    if as_json:
        print_json(found)
        return
    for payload in found:
        _print_application(payload, False)


@applications_app.command("show")
def applications_show(
    application_id: Annotated[int, typer.Argument()],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an application with its documents."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        payload = queries.application(session, application_id)
    _print_application(payload, as_json)


# -- agents ----------------------------------------------------------------------------------------


@agents_app.command("recruit")
def agents_recruit(
    code: CodeArgument,
    name: Annotated[str, typer.Option("--name")],
    kind: Annotated[str, typer.Option("--kind", help="perisai, agen46 or brilink.")],
    parent: Annotated[str | None, typer.Option("--parent", show_default=False)] = None,
    branch: Annotated[str | None, typer.Option("--branch", show_default=False)] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a newly recruited agent (status recruited)."""
    from cakupan.partners.rules import AGENT_KINDS

    if kind not in AGENT_KINDS:
        raise invalid(
            "kind",
            t("agen harus berjenis {k}", "an agent is of kind {k}").format(
                k=", ".join(sorted(AGENT_KINDS))
            ),
        )
    engine = open_engine(database_url)
    with transaction(engine) as session:
        actions.create_partner(
            session,
            Actor.system(),
            SystemClock(),
            actions.NewPartner(
                code=code, name=name, kind=kind, branch_code=branch, parent_code=parent
            ),
            status="recruited",
        )
        info = queries.get_partner(session, code)
    _print_agent(info, as_json)


def _print_agent(info: queries.PartnerInfo, as_json: bool) -> None:
    if as_json:
        print_json(info.as_json())
    else:
        _print_partner(info)


def _transition(
    code: str,
    status: str,
    on: str | None,
    reason: str | None,
    database_url: str | None,
    as_json: bool,
) -> None:
    engine = open_engine(database_url)
    with transaction(engine) as session:
        actions.change_agent_status(
            session,
            Actor.system(),
            SystemClock(),
            code,
            status,
            on=date_option(on, "on"),
            reason=reason,
        )
        info = queries.get_partner(session, code)
    _print_agent(info, as_json)


ReasonOption = Annotated[str | None, typer.Option("--reason", show_default=False)]


@agents_app.command("train")
def agents_train(
    code: CodeArgument,
    on: DateOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record that a recruited agent completed training."""
    _transition(code, "trained", on, None, database_url, as_json)


@agents_app.command("activate")
def agents_activate(
    code: CodeArgument,
    on: DateOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Activate a trained (or suspended) agent."""
    _transition(code, "active", on, None, database_url, as_json)


@agents_app.command("suspend")
def agents_suspend(
    code: CodeArgument,
    reason: Annotated[str, typer.Option("--reason")],
    on: DateOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Suspend an active partner or agent, with a reason."""
    _transition(code, "suspended", on, reason, database_url, as_json)


@agents_app.command("terminate")
def agents_terminate(
    code: CodeArgument,
    reason: Annotated[str, typer.Option("--reason")],
    on: DateOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Terminate a partner or agent, with a reason (final)."""
    _transition(code, "terminated", on, reason, database_url, as_json)


@agents_app.command("evaluate")
def agents_evaluate(
    code: CodeArgument,
    period_from: Annotated[str, typer.Option("--from", help="First day evaluated (YYYY-MM-DD).")],
    period_to: Annotated[str, typer.Option("--to", help="Last day evaluated (YYYY-MM-DD).")],
    outcome: Annotated[str, typer.Option("--outcome", help="continue, improve or terminate.")],
    notes: Annotated[str | None, typer.Option("--notes", show_default=False)] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record an agent's six-monthly evaluation (outcome terminate also terminates the agent)."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        actions.evaluate_agent(
            session,
            Actor.system(),
            SystemClock(),
            code,
            period_from=required_date_option(period_from, "from"),
            period_to=required_date_option(period_to, "to"),
            outcome=outcome,
            notes=notes,
        )
        payload = {
            **queries.get_partner(session, code).as_json(),
            "evaluations": queries.evaluations_of(session, code),
        }
    if as_json:
        print_json(payload)
    else:
        console.print(f"{code}: {payload['status']} ({outcome})")


@agents_app.command("at-risk")
def agents_at_risk(
    month: Annotated[
        str | None,
        typer.Option("--month", help="Last month considered (YYYY-MM); default the current month."),
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Agents at risk of termination (2 idle months) or due for it (3), per their scheme."""
    try:
        as_of = Month.parse(month) if month else Month.of(SystemClock().now().date())
    except ValueError as error:
        raise invalid("month", t(str(error), str(error))) from None
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        found = partners.agents_at_risk(session, Actor.system(), as_of)
    if as_json:
        print_json({"month": str(as_of), "agents": [a.as_json() for a in found]})
        return
    for agent in found:
        console.print(
            f"{agent.code:<16} {agent.standing:<8} {agent.idle_months} "
            f"{t('bulan', 'months')} ({agent.scheme}) {agent.name}",
            markup=False,
            highlight=False,
        )


@agents_app.command("evaluations-due")
def agents_evaluations_due(
    on: Annotated[
        str | None,
        typer.Option("--on", help="Date (YYYY-MM-DD); default today.", show_default=False),
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Active agents whose six-monthly evaluation is due."""
    day = date_option(on, "on") or SystemClock().now().date()
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        found = queries.agents_due_for_evaluation(session, Actor.system(), day)
    if as_json:
        print_json({"on": day.isoformat(), "agents": found})
        return
    for item in found:
        console.print(
            f"{item['code']:<16} {item['due_on']}  {item['name']}", markup=False, highlight=False
        )
