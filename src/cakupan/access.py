"""Scoping reads to what an actor may see, and masking personal numbers.

Every page and API that lists participant-like rows (participants, memberships, payments,
statements) passes its own columns here and adds the returned condition to its query: the filter
is one SQL expression, so scoping stays set-based at any scale.

Scopes (issue 7):

- ``admin``, ``head_office``, ``auditor`` and ``system``: everything.
- ``regional``: rows whose branch belongs to the actor's region.
- ``kabid``, ``pap``: rows of the actor's branch.
- ``ark``, ``ar`` (account representatives): rows of the actor's branch whose participant is
  assigned to them (``account_assignment``, ``cakupan accounts assign``). Aggregate figures that
  carry no participant (the dashboard's pre-aggregated KPIs) are those of their branch: callers
  pass ``participant_id`` for every participant-like row and leave it out only for aggregates.
- ``partner``: rows registered by the partner or by one of the agents under it.
- ``agent``: rows registered by the agent.
- Anything else, or a role without its scope code: nothing (fail closed).

Unmasked NIKs and phone numbers (decision for issue 7): ``auditor`` and ``admin`` everywhere, and
``pap`` (the data officer who verifies records) for rows of its own branch. Everyone else sees
``3577********0001``. Every unmasking is written to the audit log (:func:`reveal`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, true
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor, Role

#: Codes given as a list/set or as a one-column SELECT (kept in SQL, e.g. a subquery on offices).
CodeSource = Collection[str] | Select[tuple[str]]
#: Branch codes of a region code (supplied by the offices reference data).
BranchesOfRegion = Callable[[str], CodeSource]
#: Agent codes under a partner code (supplied by the partners area's hierarchy).
AgentsOfPartner = Callable[[str], CodeSource]

NATIONAL_ROLES = frozenset({Role.ADMIN, Role.HEAD_OFFICE, Role.AUDITOR, Role.SYSTEM})
BRANCH_ROLES = frozenset({Role.KABID, Role.ARK, Role.AR, Role.PAP})
#: Branch roles that read the records of their assigned accounts only.
ACCOUNT_ROLES = frozenset({Role.ARK, Role.AR})
#: Participant ids assigned to a user id (supplied by the dashboard's account assignments).
AccountsOfUser = Callable[[int], Collection[int] | Select[Any]]
#: Roles that see NIKs and phone numbers unmasked on every row.
UNMASKED_EVERYWHERE = frozenset({Role.ADMIN, Role.AUDITOR})
#: Roles that see them unmasked on rows of their own branch.
UNMASKED_IN_BRANCH = frozenset({Role.PAP})


def _no_agents(_partner_code: str) -> CodeSource:
    return ()


def assigned_accounts(user_id: int) -> Select[Any]:
    """The participant ids assigned to ``user_id`` as a one-column SELECT (served by the
    assignment table's primary key ``(user_id, participant_id)``)."""
    from sqlalchemy import select

    from cakupan.dashboard.models import AccountAssignment

    return select(AccountAssignment.participant_id).where(AccountAssignment.user_id == user_id)


def participant_scope(
    actor: Actor,
    *,
    branch_code: ColumnElement[Any],
    partner_code: ColumnElement[Any],
    agent_code: ColumnElement[Any],
    branches_of_region: BranchesOfRegion,
    agents_of_partner: AgentsOfPartner = _no_agents,
    participant_id: ColumnElement[Any] | None = None,
    accounts_of_user: AccountsOfUser = assigned_accounts,
) -> ColumnElement[bool]:
    """The SQL condition restricting participant-like rows to ``actor``'s scope.

    ``branch_code``, ``partner_code`` and ``agent_code`` are the row's columns (e.g.
    ``Participant.branch_code``); ``branches_of_region`` gives the branches of a region and
    ``agents_of_partner`` the agents under a partner, each as codes or a one-column SELECT.
    ``participant_id`` is the row's participant (required for ``ar``/``ark`` to see rows: only
    aggregates without a participant leave it out); ``accounts_of_user`` gives the participant
    ids assigned to a user. A role whose scope code is missing sees nothing.
    """
    role = actor.role
    if role in NATIONAL_ROLES:
        return true()
    if role is Role.REGIONAL and actor.region_code:
        return branch_code.in_(branches_of_region(actor.region_code))
    if role in ACCOUNT_ROLES and actor.branch_code and participant_id is not None:
        if actor.user_id is None:
            return false()
        return and_(
            branch_code == actor.branch_code,
            participant_id.in_(accounts_of_user(actor.user_id)),
        )
    if role in BRANCH_ROLES and actor.branch_code:
        return branch_code == actor.branch_code
    if role is Role.PARTNER and actor.partner_code:
        agents = agents_of_partner(actor.partner_code)
        own = partner_code == actor.partner_code
        if isinstance(agents, Select) or agents:
            return or_(own, agent_code.in_(agents))
        return own
    if role is Role.AGENT and actor.agent_code:
        return agent_code == actor.agent_code
    return false()


def participant_scope_for(
    session: Session,
    actor: Actor,
    *,
    branch_code: ColumnElement[Any],
    partner_code: ColumnElement[Any],
    agent_code: ColumnElement[Any],
    participant_id: ColumnElement[Any] | None = None,
) -> ColumnElement[bool]:
    """:func:`participant_scope` wired to the offices reference data (branches of a region, from
    :mod:`cakupan.regions`) and the partner hierarchy (agents under a partner, transitively, from
    :mod:`cakupan.partners`): what pages and APIs call. E.g.
    ``select(Participant).where(participant_scope_for(session, actor,
    branch_code=Participant.branch_code, partner_code=Participant.partner_code,
    agent_code=Participant.agent_code, participant_id=Participant.id))``."""
    from cakupan.partners import agents_under
    from cakupan.regions import branches_of_region

    return participant_scope(
        actor,
        branch_code=branch_code,
        partner_code=partner_code,
        agent_code=agent_code,
        branches_of_region=lambda region: branches_of_region(session, region),
        agents_of_partner=lambda partner: sorted(agents_under(session, partner)),
        participant_id=participant_id,
    )


def sees_unmasked(actor: Actor, row_branch_code: str | None = None) -> bool:
    """Whether ``actor`` sees NIKs and phone numbers in clear on a row of ``row_branch_code``."""
    if actor.role in UNMASKED_EVERYWHERE:
        return True
    return (
        actor.role in UNMASKED_IN_BRANCH
        and actor.branch_code is not None
        and row_branch_code == actor.branch_code
    )


def mask_nik(nik: str) -> str:
    """``3577123456780001`` -> ``3577********0001``: the first 4 and last 4 digits stay."""
    if len(nik) <= 8:
        return "*" * len(nik)
    return nik[:4] + "*" * (len(nik) - 8) + nik[-4:]


def mask_phone(phone: str) -> str:
    """``081234567890`` -> ``0812*****890``: the first 4 and last 3 characters stay."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:4] + "*" * (len(phone) - 7) + phone[-3:]


@dataclass(frozen=True)
class SensitiveValue:
    """A NIK or phone number of one record, with the branch that record belongs to."""

    entity_type: str
    entity_id: object
    field: str  # "nik" or "phone"
    value: str
    branch_code: str | None = None


def reveal(session: Session, actor: Actor, values: Sequence[SensitiveValue]) -> list[str]:
    """``values`` as ``actor`` may see them (same order): in clear where the role allows, masked
    otherwise. The unmasked ones are audited in one ``personal_data.unmask`` row per call (a page
    of results is one row), naming the records and fields, not the values."""
    shown: list[str] = []
    revealed: list[str] = []
    for item in values:
        if sees_unmasked(actor, item.branch_code):
            shown.append(item.value)
            revealed.append(f"{item.entity_type}:{item.entity_id}:{item.field}")
        else:
            shown.append(mask_nik(item.value) if item.field == "nik" else mask_phone(item.value))
    if revealed:
        entity_types = sorted({item.entity_type for item in values})
        record_audit(
            session,
            actor,
            "personal_data.unmask",
            ",".join(entity_types),
            revealed[0].split(":")[1] if len(revealed) == 1 else None,
            after={"count": len(revealed), "fields": revealed},
        )
    return shown
