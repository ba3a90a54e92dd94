"""Claims on SQLite and PostgreSQL: eligibility from the ledger at month edges, the 3-month JKM
rule, the quote contract (writes nothing), intake refusals (nothing written), the workflow with
roles and audit, documents (checklist, type, size, SHA-256) and their scoping, and the JKK
deadline on stored claims."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cakupan.audit.models import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.claims.actions import (
    ClaimIntake,
    add_day_off,
    advance_claim,
    submit_claim,
    upload_document,
)
from cakupan.claims.models import Claim, ClaimDocument
from cakupan.claims.queries import claim_detail, document_content, list_claims
from cakupan.claims.rules import MAX_DOCUMENT_BYTES, required_documents
from cakupan.contributions import load_policy_book
from cakupan.dates import JAKARTA, FixedClock, Month
from cakupan.db import make_session_factory
from cakupan.errors import CakupanError, ErrorKind
from cakupan.integration.models import WebhookEvent, WebhookSubscription
from cakupan.partners.actions import NewPartner, create_partner
from cakupan.registry import RegistrationRow, post_payment, register_participant
from tests.conftest import CliResult

SYSTEM = Actor.system("test")
BUDI = "1671010101900001"  # Palembang 16.71.01 (branch PLG), man born 1990-01-01
SITI = "1671015205850002"  # his wife, born 1985-05-12
ANI = "1671014107100003"  # his daughter, born 2010-07-01
EKO = "1671010303880004"  # another participant (JKK+JKM+JHT)
UNKNOWN = "1671010505920009"  # valid NIK, never registered
PDF = b"%PDF-1.4\n% a claim document\n"
PAP = Actor("pap.plg", Role.PAP, branch_code="PLG")
KABID = Actor("kabid.plg", Role.KABID, branch_code="PLG")
PAP_OTHER = Actor("pap.bdl", Role.PAP, branch_code="BDL")


def clock_at(day: str) -> FixedClock:
    return FixedClock(datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=JAKARTA))


def register(
    session: Session, nik: str, on: str, *, income: int = 1_000_000, programs: str = "JKK+JKM",
    partner: str | None = None,
) -> None:  # fmt: skip
    row = RegistrationRow(
        row=1, nik=nik, name=f"Peserta {nik[-4:]}", phone="0812-3456-7890", occupation="farmer",
        reported_income=income, programs=programs, registered_on=on, district_code="16.71.01",
        partner_code=partner, channel="partner" if partner else "branch",
    )  # fmt: skip
    register_participant(session, SYSTEM, row, clock=clock_at(on))


def pay(
    session: Session, nik: str, first: str, months: int, paid_on: str, ref: str, *,
    income: int = 1_000_000, programs: str = "JKK+JKM",
) -> None:  # fmt: skip
    book = load_policy_book(session)
    start = Month.parse(first)
    amount = sum(
        book.monthly_total(income=income, programs=programs, month=start + i) for i in range(months)
    )
    post_payment(
        session, SYSTEM, nik=nik, amount=amount, paid_on=paid_on, reference=ref, channel="bank",
        clock=clock_at(paid_on),
    )  # fmt: skip


@pytest.fixture
def ledger(engine: Engine) -> Engine:
    """BUDI: registered 2026-01-10 through partner WDH1, paid 2026-01..03 on 2026-01-10 and April
    on 2026-04-05 (after April began). EKO: JKK+JKM+JHT at Rp 3.000.000 (base 2.950.000), paid
    2026-01..03 on 2026-01-12."""
    with make_session_factory(engine)() as session, session.begin():
        create_partner(
            session,
            SYSTEM,
            clock_at("2026-01-02"),
            NewPartner("WDH1", "Wadah Satu", "wadah", "PLG"),
        )
        create_partner(
            session, SYSTEM, clock_at("2026-01-02"), NewPartner("WDH2", "Wadah Dua", "wadah", "PLG")
        )
        register(session, BUDI, "2026-01-10", partner="WDH1")
        pay(session, BUDI, "2026-01", 3, "2026-01-10", "B-1")
        pay(session, BUDI, "2026-04", 1, "2026-04-05", "B-2")
        register(session, EKO, "2026-01-12", income=3_000_000, programs="JKK+JKM+JHT")
        pay(session, EKO, "2026-01", 3, "2026-01-12", "E-1", income=3_000_000,
            programs="JKK+JKM+JHT")  # fmt: skip
    return engine


def quote(cli: Callable[..., CliResult], *args: str) -> dict[str, object]:
    result = cli("claims", "quote", *args, "--json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, object] = json.loads(result.stdout)
    return document


def audit_rows(engine: Engine) -> int:
    with make_session_factory(engine)() as session:
        return int(session.execute(select(func.count()).select_from(AuditEntry)).scalar() or 0)


# -- quote: the contract ------------------------------------------------------------------------


def test_quote_jkm_at_month_edges_and_the_3_month_rule(
    ledger: Engine, cli: Callable[..., CliResult]
) -> None:
    before = audit_rows(ledger)
    first = quote(cli, "--type", "jkm", "--nik", BUDI, "--event-date", "2026-03-31")
    assert set(first) == {"type", "nik", "event_date", "eligible", "amount", "reasons", "sources"}
    assert (first["type"], first["nik"], first["event_date"]) == ("jkm", BUDI, "2026-03-31")
    assert (first["eligible"], first["amount"]) == (True, 10_000_000)
    assert any("pp82-2019/jkm-bpu-short-membership" in s for s in first["sources"])  # type: ignore[attr-defined]
    # April was paid on 2026-04-05: a death on 04-01 falls in a month not paid by then.
    april_first = quote(cli, "--type", "jkm", "--nik", BUDI, "--event-date", "2026-04-01")
    assert (april_first["eligible"], april_first["amount"]) == (False, None)
    assert "2026-04" in str(april_first["reasons"])
    # From the payment on, April is covered and membership is 3 months: the full Rp 42 M.
    april_later = quote(cli, "--type", "jkm", "--nik", BUDI, "--event-date", "2026-04-30")
    assert (april_later["eligible"], april_later["amount"]) == (True, 42_000_000)
    may = quote(cli, "--type", "jkm", "--nik", BUDI, "--event-date", "2026-05-01")
    assert (may["eligible"], may["amount"]) == (False, None)
    # Before the registration month's coverage: not registered yet.
    early = quote(cli, "--type", "jkm", "--nik", BUDI, "--event-date", "2026-01-09")
    assert early["eligible"] is False
    assert audit_rows(ledger) == before  # the quote writes nothing


def test_quote_jkk_death_jht_and_unregistered(
    ledger: Engine, cli: Callable[..., CliResult]
) -> None:
    death = quote(
        cli, "--type", "jkk", "--nik", EKO, "--event-date", "2026-02-14", "--cause", "death"
    )
    assert (death["eligible"], death["amount"]) == (True, 48 * 2_950_000)
    accident = quote(cli, "--type", "jkk", "--nik", EKO, "--event-date", "2026-02-14")
    assert (accident["eligible"], accident["amount"]) == (True, None)
    # JHT 2% of 2.950.000 = 59.000 a month, 3 months; returns to 2026-06: 9 x 59.000 x 5.5%/12.
    jht = quote(cli, "--type", "jht", "--nik", EKO, "--event-date", "2026-06-15")
    assert (jht["eligible"], jht["amount"]) == (True, 177_000 + 2434)
    nobody = quote(cli, "--type", "jkm", "--nik", UNKNOWN, "--event-date", "2026-06-15")
    assert (nobody["eligible"], nobody["amount"]) == (False, None)
    assert nobody["reasons"] == [f"NIK {UNKNOWN} tidak terdaftar"]
    no_jht = quote(cli, "--type", "jht", "--nik", BUDI, "--event-date", "2026-03-01")
    assert no_jht["eligible"] is False


@pytest.mark.parametrize(
    "args",
    [
        ("--type", "jkx", "--nik", BUDI, "--event-date", "2026-03-01"),
        ("--type", "jkm", "--nik", "12345", "--event-date", "2026-03-01"),
        ("--type", "jkm", "--nik", BUDI, "--event-date", "2026-02-30"),
        ("--type", "jkk", "--nik", BUDI, "--event-date", "2026-03-01", "--cause", "flood"),
        ("--type", "jkm", "--nik", BUDI, "--event-date", "2026-03-01", "--cause", "accident"),
    ],
)
def test_quote_bad_input_exits_2(
    ledger: Engine, cli: Callable[..., CliResult], args: tuple[str, ...]
) -> None:
    result = cli("claims", "quote", *args, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


# -- intake ---------------------------------------------------------------------------------------


def intake(**values: str) -> ClaimIntake:
    base = {
        "claim_type": "jkm", "nik": BUDI, "event_date": "2026-03-20", "claimant_name": "Siti",
        "claimant_nik": SITI, "relation": "spouse", "bank_name": "BRI",
        "bank_account": "0123 4567 8901", "bank_account_holder": "Siti",
    }  # fmt: skip
    base.update(values)
    return ClaimIntake(**base)  # type: ignore[arg-type]


NOW = clock_at("2026-06-01")


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"event_date": "2026-05-02"}, "event-date", "claims.not_eligible"),
        ({"relation": "cousin"}, "relation", "claims.relation_invalid"),
        ({"relation": "self", "claimant_nik": BUDI}, "relation", "claims.relation_invalid"),
        ({"claimant_nik": "1671013202850002"}, "claimant-nik", "claims.nik_invalid"),
        ({"bank_account": "12ab"}, "account", "invalid"),
        ({"event_date": "2026-07-01"}, "event-date", "invalid"),
    ],
)
def test_intake_refusals_write_nothing(
    ledger: Engine, values: dict[str, str], field: str, code: str
) -> None:
    before = audit_rows(ledger)
    with (
        make_session_factory(ledger)() as session,
        session.begin(),
        pytest.raises(CakupanError) as caught,
    ):
        submit_claim(session, PAP, intake(**values), clock=NOW)
    assert caught.value.problems[0].field == field
    assert caught.value.problems[0].code == code
    assert caught.value.kind is ErrorKind.INVALID
    assert audit_rows(ledger) == before
    with make_session_factory(ledger)() as session:
        assert session.execute(select(func.count()).select_from(Claim)).scalar() == 0


def test_a_death_is_claimed_once(ledger: Engine) -> None:
    with make_session_factory(ledger)() as session, session.begin():
        first = submit_claim(session, PAP, intake(), clock=NOW)
        assert first.amount == 10_000_000
    for second in (intake(claimant_nik=ANI, relation="child", claimant_name="Ani"),
                   intake(claim_type="jkk", cause="death")):  # fmt: skip
        with (
            make_session_factory(ledger)() as session,
            session.begin(),
            pytest.raises(CakupanError) as caught,
        ):
            submit_claim(session, PAP, second, clock=NOW)
        assert caught.value.code == "claims.duplicate_death"
        assert caught.value.kind is ErrorKind.CONFLICT
    # Once the first is rejected, the death may be claimed again (e.g. by the right heir).
    with make_session_factory(ledger)() as session, session.begin():
        advance_claim(session, PAP, first.id, "rejected", clock=NOW, reason="ahli waris keliru")
        again = submit_claim(
            session, PAP, intake(claimant_nik=ANI, relation="child", claimant_name="Ani"), clock=NOW
        )
        assert again.id != first.id


def test_partner_submits_for_its_own_participants_only(ledger: Engine) -> None:
    own = Actor("wdh1", Role.PARTNER, partner_code="WDH1")
    other = Actor("wdh2", Role.PARTNER, partner_code="WDH2")
    with make_session_factory(ledger)() as session, session.begin():
        with pytest.raises(CakupanError) as caught:
            submit_claim(session, other, intake(), clock=NOW)
        assert caught.value.kind is ErrorKind.FORBIDDEN
    with make_session_factory(ledger)() as session, session.begin():
        claim = submit_claim(session, own, intake(), clock=NOW)
        assert (claim.channel, claim.partner_code) == ("partner", "WDH1")


# -- workflow, documents, scoping ---------------------------------------------------------------


def test_workflow_from_intake_to_payment(ledger: Engine) -> None:
    with make_session_factory(ledger)() as session, session.begin():
        session.add(
            WebhookSubscription(
                partner_code="WDH1",
                url="https://wdh1.example/hook",
                secret="s" * 32,
                events=["claim.status_changed"],
                active=True,
                created_at=NOW.now(),
                created_by="test",
            )
        )
        claim = submit_claim(session, PAP, intake(), clock=NOW)
        claim_id = claim.id
    with make_session_factory(ledger)() as session, session.begin():
        with pytest.raises(CakupanError) as caught:
            advance_claim(session, PAP, claim_id, "verified", clock=NOW)
        message = caught.value.render("en")
        assert caught.value.code == "claims.documents_missing"
        for kind in ("death_certificate", "heir_letter", "marriage_book", "bank_book"):
            assert kind in message
    required = [str(k) for k in required_documents(*_claim_terms(ledger, claim_id))]
    with make_session_factory(ledger)() as session, session.begin():
        for kind in required:
            upload_document(
                session, PAP, claim_id, kind, file_name=f"{kind}.pdf", content=PDF + kind.encode(),
                clock=NOW,
            )  # fmt: skip
    with make_session_factory(ledger)() as session, session.begin():
        advance_claim(session, PAP, claim_id, "verified", clock=NOW)
        with pytest.raises(CakupanError) as caught:
            advance_claim(session, PAP, claim_id, "approved", clock=NOW)
        assert caught.value.kind is ErrorKind.FORBIDDEN
    with make_session_factory(ledger)() as session, session.begin():
        with pytest.raises(CakupanError) as caught:
            advance_claim(session, KABID, claim_id, "paid", clock=NOW, payment_reference="X")
        assert caught.value.code == "claims.transition_invalid"
    with make_session_factory(ledger)() as session, session.begin():
        advance_claim(session, KABID, claim_id, "approved", clock=NOW)
        with pytest.raises(CakupanError):
            advance_claim(session, PAP, claim_id, "paid", clock=NOW)  # no reference
    with make_session_factory(ledger)() as session, session.begin():
        advance_claim(session, PAP, claim_id, "paid", clock=NOW, payment_reference="TRF-001")
    with make_session_factory(ledger)() as session:
        view = claim_detail(session, PAP, claim_id, today=date(2026, 6, 1))
        assert view.state == "paid"
        assert (view.paid_on, view.payment_reference, view.amount) == (
            date(2026, 6, 1), "TRF-001", 10_000_000,
        )  # fmt: skip
        assert [s["to"] for s in view.steps] == [
            "submitted", "verified", "approved", "paid",
        ]  # fmt: skip
        assert view.missing == []
        assert view.nik == BUDI  # PAP of the branch sees it in clear
        actions = list(
            session.execute(
                select(AuditEntry.action).where(AuditEntry.entity_type == "claim",
                                                AuditEntry.entity_id == str(claim_id))
                .order_by(AuditEntry.id)
            ).scalars()
        )  # fmt: skip
        assert actions[0] == "claim.submit"
        assert actions[-3:] == ["claim.verified", "claim.approved", "claim.paid"]
        # The participant's partner is told of every change (webhook outbox), NIK masked.
        events = list(
            session.execute(
                select(WebhookEvent.payload).where(WebhookEvent.event_type == "claim.status_changed")
                .order_by(WebhookEvent.id)
            ).scalars()
        )  # fmt: skip
        assert [e["data"]["state"] for e in events] == ["submitted", "verified", "approved", "paid"]
        assert {e["data"]["nik"] for e in events} == {"1671********0001"}


def _claim_terms(engine: Engine, claim_id: int) -> tuple[object, ...]:
    from cakupan.claims.rules import Cause, ClaimType, JhtReason, Relation

    with make_session_factory(engine)() as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        return (
            ClaimType(claim.claim_type),
            None if claim.cause is None else Cause(claim.cause),
            None if claim.jht_reason is None else JhtReason(claim.jht_reason),
            Relation(claim.relation),
        )


def test_documents_checked_and_scoped(ledger: Engine) -> None:
    with make_session_factory(ledger)() as session, session.begin():
        claim_id = submit_claim(session, PAP, intake(), clock=NOW).id
    refusals = [
        ("jkk_form", PDF, "claims.document_kind_invalid"),  # not on a JKM checklist
        ("ktp", b"MZ\x90\x00not a pdf", "claims.document_type_invalid"),
        ("ktp", b"%PDF-" + b"0" * MAX_DOCUMENT_BYTES, "claims.document_too_large"),
        ("passport", PDF, "claims.kind_invalid"),
    ]
    for kind, content, code in refusals:
        with make_session_factory(ledger)() as session, session.begin():
            with pytest.raises(CakupanError) as caught:
                upload_document(
                    session, PAP, claim_id, kind, file_name="x.pdf", content=content, clock=NOW
                )
            assert caught.value.code == code
    with make_session_factory(ledger)() as session, session.begin():
        assert session.execute(select(func.count()).select_from(ClaimDocument)).scalar() == 0
        stored = upload_document(
            session, PAP, claim_id, "ktp", file_name="ktp.pdf", content=PDF, clock=NOW
        )
        assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
        assert stored.content_type == "application/pdf"
    own = Actor("wdh1", Role.PARTNER, partner_code="WDH1")
    with make_session_factory(ledger)() as session:
        assert document_content(session, own, claim_id, _kind("ktp")).content == PDF
        assert document_content(session, PAP, claim_id, _kind("ktp")).sha256 == stored.sha256
        for outsider in (Actor("wdh2", Role.PARTNER, partner_code="WDH2"), PAP_OTHER,
                         Actor("a", Role.AGENT, agent_code="AG9")):  # fmt: skip
            with pytest.raises(CakupanError) as caught:
                document_content(session, outsider, claim_id, _kind("ktp"))
            assert caught.value.kind is ErrorKind.NOT_FOUND
            assert list_claims(session, outsider, today=date(2026, 6, 1)) == []
        partner_view = list_claims(session, own, today=date(2026, 6, 1))
        assert [v.id for v in partner_view] == [claim_id]
        assert partner_view[0].nik == "1671********0001"  # masked for the partner


def _kind(value: str) -> object:
    from cakupan.claims.rules import DocumentKind

    return DocumentKind(value)


def test_jkk_deadline_on_stored_claims_and_at_risk_first(ledger: Engine) -> None:
    jkk = intake(claim_type="jkk", nik=EKO, claimant_nik=EKO, relation="self", claimant_name="Eko",
                 event_date="2026-03-10", bank_account_holder="Eko")  # fmt: skip
    with make_session_factory(ledger)() as session, session.begin():
        ids = []
        for n in range(2):
            claim = submit_claim(
                session, PAP, jkk if n == 0 else intake(event_date="2026-03-10"),
                clock=clock_at("2026-03-12"),
            )  # fmt: skip
            ids.append(claim.id)
            for kind in required_documents(*_claim_terms_of(claim)):
                upload_document(session, PAP, claim.id, str(kind), file_name="d.pdf", content=PDF,
                                clock=clock_at("2026-03-12"))  # fmt: skip
            advance_claim(session, PAP, claim.id, "verified", clock=clock_at("2026-03-16"))
            advance_claim(session, KABID, claim.id, "approved", clock=clock_at("2026-03-17"))
    with make_session_factory(ledger)() as session:
        views = list_claims(session, PAP, today=date(2026, 3, 31))
        assert [v.id for v in views] == [ids[0], ids[1]]  # the JKK claim at risk comes first
        sla = views[0].service_level
        assert sla is not None
        assert (sla.deadline, sla.working_days_left, sla.at_risk) == (date(2026, 4, 2), 2, True)
        assert views[1].service_level is None  # JKM has no 7-day rule
    with make_session_factory(ledger)() as session, session.begin():
        add_day_off(session, SYSTEM, date(2026, 4, 1), "Libur lokal", "SK Kepala Kantor",
                    clock=clock_at("2026-03-20"))  # fmt: skip
        advance_claim(session, PAP, ids[0], "paid", clock=clock_at("2026-04-03"),
                      payment_reference="TRF-JKK-1")  # fmt: skip
    with make_session_factory(ledger)() as session:
        view = claim_detail(session, PAP, ids[0], today=date(2026, 4, 10))
        assert view.service_level is not None
        # The added day off moves the deadline to Mon 2026-04-06; paid Fri 04-03: on time.
        assert (view.service_level.deadline, view.service_level.on_time) == (
            date(2026, 4, 6), True,
        )  # fmt: skip


def _claim_terms_of(claim: Claim) -> tuple[object, ...]:
    from cakupan.claims.rules import Cause, ClaimType, JhtReason, Relation

    return (
        ClaimType(claim.claim_type),
        None if claim.cause is None else Cause(claim.cause),
        None if claim.jht_reason is None else JhtReason(claim.jht_reason),
        Relation(claim.relation),
    )


def test_cli_submit_list_show_advance(ledger: Engine, cli: Callable[..., CliResult],
                                      tmp_path: object) -> None:  # fmt: skip
    from pathlib import Path

    submitted = cli(
        "claims", "submit", "--type", "jkm", "--nik", BUDI, "--event-date", "2026-03-20",
        "--claimant-name", "Siti", "--claimant-nik", SITI, "--relation", "spouse",
        "--bank", "BRI", "--account", "012345678901", "--account-holder", "Siti", "--json",
    )  # fmt: skip
    assert submitted.exit_code == 0, submitted.stderr
    claim = json.loads(submitted.stdout)
    assert (claim["state"], claim["amount"]) == ("submitted", 10_000_000)
    assert "marriage_book" in claim["documents"]["missing"]
    bad = cli(
        "claims", "submit", "--type", "jkm", "--nik", BUDI, "--event-date", "2026-03-20",
        "--claimant-name", "Siti", "--claimant-nik", SITI, "--relation", "wife",
        "--bank", "BRI", "--account", "012345678901", "--account-holder", "Siti",
    )  # fmt: skip
    assert bad.exit_code == 2
    assert "relation" in bad.stderr
    again = cli(
        "claims", "submit", "--type", "jkm", "--nik", BUDI, "--event-date", "2026-03-20",
        "--claimant-name", "Ani", "--claimant-nik", ANI, "--relation", "child",
        "--bank", "BRI", "--account", "012345678901", "--account-holder", "Ani",
    )  # fmt: skip
    assert again.exit_code == 1
    folder = Path(str(tmp_path))
    for kind in claim["documents"]["required"]:
        path = folder / f"{kind}.pdf"
        path.write_bytes(PDF + kind.encode())
        up = cli(
            "claims", "upload", str(claim["id"]), "--kind", kind, "--file", str(path), "--json"
        )
        assert up.exit_code == 0, up.stderr
        assert json.loads(up.stdout)["sha256"] == hashlib.sha256(PDF + kind.encode()).hexdigest()
    for to, extra in (("verified", ()), ("approved", ()),
                      ("paid", ("--payment-reference", "TRF-9"))):  # fmt: skip
        step = cli("claims", "advance", str(claim["id"]), "--to", to, *extra, "--json")
        assert step.exit_code == 0, step.stderr
    early = cli("claims", "advance", str(claim["id"]), "--to", "rejected", "--on", "2026-01-01")
    assert early.exit_code == 1  # paid cannot be rejected
    wrong = cli("claims", "advance", str(claim["id"]), "--to", "verified")
    assert wrong.exit_code == 1
    unknown = cli("claims", "advance", str(claim["id"]), "--to", "done")
    assert unknown.exit_code == 2
    shown = json.loads(cli("claims", "show", str(claim["id"]), "--json").stdout)
    assert (shown["state"], shown["paid_on"], shown["payment_reference"]) == (
        "paid", claim["submitted_on"], "TRF-9",
    )  # fmt: skip
    listed = json.loads(cli("claims", "list", "--state", "paid", "--json").stdout)
    assert [c["id"] for c in listed] == [claim["id"]]
    assert cli("claims", "show", "999").exit_code == 1


@pytest.mark.postgres_only
def test_concurrent_intakes_of_one_death_make_one_claim(ledger: Engine) -> None:
    """Two desks take in the same death at once: the partial unique index lets one through and
    the other gets the duplicate-death conflict (never two claims, never a server error)."""
    import threading

    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    heirs = (intake(), intake(claimant_nik=ANI, relation="child", claimant_name="Ani"))

    def desk(claim: ClaimIntake) -> None:
        barrier.wait()
        try:
            with make_session_factory(ledger)() as session, session.begin():
                submit_claim(session, PAP, claim, clock=NOW)
            outcomes.append("ok")
        except CakupanError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=desk, args=(claim,)) for claim in heirs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["claims.duplicate_death", "ok"]
    with make_session_factory(ledger)() as session:
        assert session.execute(select(func.count()).select_from(Claim)).scalar() == 1
