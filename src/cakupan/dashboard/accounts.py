"""Accounts of account representatives: participants assigned to an ``ar`` / ``ark`` user of
their branch. Those roles read the records (drill-downs, worklist, participant search and
detail, contact log) of their assigned accounts only; the pre-aggregated KPIs they see are
their branch's (aggregates carry no participant; see docs/dashboard.md).

Assignment is by area (every participant of the user's branch living in the given villages or
districts, as of the assignment: later registrations are not added by themselves) or by an
explicit list of NIKs; set-based (one INSERT ... SELECT) and audited. Assigning again changes
nothing; ``unassign`` removes the same selections.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from cakupan.access import ACCOUNT_ROLES
from cakupan.audit import record_audit
from cakupan.auth import Actor, Role
from cakupan.dashboard.models import AccountAssignment
from cakupan.dates import Clock, SystemClock
from cakupan.errors import CakupanError, FieldProblem, forbidden, invalid, not_found
from cakupan.i18n import t
from cakupan.registry.models import Participant
from cakupan.users.models import User

__all__ = ["AccountSelection", "assign_accounts", "assigned_summary", "unassign_accounts"]

#: Who may assign accounts: the operator, admins, and the head of membership of the branch.
ASSIGNING_ROLES = frozenset({Role.SYSTEM, Role.ADMIN, Role.KABID})


@dataclass(frozen=True)
class AccountSelection:
    """Which participants: of these villages, of these districts, or these NIKs (any mix)."""

    villages: Sequence[str] = ()
    districts: Sequence[str] = ()
    niks: Sequence[str] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "villages": sorted(self.villages),
            "districts": sorted(self.districts),
            "niks": len(self.niks),
        }


def _officer(session: Session, actor: Actor, username: str) -> User:
    if actor.role not in ASSIGNING_ROLES:
        raise forbidden()
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise not_found(
            t(f"Pengguna {username!r} tidak ditemukan", f"User {username!r} not found"),
            code="dashboard.user_not_found",
        )
    if Role(user.role) not in ACCOUNT_ROLES or not user.branch_code:
        raise invalid(
            "username",
            t(
                f"harus pengguna ar atau ark dengan cabang, bukan {user.role!r}",
                f"must be an ar or ark user with a branch, got {user.role!r}",
            ),
        )
    if actor.role is Role.KABID and actor.branch_code != user.branch_code:
        raise forbidden()
    return user


def _condition(session: Session, user: User, selection: AccountSelection) -> Any:
    """The participants of the selection within the user's branch; unknown NIKs and NIKs of
    another branch are refused, each named."""
    if not (selection.villages or selection.districts or selection.niks):
        raise invalid(
            "selection",
            t(
                "sebutkan --village, --district atau --nik",
                "give --village, --district or --nik",
            ),
        )
    problems: list[FieldProblem] = []
    if selection.niks:
        found = dict(
            session.execute(
                select(Participant.nik, Participant.branch_code).where(
                    Participant.nik.in_(set(selection.niks))
                )
            ).all()
        )
        for nik in selection.niks:
            if nik not in found:
                problems.append(
                    FieldProblem(
                        field="nik",
                        record=nik,
                        message=t("NIK tidak terdaftar", "NIK not registered"),
                        code="not-found",
                    )
                )
            elif found[nik] != user.branch_code:
                problems.append(
                    FieldProblem(
                        field="branch_code",
                        record=nik,
                        message=t(
                            f"diharapkan cabang {user.branch_code}, peserta di cabang {found[nik]}",
                            f"expected branch {user.branch_code}, the participant is in"
                            f" {found[nik]}",
                        ),
                    )
                )
    if problems:
        raise CakupanError(
            title=t("Penugasan akun tidak valid", "Invalid account assignment"),
            problems=problems,
            code="dashboard.invalid_assignment",
        )
    parts = []
    if selection.villages:
        parts.append(Participant.village_code.in_(sorted(set(selection.villages))))
    if selection.districts:
        parts.append(Participant.district_code.in_(sorted(set(selection.districts))))
    if selection.niks:
        parts.append(Participant.nik.in_(sorted(set(selection.niks))))
    return and_(Participant.branch_code == user.branch_code, or_(*parts))


def assign_accounts(
    session: Session,
    actor: Actor,
    username: str,
    selection: AccountSelection,
    *,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Assign the selected participants of the user's branch to the ``ar``/``ark`` user
    ``username`` (set-based; already assigned ones are left as they are); audited as
    ``dashboard.account_assign``. Returns the counts."""
    user = _officer(session, actor, username)
    condition = _condition(session, user, selection)
    now = (clock or SystemClock()).now()
    already = select(AccountAssignment.participant_id).where(AccountAssignment.user_id == user.id)
    chosen = select(
        literal(user.id),
        Participant.id,
        literal(now, AccountAssignment.assigned_at.type),
        literal(actor.name),
    ).where(condition, Participant.id.not_in(already))
    before = _total(session, user.id)
    session.execute(
        insert(AccountAssignment).from_select(
            ["user_id", "participant_id", "assigned_at", "assigned_by"], chosen
        )
    )
    total = _total(session, user.id)
    counts = {"username": username, "assigned": total - before, "total": total}
    record_audit(
        session,
        actor,
        "dashboard.account_assign",
        "user",
        user.id,
        after={**counts, "selection": selection.as_json()},
        at=now,
    )
    return counts


def unassign_accounts(
    session: Session,
    actor: Actor,
    username: str,
    selection: AccountSelection,
    *,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Remove the selected participants from the accounts of ``username``; audited as
    ``dashboard.account_unassign``."""
    user = _officer(session, actor, username)
    condition = _condition(session, user, selection)
    before = _total(session, user.id)
    session.execute(
        delete(AccountAssignment).where(
            AccountAssignment.user_id == user.id,
            AccountAssignment.participant_id.in_(select(Participant.id).where(condition)),
        )
    )
    total = _total(session, user.id)
    counts = {"username": username, "unassigned": before - total, "total": total}
    record_audit(
        session,
        actor,
        "dashboard.account_unassign",
        "user",
        user.id,
        after={**counts, "selection": selection.as_json()},
        at=(clock or SystemClock()).now(),
    )
    return counts


def _total(session: Session, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(AccountAssignment)
            .where(AccountAssignment.user_id == user_id)
        )
        or 0
    )


def assigned_summary(session: Session, actor: Actor, username: str) -> dict[str, Any]:
    """How many accounts ``username`` holds, per district and village (for ``accounts list``)."""
    user = _officer(session, actor, username)
    rows = session.execute(
        select(Participant.district_code, Participant.village_code, func.count())
        .select_from(AccountAssignment)
        .join(Participant, Participant.id == AccountAssignment.participant_id)
        .where(AccountAssignment.user_id == user.id)
        .group_by(Participant.district_code, Participant.village_code)
        .order_by(Participant.district_code, Participant.village_code)
    ).all()
    return {
        "username": username,
        "role": user.role,
        "branch_code": user.branch_code,
        "total": sum(int(n) for _, _, n in rows),
        "areas": [{"district_code": d, "village_code": v, "accounts": int(n)} for d, v, n in rows],
    }
