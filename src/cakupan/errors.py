"""The one error vocabulary, shared by the CLI (exit code + stderr), the API (RFC 9457 problem
details) and the pages: which record, which field, what was expected, what was found."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from cakupan.i18n import Lang, Text, current_lang, t


class ErrorKind(Enum):
    """What went wrong, which fixes the HTTP status and the CLI exit code."""

    INVALID = ("invalid", 422, 2)
    NOT_FOUND = ("not-found", 404, 1)
    CONFLICT = ("conflict", 409, 1)
    FORBIDDEN = ("forbidden", 403, 1)
    UNAUTHENTICATED = ("unauthenticated", 401, 1)
    RATE_LIMITED = ("rate-limited", 429, 1)

    def __init__(self, slug: str, http_status: int, exit_code: int) -> None:
        self.slug = slug
        self.http_status = http_status
        self.exit_code = exit_code


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field of one record (a row of a file, a form, a request)."""

    field: str
    message: Text
    code: str = "invalid"
    row: int | None = None
    record: str | None = None

    def render(self, lang: Lang | None = None) -> str:
        where = []
        if self.row is not None:
            where.append(
                f"row {self.row}" if (lang or current_lang()) == "en" else f"baris {self.row}"
            )
        if self.record:
            where.append(self.record)
        where.append(self.field)
        return f"{', '.join(where)}: {self.message.render(lang)}"

    def as_dict(self, lang: Lang | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "code": self.code}
        if self.row is not None:
            out["row"] = self.row
        if self.record is not None:
            out["record"] = self.record
        out["message"] = self.message.render(lang)
        return out


@dataclass
class CakupanError(Exception):
    """An error a user can act on. Raising it inside an action rolls the transaction back."""

    title: Text
    problems: list[FieldProblem] = field(default_factory=list)
    kind: ErrorKind = ErrorKind.INVALID
    code: str = "invalid"
    #: Extra HTTP response headers (e.g. ``Retry-After`` of a 429).
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.render("en"))

    def render(self, lang: Lang | None = None) -> str:
        lines = [self.title.render(lang)]
        lines += [f"  - {p.render(lang)}" for p in self.problems]
        return "\n".join(lines)

    def as_problem(self, lang: Lang | None = None, instance: str | None = None) -> dict[str, Any]:
        """RFC 9457 problem details."""
        body: dict[str, Any] = {
            "type": f"https://cakupan.bpjsketenagakerjaan.go.id/problems/{self.code}",
            "title": self.title.render(lang),
            "status": self.kind.http_status,
            "code": self.code,
        }
        if self.problems:
            body["errors"] = [p.as_dict(lang) for p in self.problems]
        if instance:
            body["instance"] = instance
        return body


def invalid(
    field_name: str, message: Text, *, code: str = "invalid", record: str | None = None
) -> CakupanError:
    """A one-field invalid-input error."""
    return CakupanError(
        title=t("Masukan tidak valid", "Invalid input"),
        problems=[FieldProblem(field=field_name, message=message, code=code, record=record)],
        code=code,
    )


def not_found(what: Text, code: str = "not-found") -> CakupanError:
    return CakupanError(title=what, kind=ErrorKind.NOT_FOUND, code=code)


def conflict(
    what: Text, code: str = "conflict", problems: list[FieldProblem] | None = None
) -> CakupanError:
    return CakupanError(title=what, problems=problems or [], kind=ErrorKind.CONFLICT, code=code)


def forbidden(what: Text | None = None) -> CakupanError:
    return CakupanError(
        title=what or t("Anda tidak berhak melakukan ini", "You are not allowed to do this"),
        kind=ErrorKind.FORBIDDEN,
        code="forbidden",
    )
