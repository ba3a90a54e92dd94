"""Writes to the contribution policy registry: importing a policy file (validate -> write ->
audit, in the caller's transaction)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.contributions.models import ContributionBand, ContributionPolicy
from cakupan.contributions.policy_file import read_policy_document
from cakupan.contributions.queries import policy_records
from cakupan.contributions.rules import PolicyRecord, find_ambiguities
from cakupan.errors import FieldProblem, conflict
from cakupan.i18n import t


@dataclass(frozen=True)
class PolicyImport:
    """What an import did: records added, records already present unchanged."""

    file_name: str
    sha256: str
    added: tuple[str, ...]
    unchanged: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file_name,
            "sha256": self.sha256,
            "added": len(self.added),
            "unchanged": len(self.unchanged),
            "added_policies": list(self.added),
        }


def import_policies(session: Session, actor: Actor, data: bytes, *, file_name: str) -> PolicyImport:
    """Add the records of a policy file (all or nothing) and audit the import once.

    A record whose code and version are already stored with the same content is left as it is
    (re-importing a file changes nothing); with different content the whole import is refused
    (publish a new version instead). Records that would compete with each other or with stored
    ones for the same months are refused too.
    """
    records = read_policy_document(data, name=file_name)
    existing = {(r.code, r.version): r for r in policy_records(session)}

    problems: list[FieldProblem] = []
    new: list[PolicyRecord] = []
    unchanged: list[PolicyRecord] = []
    for record in records:
        stored = existing.get((record.code, record.version))
        if stored is None:
            new.append(record)
        elif stored == record:
            unchanged.append(record)
        else:
            problems.append(
                FieldProblem(
                    field="version",
                    record=record.code,
                    code="policy-version-exists",
                    message=t(
                        f"{record.code} versi {record.version} sudah tersimpan dengan isi lain; "
                        f"kebijakan tidak diubah di tempat: impor sebagai versi "
                        f"{_next_version(existing, record.code)}",
                        f"{record.code} version {record.version} is already stored with other "
                        f"content; policies are never changed in place: import it as version "
                        f"{_next_version(existing, record.code)}",
                    ),
                )
            )
    if not problems:
        problems = find_ambiguities([*existing.values(), *new])
    if problems:
        raise conflict(
            t(
                f"Berkas kebijakan {file_name} ditolak; tidak ada yang disimpan",
                f"Policy file {file_name} refused; nothing was stored",
            ),
            code="policy-conflict",
            problems=problems,
        )

    for record in new:
        row = ContributionPolicy(
            code=record.code,
            version=record.version,
            kind=record.kind.value,
            program=None if record.program is None else record.program.value,
            sector=None if record.sector is None else record.sector.value,
            funding=None if record.funding is None else record.funding.value,
            valid_from=record.valid_from,
            valid_to=record.valid_to,
            percent=None if record.percent is None else format(record.percent, "f"),
            amount=record.amount,
            source=record.source,
            title=record.title,
        )
        session.add(row)
        session.flush()
        if record.bands:
            session.execute(
                insert(ContributionBand),
                [
                    {"policy_id": row.id, "lower_income": b.lower, "base_income": b.base_income}
                    for b in record.bands
                ],
            )

    digest = hashlib.sha256(data).hexdigest()
    result = PolicyImport(
        file_name=file_name,
        sha256=digest,
        added=tuple(f"{r.code}@{r.version}" for r in new),
        unchanged=tuple(f"{r.code}@{r.version}" for r in unchanged),
    )
    record_audit(
        session,
        actor,
        "contribution.policies.import",
        "contribution_policy_file",
        digest[:16],
        after=result.as_dict(),
    )
    return result


def _next_version(existing: dict[tuple[str, int], PolicyRecord], code: str) -> int:
    return max((version for c, version in existing if c == code), default=0) + 1
