"""Prospects: lists from institutions and partners, deduplicated against the registry and
earlier lists, assigned to staff or agents, contacted, and followed into the ledger by NIK.

Deduplication (a duplicate row is counted and not stored):

* a row with a NIK is a duplicate when that NIK is registered (``participant``) or already a
  prospect, or appeared earlier in the file;
* a row without a NIK is a duplicate when a participant or a prospect has the same normalised
  phone (``62`` + subscriber number, :func:`rules.phone_key`) AND the same normalised name
  (case, spacing, punctuation, titles, :func:`rules.name_key`), or such a row appeared earlier in
  the file. Phone alone is not enough: a household often shares one phone.
"""

from __future__ import annotations

import json
import re
import typing
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Engine,
    Table,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy import Integer as SAInteger
from sqlalchemy.orm import InstrumentedAttribute, Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.campaigns.models import Campaign, Prospect, ProspectContact, ProspectList
from cakupan.campaigns.rules import (
    CONTACT_OUTCOMES,
    REFUSAL_REASONS,
    ProspectStage,
    name_key,
    phone_key,
    stored_phone_forms,
)
from cakupan.dates import Clock, SystemClock, parse_date, today
from cakupan.db import is_postgres
from cakupan.errors import CakupanError, FieldProblem, invalid, not_found
from cakupan.i18n import Text, t
from cakupan.imports import ImportResult, in_batches, open_records, post_file
from cakupan.regions.models import District
from cakupan.registry.models import Membership, Occupation, Participant

__all__ = [
    "CONTACT_METHODS",
    "PROSPECT_COLUMNS",
    "ProspectView",
    "assign_prospects",
    "import_prospects",
    "prospect_scope",
    "prospect_views",
    "record_contact",
]

PROSPECT_COLUMNS = ("name",)
#: The table itself, for Core inserts (ORM bulk inserts split batches on NULL patterns).
_PROSPECT_TABLE = typing.cast(Table, Prospect.__table__)
PROSPECT_OPTIONAL = (
    "nik",
    "phone",
    "occupation",
    "district_code",
    "village_code",
    "campaign_code",
    "listed_on",
    "institution",
)
CONTACT_METHODS = ("phone", "whatsapp", "visit", "event", "other")
_NIK_RE = re.compile(r"^\d{16}$")


@dataclass
class _Row:
    row: int
    nik: str | None
    name: str
    name_key: str
    phone: str | None
    phone_key: str | None
    occupation: str | None
    district_code: str | None
    village_code: str | None
    campaign_code: str | None
    listed_on: date
    institution: str | None


def import_prospects(
    engine: Engine,
    actor: Actor,
    path: Path | str,
    *,
    partial: bool = False,
    campaign_code: str | None = None,
    institution: str | None = None,
    clock: Clock | None = None,
) -> ImportResult:
    """Import a prospect list (columns in docs/campaigns.md), deduplicated as the module says.
    ``campaign_code`` / ``institution`` apply to rows that do not name their own. All-or-nothing
    unless ``partial``; audited once; importing the same file again gives only duplicates."""
    clock = clock or SystemClock()
    with open_records(path, required=PROSPECT_COLUMNS, optional=PROSPECT_OPTIONAL) as records:

        def post(session: Session, result: ImportResult) -> None:
            occupations = set(session.scalars(select(Occupation.code)))
            campaigns = set(session.scalars(select(Campaign.code)))
            if campaign_code is not None and campaign_code not in campaigns:
                raise invalid(
                    "campaign",
                    t("kampanye {c!r} tidak ditemukan", "campaign {c!r} not found").format(
                        c=campaign_code
                    ),
                )
            seen_nik: dict[str, int] = {}
            seen_contact: dict[tuple[str, str], int] = {}
            prospect_list: ProspectList | None = None
            for batch in in_batches(records, 1000):
                rows: list[_Row] = []
                districts = set(
                    session.scalars(
                        select(District.code).where(
                            District.code.in_({r["district_code"] for r in batch} - {""})
                        )
                    )
                )
                for record in batch:
                    problems = record.shape_problems()
                    parsed = _parse(record, problems, occupations, campaigns, districts, clock)
                    parsed.campaign_code = parsed.campaign_code or campaign_code
                    parsed.institution = parsed.institution or institution
                    if problems:
                        result.reject(record.row, problems)
                    else:
                        rows.append(parsed)
                fresh = _not_known(session, rows)
                new_rows: list[dict[str, Any]] = []
                for row in rows:
                    if row.nik is not None:
                        if row.nik in seen_nik or row.row not in fresh:
                            result.duplicates += 1
                            continue
                        seen_nik[row.nik] = row.row
                    else:
                        assert row.phone_key is not None
                        key = (row.phone_key, row.name_key)
                        if key in seen_contact or row.row not in fresh:
                            result.duplicates += 1
                            continue
                        seen_contact[key] = row.row
                    if prospect_list is None:
                        prospect_list = ProspectList(
                            file_name=records.source.name,
                            file_hash=records.source.sha256,
                            institution=row.institution,
                            imported_at=clock.now(),
                            actor=actor.name,
                        )
                        session.add(prospect_list)
                        session.flush()
                    new_rows.append(
                        {
                            "list_id": prospect_list.id,
                            "nik": row.nik,
                            "name": row.name,
                            "name_key": row.name_key,
                            "phone": row.phone,
                            "phone_key": row.phone_key,
                            "occupation": row.occupation,
                            "district_code": row.district_code,
                            "village_code": row.village_code,
                            "campaign_code": row.campaign_code,
                            "listed_on": row.listed_on,
                        }
                    )
                    result.accepted += 1
                if new_rows:  # one executemany per batch (ORM bulk would split on NULL patterns)
                    session.execute(insert(_PROSPECT_TABLE), new_rows)  # Core: NULLs kept

        return post_file(engine, actor, "prospect", records.source, post, partial=partial)


def _parse(
    record: Any,
    problems: list[tuple[str, Text]],
    occupations: set[str],
    campaigns: set[str],
    districts: set[str],
    clock: Clock,
) -> _Row:
    name = record["name"][:200]
    key = name_key(name)
    if key is None:
        problems.append(("name", t("nama wajib diisi", "the name is required")))
    nik = record["nik"] or None
    if nik is not None and not _NIK_RE.match(nik):
        problems.append(
            (
                "nik",
                t(
                    "NIK harus 16 digit angka, diterima {v!r}", "NIK must be 16 digits, got {v!r}"
                ).format(v=nik),
            )
        )
    phone = record["phone"] or None
    pkey = phone_key(phone)
    if phone is not None and pkey is None:
        problems.append(
            (
                "phone",
                t(
                    "nomor telepon minimal 8 digit (+62/08...), diterima {v!r}",
                    "a phone number needs at least 8 digits (+62/08...), got {v!r}",
                ).format(v=phone),
            )
        )
    if nik is None and phone is None:
        problems.append(
            (
                "nik",
                t(
                    "isi NIK atau nomor telepon (untuk dihubungi dan dicek duplikat)",
                    "give a NIK or a phone number (to contact and deduplicate)",
                ),
            )
        )
    occupation = record["occupation"] or None
    if occupation is not None and occupation not in occupations:
        problems.append(
            (
                "occupation",
                t("pekerjaan {v!r} tidak dikenal", "unknown occupation {v!r}").format(v=occupation),
            )
        )
    district = record["district_code"] or None
    if district is not None and district not in districts:
        problems.append(
            (
                "district_code",
                t(
                    "kode kecamatan {v!r} tidak dikenal (PP.RR.DD)",
                    "unknown district code {v!r} (PP.RR.DD)",
                ).format(v=district),
            )
        )
    village = record["village_code"] or None
    if village is not None and (district is None or not village.startswith(district + ".")):
        problems.append(
            (
                "village_code",
                t(
                    "desa {v!r} harus berada di kecamatan yang diisi",
                    "village {v!r} must lie in the given district",
                ).format(v=village),
            )
        )
    campaign = record["campaign_code"] or None
    if campaign is not None and campaign not in campaigns:
        problems.append(
            (
                "campaign_code",
                t("kampanye {v!r} tidak dikenal", "unknown campaign {v!r}").format(v=campaign),
            )
        )
    listed_on = today(clock)
    if record["listed_on"]:
        try:
            listed_on = parse_date(record["listed_on"])
        except ValueError:
            problems.append(
                (
                    "listed_on",
                    t(
                        "tanggal YYYY-MM-DD diharapkan, diterima {v!r}",
                        "expected a date YYYY-MM-DD, got {v!r}",
                    ).format(v=record["listed_on"]),
                )
            )
    return _Row(
        row=record.row,
        nik=nik,
        name=name,
        name_key=key or "",
        phone=phone,
        phone_key=pkey,
        occupation=occupation,
        district_code=district,
        village_code=village,
        campaign_code=campaign,
        listed_on=listed_on,
        institution=(record["institution"] or None),
    )


def _among(
    session: Session, column: InstrumentedAttribute[Any], values: Iterable[str]
) -> ColumnElement[bool]:
    """``column IN (values)`` with the values as ONE JSON parameter (``json_each`` on SQLite,
    ``json_array_elements_text`` on PostgreSQL): no statement with thousands of placeholders,
    which the driver would encode one by one."""
    payload = json.dumps(sorted(values))
    if is_postgres(session):
        table = func.json_array_elements_text(cast(literal(payload), JSON)).table_valued("value")
    else:
        table = func.json_each(literal(payload)).table_valued("value")
    return column.in_(select(table.c.value))


def _not_known(session: Session, rows: Sequence[_Row]) -> set[int]:
    """Row numbers of the rows of a batch that match no participant and no earlier prospect (a
    fixed number of queries per batch)."""
    niks = {r.nik for r in rows if r.nik}
    known_niks: set[str] = set()
    if niks:
        known_niks |= set(
            session.scalars(select(Participant.nik).where(_among(session, Participant.nik, niks)))
        )
        known_niks |= {
            n
            for n in session.scalars(
                select(Prospect.nik).where(_among(session, Prospect.nik, niks))
            )
            if n
        }
    phones = {r.phone_key for r in rows if r.nik is None and r.phone_key}
    known_contacts: set[tuple[str, str]] = set()
    if phones:
        forms = [form for key in sorted(phones) for form in stored_phone_forms(key)]
        for stored, name in session.execute(
            select(Participant.phone, Participant.name).where(
                _among(session, Participant.phone, forms)
            )
        ):
            known_contacts.add((phone_key(stored) or "", name_key(name) or ""))
        for listed_phone, listed_name in session.execute(
            select(Prospect.phone_key, Prospect.name_key).where(
                _among(session, Prospect.phone_key, phones)
            )
        ):
            known_contacts.add((listed_phone or "", listed_name))
    fresh: set[int] = set()
    for row in rows:
        if row.nik is not None:
            if row.nik not in known_niks:
                fresh.add(row.row)
        elif (row.phone_key or "", row.name_key) not in known_contacts:
            fresh.add(row.row)
    return fresh


def assign_prospects(
    session: Session,
    actor: Actor,
    *,
    to: str,
    kind: str,
    ids: Sequence[int] = (),
    campaign_code: str | None = None,
    district_code: str | None = None,
    only_unassigned: bool = True,
    limit: int | None = None,
) -> int:
    """Assign prospects to a staff member (user name) or an agent (partner code): those listed
    by id, or those of a campaign and/or district; by default only unassigned ones. One UPDATE;
    returns how many were assigned. INVALID when no selection is given or the kind is wrong."""
    if kind not in ("staff", "agent"):
        raise invalid(
            "kind",
            t("staff atau agent, diterima {v!r}", "expected staff or agent, got {v!r}").format(
                v=kind
            ),
        )
    if not to.strip():
        raise invalid("to", t("wajib diisi", "required"))
    if not ids and campaign_code is None and district_code is None:
        raise invalid(
            "selection",
            t("sebutkan id, kampanye atau kecamatan", "name ids, a campaign or a district"),
        )
    if kind == "agent":
        from cakupan.partners.models import Partner

        if session.get(Partner, to) is None:
            raise not_found(t("agen {c!r} tidak ditemukan", "agent {c!r} not found").format(c=to))
    selection = select(Prospect.id)
    if ids:
        selection = selection.where(Prospect.id.in_(ids))
    if campaign_code is not None:
        selection = selection.where(Prospect.campaign_code == campaign_code)
    if district_code is not None:
        selection = selection.where(Prospect.district_code == district_code)
    if only_unassigned:
        selection = selection.where(Prospect.assigned_to.is_(None))
    chosen = list(session.scalars(selection.order_by(Prospect.id).limit(limit)))
    if chosen:
        session.execute(
            update(Prospect)
            .where(Prospect.id.in_(chosen))
            .values(assigned_to=to, assigned_kind=kind)
        )
    record_audit(
        session,
        actor,
        "prospect.assign",
        "prospect",
        None,
        after={
            "to": to,
            "kind": kind,
            "count": len(chosen),
            "first_id": chosen[0] if chosen else None,
            "last_id": chosen[-1] if chosen else None,
        },
    )
    return len(chosen)


def record_contact(
    session: Session,
    actor: Actor,
    prospect_id: int,
    *,
    outcome: str,
    refusal_reason: str | None = None,
    method: str = "phone",
    contacted_on: date | str | None = None,
    note: str | None = None,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Record one contact attempt. A ``refused`` outcome requires a reason from the controlled
    list; other outcomes take none. INVALID naming the field otherwise; NOT_FOUND for an unknown
    prospect."""
    clock = clock or SystemClock()
    prospect = session.get(Prospect, prospect_id)
    if prospect is None:
        raise not_found(
            t("prospek {i} tidak ditemukan", "prospect {i} not found").format(i=prospect_id)
        )
    problems: list[tuple[str, Text]] = []
    if outcome not in CONTACT_OUTCOMES:
        problems.append(
            (
                "outcome",
                t("salah satu dari {c}, diterima {v!r}", "expected one of {c}, got {v!r}").format(
                    c=", ".join(CONTACT_OUTCOMES), v=outcome
                ),
            )
        )
    if outcome == "refused" and refusal_reason not in REFUSAL_REASONS:
        problems.append(
            (
                "reason",
                t(
                    "alasan penolakan wajib, salah satu dari {c}; diterima {v}",
                    "a refusal needs a reason, one of {c}; got {v}",
                ).format(
                    c=", ".join(REFUSAL_REASONS),
                    v=repr(refusal_reason) if refusal_reason else "(kosong / empty)",
                ),
            )
        )
    if outcome != "refused" and refusal_reason is not None:
        problems.append(
            (
                "reason",
                t("alasan hanya untuk hasil 'refused'", "a reason applies only to 'refused'"),
            )
        )
    if method not in CONTACT_METHODS:
        problems.append(
            (
                "method",
                t("salah satu dari {c}, diterima {v!r}", "expected one of {c}, got {v!r}").format(
                    c=", ".join(CONTACT_METHODS), v=method
                ),
            )
        )
    day = today(clock)
    if isinstance(contacted_on, date):
        day = contacted_on
    elif contacted_on:
        try:
            day = parse_date(contacted_on)
        except ValueError:
            problems.append(
                (
                    "on",
                    t("tanggal YYYY-MM-DD", "expected a date YYYY-MM-DD, got {v!r}").format(
                        v=contacted_on
                    ),
                )
            )
    if problems:
        raise CakupanError(
            title=t("Kontak tidak valid", "Invalid contact"),
            problems=[
                FieldProblem(field=f, message=m, record=f"prospect {prospect_id}")
                for f, m in problems
            ],
        )
    contact = ProspectContact(
        prospect_id=prospect_id,
        contacted_on=day,
        method=method,
        outcome=outcome,
        refusal_reason=refusal_reason,
        note=note,
        actor=actor.name,
        recorded_at=clock.now(),
    )
    session.add(contact)
    session.flush()
    after = {
        "prospect_id": prospect_id,
        "contacted_on": day.isoformat(),
        "method": method,
        "outcome": outcome,
        "refusal_reason": refusal_reason,
        "note": note,
    }
    record_audit(session, actor, "prospect.contact", "prospect_contact", contact.id, after=after)
    return {"id": contact.id, **after}


# -- reading prospects with their stage ------------------------------------------------------------


@dataclass(frozen=True)
class ProspectView:
    id: int
    name: str
    nik: str | None
    phone: str | None
    district_code: str | None
    campaign_code: str | None
    assigned_to: str | None
    attempts: int
    last_outcome: str | None
    stage: ProspectStage

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "nik": self.nik,
            "phone": self.phone,
            "district_code": self.district_code,
            "campaign_code": self.campaign_code,
            "assigned_to": self.assigned_to,
            "attempts": self.attempts,
            "last_outcome": self.last_outcome,
            "stage": self.stage.value,
        }


def _episode_subquery() -> Any:
    """Per prospect: the first membership episode registered on or after the listing date (the
    registration the prospect led to), joined by NIK."""
    return (
        select(Prospect.id.label("prospect_id"), func.min(Membership.id).label("membership_id"))
        .join(Participant, Participant.nik == Prospect.nik)
        .join(
            Membership,
            and_(
                Membership.participant_id == Participant.id,
                Membership.registered_on >= Prospect.listed_on,
            ),
        )
        .group_by(Prospect.id)
        .subquery()
    )


def prospect_views(
    session: Session,
    *,
    campaign_code: str | None = None,
    assigned_to: str | None = None,
    ids: Sequence[int] = (),
    limit: int | None = None,
    scope: ColumnElement[bool] | None = None,
) -> list[ProspectView]:
    """Prospects with their contact attempts and current stage, computed from contacts and the
    ledger in one query (never stored); ``scope`` (:func:`prospect_scope`) restricts them to what
    a user may see. Ordered by id."""
    contacts = (
        select(
            ProspectContact.prospect_id,
            func.count().label("attempts"),
            func.max(case((ProspectContact.outcome == "interested", 1), else_=0)).label(
                "interested"
            ),
            func.max(case((ProspectContact.outcome != "unreachable", 1), else_=0)).label("reached"),
            func.max(ProspectContact.id).label("last_id"),
        )
        .group_by(ProspectContact.prospect_id)
        .subquery()
    )
    episode = _episode_subquery()
    months_paid = case(
        (
            Membership.paid_through_month.is_not(None),
            type_coerce(Membership.paid_through_month, SAInteger)
            - type_coerce(Membership.start_month, SAInteger)
            + 1,
        ),
        else_=0,
    )
    last = ProspectContact.__table__.alias("last_contact")
    query = (
        select(
            Prospect,
            func.coalesce(contacts.c.attempts, 0),
            func.coalesce(contacts.c.interested, 0),
            func.coalesce(contacts.c.reached, 0),
            last.c.outcome,
            episode.c.membership_id,
            months_paid,
        )
        .outerjoin(contacts, contacts.c.prospect_id == Prospect.id)
        .outerjoin(last, last.c.id == contacts.c.last_id)
        .outerjoin(episode, episode.c.prospect_id == Prospect.id)
        .outerjoin(Membership, Membership.id == episode.c.membership_id)
        .order_by(Prospect.id)
    )
    if campaign_code is not None:
        query = query.where(Prospect.campaign_code == campaign_code)
    if assigned_to is not None:
        query = query.where(Prospect.assigned_to == assigned_to)
    if ids:
        query = query.where(Prospect.id.in_(ids))
    if scope is not None:
        query = query.where(scope)
    if limit is not None:
        query = query.limit(limit)
    views = []
    for p, attempts, interested, reached, last_outcome, membership_id, paid in session.execute(
        query
    ):
        views.append(
            ProspectView(
                id=p.id,
                name=p.name,
                nik=p.nik,
                phone=p.phone,
                district_code=p.district_code,
                campaign_code=p.campaign_code,
                assigned_to=p.assigned_to,
                attempts=int(attempts),
                last_outcome=last_outcome,
                stage=_stage(
                    bool(reached), bool(interested), membership_id is not None, int(paid or 0)
                ),
            )
        )
    return views


def _stage(reached: bool, interested: bool, registered: bool, months_paid: int) -> ProspectStage:
    from cakupan.campaigns.rules import prospect_stage

    outcomes = (["interested"] if interested else []) + (["contacted"] if reached else [])
    return prospect_stage(outcomes, registered=registered, months_paid_in_episode=months_paid)


def stage_counts(views: Sequence[ProspectView]) -> dict[str, int]:
    """How many prospects reached at least each stage (a later stage implies earlier ones)."""
    from cakupan.campaigns.rules import PROSPECT_STAGES

    reached: dict[str, int] = defaultdict(int)
    for view in views:
        for stage in PROSPECT_STAGES[: PROSPECT_STAGES.index(view.stage) + 1]:
            reached[stage.value] += 1
    return {stage.value: reached[stage.value] for stage in PROSPECT_STAGES}


# -- scope -----------------------------------------------------------------------------------------


def prospect_scope(session: Session, actor: Actor) -> ColumnElement[bool]:
    """Which prospects ``actor`` sees, as one SQL condition: national roles all; a regional
    office the districts of its branches' regencies; branch staff the districts of their branch
    and whatever is assigned to them; a partner what is assigned to it or its agents; an agent
    what is assigned to it. Anything else: nothing (fail closed)."""
    from sqlalchemy import false, true

    from cakupan.access import BRANCH_ROLES, NATIONAL_ROLES
    from cakupan.auth import Role
    from cakupan.regions.models import BranchRegency

    regency = func.substr(Prospect.district_code, 1, 5)
    if actor.role in NATIONAL_ROLES:
        return true()
    if actor.role is Role.REGIONAL and actor.region_code:
        from cakupan.regions import branches_of_region

        branches = branches_of_region(session, actor.region_code)
        return regency.in_(
            select(BranchRegency.regency_code).where(BranchRegency.branch_code.in_(branches))
        )
    if actor.role in BRANCH_ROLES and actor.branch_code:
        return or_(
            regency.in_(
                select(BranchRegency.regency_code).where(
                    BranchRegency.branch_code == actor.branch_code
                )
            ),
            Prospect.assigned_to == actor.name,
        )
    if actor.role is Role.PARTNER and actor.partner_code:
        from cakupan.partners import agents_under

        codes = {actor.partner_code, *agents_under(session, actor.partner_code)}
        return and_(Prospect.assigned_kind == "agent", Prospect.assigned_to.in_(sorted(codes)))
    if actor.role is Role.AGENT and actor.agent_code:
        return and_(Prospect.assigned_kind == "agent", Prospect.assigned_to == actor.agent_code)
    return false()
