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

    @property
    def sees_everything(self) -> bool:
        """National scope (no branch, region or partner restriction)."""
        return self.role in {Role.ADMIN, Role.HEAD_OFFICE, Role.AUDITOR, Role.SYSTEM}
