"""The retention workbench's writes: recording a contact outcome with its follow-up date (into
the dashboard's contact log, through its action) and assigning owners to worklist rows. Each
validates, writes and audits in the caller's transaction; bad input writes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor, Role
from cakupan.dashboard.accounts import AccountSelection, assign_accounts
from cakupan.dashboard.actions import ContactRecorded, record_contact
from cakupan.dates import Clock, SystemClock, parse_date, today
from cakupan.errors import CakupanError, FieldProblem, forbidden, invalid, not_found
from cakupan.i18n import t
from cakupan.partners import agents_under
from cakupan.registry.models import Membership, Participant
from cakupan.retention.models import RetentionOwner
from cakupan.retention.queries import participant_in_scope
from cakupan.retention.rules import OUTCOMES, REFUSAL_REASONS, follow_up_default
from cakupan.users.models import User

__all__ = ["assign_owner", "record_outcome"]

#: Who assigns owners: the operator, admins, the head of membership (their branch), and a
#: partner (to itself or its own agents).
ASSIGNING_ROLES = frozenset({Role.SYSTEM, Role.ADMIN, Role.KABID, Role.PARTNER})
#: Who may own rows.
OWNER_ROLES = frozenset({Role.ARK, Role.AR, Role.AGENT, Role.PARTNER, Role.KABID})


def _date(value: str | date | None, name: str, problems: list[FieldProblem]) -> date | None:
    if value is None or isinstance(value, date):
        return value
    if not value.strip():
        return None
    try:
        return parse_date(value.strip())
    except ValueError:
        problems.append(
            FieldProblem(
                field=name,
                message=t(
                    f"tanggal YYYY-MM-DD, bukan {value!r}", f"a date YYYY-MM-DD, got {value!r}"
                ),
            )
        )
        return None


def record_outcome(
    session: Session,
    actor: Actor,
    nik: str,
    *,
    outcome: str,
    promised_on: str | date | None = None,
    reason: str | None = None,
    note: str | None = None,
    follow_up: str | date | None = None,
    clock: Clock | None = None,
) -> ContactRecorded:
    """Record the outcome of a contact with the participant ``nik`` (in the actor's scope): one
    of :data:`cakupan.retention.rules.OUTCOMES`; a promise to pay needs its date, a refusal its
    reason (a code of ``REFUSAL_REASONS`` or a text). ``follow_up`` (default: the promised day,
    or three days later for no answer / call back) puts the row back at the top of its list on
    that day. NOT_FOUND outside the scope, INVALID naming each bad field."""
    clock = clock or SystemClock()
    participant_id = participant_in_scope(session, actor, nik)
    if participant_id is None:
        raise not_found(
            t(f"Peserta dengan NIK {nik} tidak ditemukan", f"No participant with NIK {nik}"),
            code="retention.participant_not_found",
        )
    problems: list[FieldProblem] = []
    outcome = (outcome or "").strip()
    spec = OUTCOMES.get(outcome)
    if spec is None:
        problems.append(
            FieldProblem(
                field="outcome",
                message=t(
                    f"salah satu dari {', '.join(OUTCOMES)}, bukan {outcome!r}",
                    f"one of {', '.join(OUTCOMES)}, got {outcome!r}",
                ),
            )
        )
    promised = _date(promised_on, "promised_on", problems)
    follow = _date(follow_up, "follow_up", problems)
    day = today(clock)
    if spec is not None and spec.needs_date and promised is None and not problems:
        problems.append(
            FieldProblem(
                field="promised_on",
                message=t("tanggal janji bayar wajib diisi", "the promised date is required"),
            )
        )
    if promised is not None and promised < day:
        problems.append(
            FieldProblem(
                field="promised_on",
                message=t(
                    f"tanggal janji bayar paling awal {day}, bukan {promised}",
                    f"the promised date must be {day} or later, got {promised}",
                ),
            )
        )
    if follow is not None and follow < day:
        problems.append(
            FieldProblem(
                field="follow_up",
                message=t(
                    f"tanggal tindak lanjut paling awal {day}, bukan {follow}",
                    f"the follow-up date must be {day} or later, got {follow}",
                ),
            )
        )
    reason = (reason or "").strip() or None
    if spec is not None and spec.needs_reason and reason is None:
        problems.append(
            FieldProblem(
                field="reason",
                message=t(
                    f"alasan penolakan wajib diisi (mis. {', '.join(REFUSAL_REASONS)})",
                    f"a reason is required (e.g. {', '.join(REFUSAL_REASONS)})",
                ),
            )
        )
    if problems:
        raise CakupanError(
            title=t("Hasil kontak tidak valid", "Invalid contact outcome"),
            problems=problems,
            code="retention.invalid_outcome",
        )
    if follow is None:
        follow = follow_up_default(outcome, day, promised)
    return record_contact(
        session,
        actor,
        participant_id,
        outcome=outcome,
        reason=reason,
        promised_on=promised,
        note=note,
        clock=clock,
        follow_up_on=follow,
        outcomes=tuple(OUTCOMES),
    )


def _owner_user(session: Session, actor: Actor, username: str) -> User:
    if actor.role not in ASSIGNING_ROLES:
        raise forbidden()
    user = session.scalar(select(User).where(User.username == username, User.active))
    if user is None:
        raise not_found(
            t(f"Pengguna {username!r} tidak ditemukan", f"User {username!r} not found"),
            code="retention.user_not_found",
        )
    role = Role(user.role)
    if role not in OWNER_ROLES:
        raise invalid(
            "owner",
            t(
                f"pengguna ark, ar, kabid, agent atau partner, bukan {user.role!r}",
                f"an ark, ar, kabid, agent or partner user, got {user.role!r}",
            ),
        )
    if (
        actor.role is Role.KABID
        and role in (Role.ARK, Role.AR, Role.KABID)
        and user.branch_code != actor.branch_code
    ):
        raise forbidden()
    if actor.role is Role.PARTNER:
        own = role is Role.PARTNER and user.partner_code == actor.partner_code
        agent = (
            role is Role.AGENT
            and actor.partner_code is not None
            and user.agent_code in agents_under(session, actor.partner_code)
        )
        if not (own or agent):
            raise forbidden()
    return user


def _fits_owner(
    user: User, branch: str | None, partner: str | None, agent: str | None, session: Session
) -> bool:
    role = Role(user.role)
    if role in (Role.ARK, Role.AR, Role.KABID):
        return branch is not None and branch == user.branch_code
    if role is Role.AGENT:
        return agent is not None and agent == user.agent_code
    if user.partner_code is None:
        return False
    return partner == user.partner_code or (
        agent is not None and agent in agents_under(session, user.partner_code)
    )


def assign_owner(
    session: Session,
    actor: Actor,
    owner: str | None,
    niks: Sequence[str],
    *,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Make ``owner`` (a username) the owner of the participants ``niks``, or remove their owner
    when ``owner`` is None. Every NIK must be in the actor's scope and fit the owner (an ark/ar
    or kabid of the participant's branch, the participant's agent, or its partner); an ark/ar
    owner is also given the participants as assigned accounts so that they can read them. All or
    nothing: any bad NIK is named and nothing is written. Audited as one row."""
    clock = clock or SystemClock()
    if actor.role not in ASSIGNING_ROLES:
        raise forbidden()
    unique = list(dict.fromkeys(n.strip() for n in niks if n.strip()))
    if not unique:
        raise invalid("nik", t("sebutkan paling sedikit satu NIK", "give at least one NIK"))
    user = None if owner is None else _owner_user(session, actor, owner)
    problems: list[FieldProblem] = []
    ids: dict[str, int] = {}
    for nik in unique:
        pid = participant_in_scope(session, actor, nik)
        if pid is None:
            problems.append(
                FieldProblem(
                    field="nik",
                    record=nik,
                    code="not-found",
                    message=t("tidak ditemukan dalam cakupan Anda", "not found in your scope"),
                )
            )
            continue
        ids[nik] = pid
        if user is not None:
            branch = session.scalar(select(Participant.branch_code).where(Participant.id == pid))
            latest = session.execute(
                select(Membership.partner_code, Membership.agent_code)
                .where(Membership.participant_id == pid)
                .order_by(Membership.episode_no.desc())
                .limit(1)
            ).first()
            partner, agent = (None, None) if latest is None else (latest[0], latest[1])
            if not _fits_owner(user, branch, partner, agent, session):
                problems.append(
                    FieldProblem(
                        field="owner",
                        record=nik,
                        message=t(
                            f"{user.username} tidak menangani peserta ini (cabang {branch},"
                            f" mitra {partner}, agen {agent})",
                            f"{user.username} does not serve this participant (branch {branch},"
                            f" partner {partner}, agent {agent})",
                        ),
                    )
                )
    if problems:
        raise CakupanError(
            title=t("Penugasan tidak valid", "Invalid assignment"),
            problems=problems,
            code="retention.invalid_assignment",
        )
    now = clock.now()
    pids = sorted(ids.values())
    session.execute(delete(RetentionOwner).where(RetentionOwner.participant_id.in_(pids)))
    if user is not None:
        session.add_all(
            RetentionOwner(
                participant_id=p, owner=user.username, assigned_at=now, assigned_by=actor.name
            )
            for p in pids
        )
        if Role(user.role) in (Role.ARK, Role.AR):
            assign_accounts(
                session,
                actor,
                user.username,
                AccountSelection(niks=tuple(ids)),
                clock=clock,
            )
    session.flush()
    result = {"owner": owner, "assigned": len(pids)}
    record_audit(
        session,
        actor,
        "retention.assign",
        "participant",
        pids[0] if len(pids) == 1 else None,
        after={**result, "participants": pids},
        at=now,
    )
    return result
