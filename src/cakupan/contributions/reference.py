"""The shipped contribution policies as reference data (loaded by ``cakupan db upgrade``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.contributions.actions import import_policies
from cakupan.contributions.models import ContributionPolicy
from cakupan.contributions.policy_file import (
    SHIPPED_FILE_NAME,
    shipped_policies,
    shipped_policy_bytes,
)


def policies_loaded(session: Session) -> bool:
    keys = {(record.code, record.version) for record in shipped_policies()}
    found = session.execute(
        select(ContributionPolicy.code, ContributionPolicy.version).where(
            ContributionPolicy.code.in_({code for code, _ in keys})
        )
    ).all()
    return keys <= {(code, version) for code, version in found}


def load_policies(session: Session) -> int:
    result = import_policies(
        session,
        Actor.system("reference-data"),
        shipped_policy_bytes(),
        file_name=f"cakupan/contributions/data/{SHIPPED_FILE_NAME}",
    )
    return len(result.added)
