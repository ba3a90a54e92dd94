"""Partners and agents: the import contract, the hierarchy queries, agreements, applications and
the agent lifecycle, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cakupan import partners
from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.db import transaction
from cakupan.errors import CakupanError, ErrorKind
from cakupan.incentives.definition import AgreementParameters
from cakupan.partners import actions
from cakupan.partners.models import Agreement, Partner
from tests.conftest import CliResult

Cli = Callable[..., CliResult]
HEADER = "code,name,kind,parent_code,branch_code,scheme,commission_rate,valid_from,valid_to\n"
ACTOR = Actor.system("test")
CLOCK = FixedClock(datetime(2026, 3, 10, 9, 0, tzinfo=JAKARTA))

NETWORK = (
    HEADER
    # a child before its parent: parents may appear later in the same file
    + "PLG-W1-P1,Perisai Satu,perisai,PLG-W1,,perisai-2022,,2025-01-01,\n"
    + "PLG-W1,Wadah Pedagang Pasar,wadah,,PLG,komunitas-2024,,2025-01-01,2026-12-31\n"
    + "PLG-W1-P2,Perisai Dua,perisai,PLG-W1,PLG,komunitas-2024,,2025-01-01,\n"
    + "BDL-K1,Koperasi Korporasi,korporasi,,BDL,korporasi-2024,2.5,2025-01-01,\n"
    + "BDL-A1,Agen46 Satu,agen46,,BDL,agen46-2024,,2025-01-01,\n"
    + "POS-SUMBAGSEL,Pos Regional Sumbagsel,pos_regional,,PLG,pos-2024,,2025-01-01,\n"
    + "PLG-POS1,Kantor Pos Palembang,pos_kc,POS-SUMBAGSEL,PLG,pos-2024,,2025-01-01,\n"
    + "PLG-PEMDA,Pemkot Palembang,pemda,,PLG,,,,\n"
)


def _write(tmp_path: Path, text: str, name: str = "partners.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _import(cli: Cli, path: Path, *extra: str) -> tuple[int, dict[str, object]]:
    result = cli("partners", "import", str(path), *extra, "--json")
    return result.exit_code, json.loads(result.stdout)


def test_import_network_then_reimport_is_all_duplicates(
    cli: Cli, tmp_path: Path, session: Session
) -> None:
    path = _write(tmp_path, NETWORK)
    code, body = _import(cli, path)
    assert (code, body) == (0, {"accepted": 8, "duplicates": 0, "rejected": 0, "errors": []})
    code, body = _import(cli, path)
    assert (code, body) == (0, {"accepted": 0, "duplicates": 8, "rejected": 0, "errors": []})

    perisai = partners.partner(session, "PLG-W1-P1")
    assert perisai is not None
    assert (perisai.kind, perisai.parent_code, perisai.branch_code) == ("perisai", "PLG-W1", "PLG")
    assert partners.agents_under(session, "PLG-W1") == {"PLG-W1-P1", "PLG-W1-P2"}
    assert partners.agents_under(session, "POS-SUMBAGSEL") == {"PLG-POS1"}
    assert partners.agents_under(session, "PLG-W1-P1") == set()
    assert [p.code for p in partners.partners_of_branch(session, "BDL")] == ["BDL-A1", "BDL-K1"]

    korporasi = partners.agreements_of(session, "BDL-K1")
    assert len(korporasi) == 1
    assert (korporasi[0].scheme_name, korporasi[0].scheme_version) == ("korporasi-2024", 1)
    assert korporasi[0].parameters == {"commission_rate_percent": "2.5"}
    assert partners.agreements_of(session, "PLG-PEMDA") == []

    audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "partners.import")).all()
    assert len(audits) == 2  # one per file import, not per row
    assert audits[0].after is not None
    assert audits[0].after["accepted"] == 8


def test_all_or_nothing_and_partial(cli: Cli, tmp_path: Path, session: Session) -> None:
    text = (
        HEADER
        + "K1,Korporasi Satu,korporasi,,BDL,korporasi-2024,3,2025-01-01,\n"
        + "K2,Korporasi Dua,korporasi,,BDL,korporasi-2024,6,2025-01-01,\n"  # rate out of range
        + "A9,Agen,agen46,,XXX,agen46-2024,,2025-01-01,\n"  # unknown branch
        + "P9,Perisai Yatim,perisai,W404,PLG,,,,\n"  # unknown parent
        + "W2,Wadah,wadah,,PLG,nope-2024,,2025-01-01,\n"  # unknown scheme
        + "W3,Wadah Tiga,lembaga,,PLG,,,,\n"  # unknown kind
        + "K3,Korporasi Tiga,korporasi,,BDL,korporasi-2024,,2025-01-01,\n"  # rate missing
        + "W4,Wadah Empat,wadah,,PLG,komunitas-2024,3,2025-13-01,\n"  # rate not used, bad date
    )
    path = _write(tmp_path, text)
    code, body = _import(cli, path)
    assert code == 1
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (0, 0, 7)
    errors = {(e["row"], e["field"]) for e in body["errors"]}  # type: ignore[union-attr]
    assert errors == {
        (2, "commission_rate"),
        (3, "branch_code"),
        (4, "parent_code"),
        (5, "scheme"),
        (6, "kind"),
        (7, "commission_rate"),
        (8, "valid_from"),
    }
    assert session.scalar(select(Partner.code)) is None  # nothing written

    code, body = _import(cli, path, "--partial")
    assert (code, body["accepted"], body["rejected"]) == (1, 1, 7)
    assert [p.code for p in partners.partners_of_branch(session, "BDL")] == ["K1"]


def test_conflicting_rows_and_cycles(cli: Cli, tmp_path: Path) -> None:
    first = _write(tmp_path, HEADER + "W1,Wadah Satu,wadah,,PLG,,,,\n", "a.csv")
    assert _import(cli, first)[0] == 0
    text = (
        HEADER
        + "W1,Wadah Lain,wadah,,PLG,,,,\n"  # stored with another name
        + "X1,Perisai X,perisai,X2,PLG,,,,\n"  # X1 -> X2 -> X1
        + "X2,Perisai Y,perisai,X1,PLG,,,,\n"
        + "D1,Dup,wadah,,PLG,,,,\n"
        + "D1,Dup,wadah,,PLG,,,,\n"  # same row twice: a duplicate
        + "D2,Dup,wadah,,PLG,,,,\n"
        + "D2,Dup beda,wadah,,PLG,,,,\n"  # same code, other values: rejected
        + "K1,Korp,korporasi,W1,BDL,,,,\n"  # a korporasi has no parent
    )
    code, body = _import(cli, _write(tmp_path, text, "b.csv"), "--partial")
    assert code == 1
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 5)
    fields = sorted((e["row"], e["field"]) for e in body["errors"])  # type: ignore[union-attr]
    assert fields == [
        (1, "name"),
        (2, "parent_code"),
        (3, "parent_code"),
        (7, "code"),
        (8, "parent_code"),
    ]


def test_unusable_file_exits_2(cli: Cli, tmp_path: Path) -> None:
    path = _write(tmp_path, "code,name\nW1,Wadah\n")
    result = cli("partners", "import", str(path), "--json")
    assert result.exit_code == 2
    assert "kind" in result.stderr
    assert cli("partners", "import", str(tmp_path / "missing.csv"), "--json").exit_code == 2


def test_show_and_list_json(cli: Cli, tmp_path: Path) -> None:
    assert _import(cli, _write(tmp_path, NETWORK))[0] == 0
    shown = cli("partners", "show", "PLG-W1", "--json")
    assert shown.exit_code == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body["children"] == ["PLG-W1-P1", "PLG-W1-P2"]
    assert body["agreements"][0]["valid_to"] == "2026-12-31"
    listed = json.loads(cli("partners", "list", "--kind", "perisai", "--json").stdout)
    assert [p["code"] for p in listed] == ["PLG-W1-P1", "PLG-W1-P2"]
    missing = cli("partners", "show", "NOPE")
    assert missing.exit_code == 1
    assert "NOPE" in missing.stderr


def test_partner_scoping(engine: Engine, tmp_path: Path, cli: Cli) -> None:
    assert _import(cli, _write(tmp_path, NETWORK))[0] == 0
    with transaction(engine) as session:
        wadah = Actor("wadah-user", Role.PARTNER, partner_code="PLG-W1")
        assert {p.code for p in partners.list_partners(session, wadah)} == {
            "PLG-W1",
            "PLG-W1-P1",
            "PLG-W1-P2",
        }
        kabid = Actor("kabid", Role.KABID, branch_code="BDL")
        assert {p.code for p in partners.list_partners(session, kabid)} == {"BDL-A1", "BDL-K1"}
        agent = Actor("agent", Role.AGENT, agent_code="BDL-A1")
        assert [p.code for p in partners.list_partners(session, agent)] == ["BDL-A1"]


def test_agreements_overlap_and_end(engine: Engine, tmp_path: Path, cli: Cli) -> None:
    assert _import(cli, _write(tmp_path, NETWORK))[0] == 0
    with transaction(engine) as session:
        with pytest.raises(CakupanError) as overlap:
            actions.add_agreement(
                session,
                ACTOR,
                CLOCK,
                "BDL-K1",
                scheme_name="korporasi-2024",
                valid_from=date(2026, 1, 1),
                parameters=AgreementParameters(commission_rate_percent=None),
            )
        assert overlap.value.problems[0].field == "commission_rate"
    with transaction(engine) as session:
        with pytest.raises(CakupanError) as conflict:
            actions.add_agreement(
                session,
                ACTOR,
                CLOCK,
                "BDL-K1",
                scheme_name="korporasi-2024",
                valid_from=date(2026, 1, 1),
                parameters=AgreementParameters.model_validate({"commission_rate_percent": "4"}),
            )
        assert conflict.value.kind is ErrorKind.CONFLICT
    agreement_id = partners.agreements_of(Session(engine), "BDL-K1")[0].id
    ended = cli(
        "partners", "agreements", "end", str(agreement_id), "--on", "2025-12-31",
        "--reason", "renegotiated", "--json",
    )  # fmt: skip
    assert ended.exit_code == 0, ended.stderr
    assert json.loads(ended.stdout)["valid_to"] == "2025-12-31"
    added = cli(
        "partners", "agreements", "add", "BDL-K1", "--scheme", "korporasi-2024",
        "--from", "2026-01-01", "--commission-rate", "4", "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["parameters"] == {"commission_rate_percent": "4"}
    with Session(engine) as session:
        in_force = partners.agreements_in_force(session, date(2026, 2, 1), ["BDL-K1"])
        assert [a.parameters["commission_rate_percent"] for a in in_force] == ["4"]
        assert session.scalar(
            select(Agreement.valid_to).where(Agreement.id == agreement_id)
        ) == date(2025, 12, 31)


def test_application_workflow(cli: Cli, tmp_path: Path, session: Session) -> None:
    submitted = cli(
        "partners", "applications", "submit", "--code", "BDL-K9", "--name", "Koperasi Nelayan",
        "--kind", "korporasi", "--branch", "BDL", "--scheme", "korporasi-2024",
        "--from", "2026-01-01", "--to", "2027-12-31", "--commission-rate", "3.5", "--json",
    )  # fmt: skip
    assert submitted.exit_code == 0, submitted.stderr
    app_id = str(json.loads(submitted.stdout)["id"])
    early = cli("partners", "applications", "approve", app_id)
    assert early.exit_code == 1  # not under review yet
    assert cli("partners", "applications", "review", app_id, "--note", "ok").exit_code == 0
    legal = tmp_path / "akta.pdf"
    legal.write_bytes(b"akta pendirian")
    attached = cli(
        "partners", "applications", "attach", app_id, str(legal), "--kind", "legal", "--json"
    )
    assert attached.exit_code == 0, attached.stderr
    doc = json.loads(attached.stdout)["documents"][0]
    assert doc["sha256"] == hashlib.sha256(b"akta pendirian").hexdigest()
    assert doc["size_bytes"] == len(b"akta pendirian")
    missing_docs = cli("partners", "applications", "approve", app_id)
    assert missing_docs.exit_code == 2
    # named as people read them (the --kind help pairs each with its code)
    assert "Profil ekosistem, Analisis potensi" in missing_docs.stderr
    for kind in ("ecosystem_profile", "potential_analysis"):
        path = tmp_path / f"{kind}.pdf"
        path.write_bytes(kind.encode())
        assert (
            cli("partners", "applications", "attach", app_id, str(path), "--kind", kind).exit_code
            == 0
        )
    approved = cli("partners", "applications", "approve", app_id, "--json")
    assert approved.exit_code == 0, approved.stderr
    assert json.loads(approved.stdout)["status"] == "approved"
    created = partners.partner(session, "BDL-K9")
    assert created is not None
    assert created.kind == "korporasi"
    [agreement] = partners.agreements_of(session, "BDL-K9")
    assert (agreement.valid_from, agreement.valid_to) == (date(2026, 1, 1), date(2027, 12, 31))
    assert agreement.parameters == {"commission_rate_percent": "3.5"}
    actions_logged = set(
        session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("partners.%")))
    )
    assert {
        "partners.application.submit",
        "partners.application.review",
        "partners.application.document",
        "partners.application.approve",
        "partners.partner.create",
        "partners.agreement.add",
    } <= actions_logged

    rejected_app = cli(
        "partners", "applications", "submit", "--code", "BDL-K8", "--name", "Koperasi Lain",
        "--kind", "korporasi", "--branch", "BDL", "--scheme", "korporasi-2024",
        "--from", "2026-01-01", "--commission-rate", "3", "--json",
    )  # fmt: skip
    other = str(json.loads(rejected_app.stdout)["id"])
    assert cli("partners", "applications", "reject", other, "--reason", "").exit_code == 2
    rejected = cli(
        "partners", "applications", "reject", other, "--reason", "dokumen palsu", "--json"
    )
    body = json.loads(rejected.stdout)
    assert (body["status"], body["decision_reason"]) == ("rejected", "dokumen palsu")
    assert partners.partner(session, "BDL-K8") is None

    bad = cli(
        "partners", "applications", "submit", "--code", "BDL-K7", "--name", "X",
        "--kind", "korporasi", "--branch", "BDL", "--scheme", "korporasi-2024",
        "--from", "2026-01-01", "--commission-rate", "7",
    )  # fmt: skip
    assert bad.exit_code == 2
    assert "commission_rate" in bad.stderr


def test_agent_lifecycle_and_evaluation(cli: Cli, tmp_path: Path, session: Session) -> None:
    assert _import(cli, _write(tmp_path, NETWORK))[0] == 0
    recruited = cli(
        "partners", "agents", "recruit", "PLG-W1-P9", "--name", "Perisai Baru",
        "--kind", "perisai", "--parent", "PLG-W1", "--json",
    )  # fmt: skip
    assert recruited.exit_code == 0, recruited.stderr
    body = json.loads(recruited.stdout)
    assert (body["status"], body["branch_code"]) == ("recruited", "PLG")  # branch inherited
    skipped = cli("partners", "agents", "activate", "PLG-W1-P9")
    assert skipped.exit_code == 2  # recruited -> active skips training
    assert cli("partners", "agents", "train", "PLG-W1-P9", "--on", "2026-01-05").exit_code == 0
    active = cli("partners", "agents", "activate", "PLG-W1-P9", "--on", "2026-01-10", "--json")
    assert json.loads(active.stdout)["activated_on"] == "2026-01-10"
    evaluated = cli(
        "partners", "agents", "evaluate", "PLG-W1-P9", "--from", "2026-01-10",
        "--to", "2026-07-09", "--outcome", "terminate", "--notes", "no registrations", "--json",
    )  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.stderr
    body = json.loads(evaluated.stdout)
    assert body["status"] == "terminated"
    assert body["evaluations"][0]["outcome"] == "terminate"
    again = cli("partners", "agents", "activate", "PLG-W1-P9")
    assert again.exit_code == 2  # terminated is final
    no_reason = cli("partners", "agents", "terminate", "PLG-W1-P2", "--reason", " ")
    assert no_reason.exit_code == 2


def test_agents_at_risk_without_activity(engine: Engine, tmp_path: Path, cli: Cli) -> None:
    # PLG-W1-P1 holds perisai-2022 (3 idle months -> due); PLG-W1-P2 holds komunitas-2024 (no rule).
    assert _import(cli, _write(tmp_path, NETWORK))[0] == 0
    with Session(engine) as session:
        session.execute(
            Partner.__table__.update()
            .where(Partner.code == "PLG-W1-P1")
            .values(activated_on=date(2026, 1, 15))
        )
        session.commit()
        by_month = {
            month: [
                (a.code, a.idle_months, a.standing)
                for a in partners.agents_at_risk(session, ACTOR, Month(2026, month))
            ]
            for month in (1, 2, 3)
        }
    assert by_month == {1: [], 2: [("PLG-W1-P1", 2, "at_risk")], 3: [("PLG-W1-P1", 3, "due")]}
    result = cli("partners", "agents", "at-risk", "--month", "2026-03", "--json")
    assert json.loads(result.stdout)["agents"][0]["standing"] == "due"


def test_evaluations_due_every_six_months(cli: Cli, tmp_path: Path) -> None:
    assert _import(cli, _write(tmp_path, NETWORK))[0] == 0  # agents activated 2025-01-01
    due = json.loads(
        cli("partners", "agents", "evaluations-due", "--on", "2025-07-01", "--json").stdout
    )
    assert [(a["code"], a["due_on"]) for a in due["agents"]] == [
        ("BDL-A1", "2025-07-01"),
        ("PLG-W1-P1", "2025-07-01"),
        ("PLG-W1-P2", "2025-07-01"),
    ]
    assert (
        json.loads(
            cli("partners", "agents", "evaluations-due", "--on", "2025-06-30", "--json").stdout
        )["agents"]
        == []
    )
    evaluated = cli(
        "partners", "agents", "evaluate", "BDL-A1", "--from", "2025-01-01", "--to", "2025-06-30",
        "--outcome", "continue",
    )  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.stderr
    again = cli(
        "partners", "agents", "evaluate", "BDL-A1", "--from", "2025-01-01", "--to", "2025-06-30",
        "--outcome", "continue",
    )  # fmt: skip
    assert again.exit_code == 1  # one evaluation per agent and period
    due = json.loads(
        cli("partners", "agents", "evaluations-due", "--on", "2025-07-01", "--json").stdout
    )
    assert [a["code"] for a in due["agents"]] == ["PLG-W1-P1", "PLG-W1-P2"]
    later = json.loads(
        cli("partners", "agents", "evaluations-due", "--on", "2025-12-30", "--json").stdout
    )
    assert ("BDL-A1", "2025-12-30") in [(a["code"], a["due_on"]) for a in later["agents"]]
