"""Who is acting: the :class:`Actor` every action and scoped query receives.

Roles (issue 7): ``admin``, ``head_office``, ``regional`` (one region), ``kabid`` (head of
membership of one branch), ``ark``/``ar`` (account representatives of one branch), ``pap`` (data
officer), ``partner`` (one partner and the agents under it), ``agent`` (self only), ``auditor``
(read-only, everything, NIK unmasked), and ``system`` for commands and scheduled jobs.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Role(StrEnum):
    ADMIN = "admin"
    HEAD_OFFICE = "head_office"
    REGIONAL = "regional"
    KABID = "kabid"
    ARK = "ark"
    AR = "ar"
    PAP = "pap"
    PARTNER = "partner"
    AGENT = "agent"
    AUDITOR = "auditor"
    SYSTEM = "system"


class SignedInUser(Protocol):
    """What :meth:`Actor.for_user` reads from a user record (``cakupan.users.User``)."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def region_code(self) -> str | None: ...
    @property
    def branch_code(self) -> str | None: ...
    @property
    def partner_code(self) -> str | None: ...
    @property
    def agent_code(self) -> str | None: ...


@dataclass(frozen=True)
class Actor:
    """The person or process behind a call, with the scope their role gives them."""

    name: str
    role: Role
    user_id: int | None = None
    region_code: str | None = None
    branch_code: str | None = None
    partner_code: str | None = None
    agent_code: str | None = None

    @classmethod
    def system(cls, name: str | None = None) -> Actor:
        """The operator running a command on this machine (audited by OS user name)."""
        if name is None:
            try:
                name = getpass.getuser()
            except Exception:  # pragma: no cover - no user database in some containers
                name = "unknown"
        return cls(name=f"cli:{name}", role=Role.SYSTEM)

    @classmethod
    def for_user(cls, user: SignedInUser) -> Actor:
        """The actor of a signed-in user (web session or API token), with the user's scope."""
        return cls(
            name=user.username,
            role=Role(user.role),
            user_id=user.id,
            region_code=user.region_code,
            branch_code=user.branch_code,
            partner_code=user.partner_code,
            agent_code=user.agent_code,
        )

    @property
    def sees_everything(self) -> bool:
        """National scope (no branch, region or partner restriction)."""
        return self.role in {Role.ADMIN, Role.HEAD_OFFICE, Role.AUDITOR, Role.SYSTEM}
