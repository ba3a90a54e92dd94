"""The contribution policy file format (TOML): reading it, and the copy shipped in the package.

A file holds ``[[policy]]`` tables, one per record (see ``data/policies.toml`` and
``docs/contributions.md``). Reading is pure: bytes in, records out, or one error listing every
problem by record and field.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib.resources import files
from typing import Any

from cakupan.contributions.rules import PolicyBook, PolicyRecord, record_from_mapping
from cakupan.errors import CakupanError, FieldProblem
from cakupan.i18n import t

SHIPPED_FILE_NAME = "policies.toml"


def read_policy_document(data: bytes, *, name: str) -> list[PolicyRecord]:
    """Parse a policy file's bytes into records.

    Raises an invalid-input :class:`CakupanError` naming ``name`` and listing every problem
    (TOML syntax, unknown keys, each record's fields, a code+version given twice).
    """
    title = t(f"Berkas kebijakan {name} tidak valid", f"Policy file {name} is invalid")
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise CakupanError(
            title=title,
            problems=[
                FieldProblem(
                    field="file",
                    message=t("diharapkan teks UTF-8", "expected UTF-8 text"),
                    record=name,
                )
            ],
            code="invalid-policy-file",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise CakupanError(
            title=title,
            problems=[
                FieldProblem(
                    field="file",
                    message=t(f"TOML tidak sah: {exc}", f"not valid TOML: {exc}"),
                    record=name,
                )
            ],
            code="invalid-policy-file",
        ) from None

    problems: list[FieldProblem] = []
    for top_key in document:
        if top_key != "policy":
            problems.append(
                FieldProblem(
                    field=top_key,
                    message=t(
                        "kunci tingkat atas tidak dikenal; yang sah: [[policy]]",
                        "unknown top-level key; expected [[policy]] tables",
                    ),
                    record=name,
                )
            )
    entries: Any = document.get("policy", [])
    if not isinstance(entries, list) or not entries:
        problems.append(
            FieldProblem(
                field="policy",
                message=t(
                    "diharapkan minimal satu tabel [[policy]]",
                    "expected at least one [[policy]] table",
                ),
                record=name,
            )
        )
        entries = []

    records: list[PolicyRecord] = []
    seen: dict[tuple[str, int], int] = {}
    for position, entry in enumerate(entries, start=1):
        code = entry.get("code") if isinstance(entry, dict) else None
        label = f"policy {position}" + (f" ({code})" if isinstance(code, str) else "")
        if not isinstance(entry, dict):
            problems.append(
                FieldProblem(
                    field="policy",
                    message=t("diharapkan tabel [[policy]]", "expected a [[policy]] table"),
                    record=label,
                )
            )
            continue
        try:
            record = record_from_mapping(entry, label=label)
        except CakupanError as error:
            problems.extend(error.problems)
            continue
        identity = (record.code, record.version)
        if identity in seen:
            problems.append(
                FieldProblem(
                    field="version",
                    message=t(
                        f"{record.code} versi {record.version} sudah ada di policy {seen[identity]}",
                        f"{record.code} version {record.version} is already policy {seen[identity]}",
                    ),
                    record=label,
                )
            )
            continue
        seen[identity] = position
        records.append(record)

    if problems:
        raise CakupanError(title=title, problems=problems, code="invalid-policy-file")
    return records


def shipped_policy_bytes() -> bytes:
    """The policy file shipped in the package (``cakupan/contributions/data/policies.toml``)."""
    return (files("cakupan.contributions") / "data" / SHIPPED_FILE_NAME).read_bytes()


@lru_cache(maxsize=1)
def shipped_policies() -> tuple[PolicyRecord, ...]:
    """The shipped records (parsed once per process)."""
    return tuple(read_policy_document(shipped_policy_bytes(), name=SHIPPED_FILE_NAME))


def shipped_policy_book() -> PolicyBook:
    """A book over the shipped records only (no database): tests, tools, a fresh install."""
    return PolicyBook.from_records(shipped_policies())
