"""Pure rules of the users area: which scope each role needs, what a valid username and password
are, and how API tokens look. No database, no clock, no I/O."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cakupan.auth import Role
from cakupan.errors import FieldProblem
from cakupan.i18n import Text, t

#: Roles a person can hold (``system`` is for commands and jobs, never for a user).
USER_ROLES: tuple[Role, ...] = tuple(role for role in Role if role is not Role.SYSTEM)

#: Scope fields each role needs; every other scope field must be empty.
REQUIRED_SCOPE: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: (),
    Role.HEAD_OFFICE: (),
    Role.AUDITOR: (),
    Role.REGIONAL: ("region_code",),
    Role.KABID: ("branch_code",),
    Role.ARK: ("branch_code",),
    Role.AR: ("branch_code",),
    Role.PAP: ("branch_code",),
    Role.PARTNER: ("partner_code",),
    Role.AGENT: ("partner_code", "agent_code"),
}
SCOPE_FIELDS: tuple[str, ...] = ("region_code", "branch_code", "partner_code", "agent_code")

ROLE_LABELS: dict[Role, Text] = {
    Role.ADMIN: t("Administrator", "Administrator"),
    Role.HEAD_OFFICE: t("Kantor Pusat", "Head office"),
    Role.REGIONAL: t("Kantor Wilayah", "Regional office"),
    Role.KABID: t("Kepala Bidang Kepesertaan", "Head of membership"),
    Role.ARK: t("Account Representative Khusus", "Special account representative"),
    Role.AR: t("Account Representative", "Account representative"),
    Role.PAP: t("Petugas Administrasi Peserta", "Participant data officer"),
    Role.PARTNER: t("Mitra", "Partner"),
    Role.AGENT: t("Agen (Perisai)", "Agent (Perisai)"),
    Role.AUDITOR: t("Auditor", "Auditor"),
    Role.SYSTEM: t("Sistem", "System"),
}
SCOPE_LABELS: dict[str, Text] = {
    "region_code": t("Kode wilayah", "Region code"),
    "branch_code": t("Kode kantor cabang", "Branch code"),
    "partner_code": t("Kode mitra", "Partner code"),
    "agent_code": t("Kode agen", "Agent code"),
}

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,59}$")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")

#: Password policy (NIST SP 800-63B style: length over composition, no known-bad passwords).
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
_COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "1234567890",
        "12345678910",
        "qwertyuiop",
        "bpjamsostek",
        "bpjsketenagakerjaan",
        "bpjstk12345",
        "rahasia123",
        "indonesia1",
        "indonesia123",
    }
)
PASSWORD_RULES = t(
    f"Kata sandi minimal {PASSWORD_MIN_LENGTH} karakter (maksimal {PASSWORD_MAX_LENGTH}), "
    "tidak memuat nama pengguna, tidak terdiri dari satu karakter berulang, "
    "dan bukan kata sandi yang umum.",
    f"A password has at least {PASSWORD_MIN_LENGTH} characters (at most {PASSWORD_MAX_LENGTH}), "
    "does not contain the username, is not one repeated character, and is not a common password.",
)

#: API tokens look like ``ckp_<8 hex>_<43 url-safe characters>``; the first 12 are the prefix.
TOKEN_PREFIX = "ckp_"
TOKEN_RE = re.compile(r"^ckp_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$")
TOKEN_DISPLAY_LENGTH = 12


@dataclass(frozen=True)
class UserScope:
    """A role with its scope codes, as given (not yet validated)."""

    role: str
    region_code: str | None = None
    branch_code: str | None = None
    partner_code: str | None = None
    agent_code: str | None = None


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive: stored lower case, without surrounding blanks."""
    return username.strip().lower()


def check_username(username: str) -> list[FieldProblem]:
    """Problems with a (normalised) username: 3-60 characters of a-z, 0-9, '.', '_' or '-'."""
    if USERNAME_RE.match(username):
        return []
    return [
        FieldProblem(
            field="username",
            code="invalid-username",
            message=t(
                "harus 3-60 karakter: huruf kecil a-z, angka, titik, garis bawah atau tanda "
                "hubung, diawali huruf atau angka; diterima {got!r}",
                "must be 3-60 characters of lower-case a-z, digits, '.', '_' or '-', starting "
                "with a letter or digit; got {got!r}",
            ).format(got=username),
        )
    ]


def check_scope(scope: UserScope) -> list[FieldProblem]:
    """Problems with a role and its scope codes: the role exists and is a person's role, each
    scope field the role needs is given and well formed, and the others are empty."""
    try:
        role = Role(scope.role)
    except ValueError:
        role = None
    if role is None or role is Role.SYSTEM:
        return [
            FieldProblem(
                field="role",
                code="invalid-role",
                message=t(
                    "peran harus salah satu dari {roles}; diterima {got!r}",
                    "role must be one of {roles}; got {got!r}",
                ).format(roles=", ".join(USER_ROLES), got=scope.role),
            )
        ]
    problems: list[FieldProblem] = []
    needed = REQUIRED_SCOPE[role]
    for field_name in SCOPE_FIELDS:
        value = getattr(scope, field_name)
        if field_name in needed:
            if not value:
                problems.append(
                    FieldProblem(
                        field=field_name,
                        code="scope-required",
                        message=t(
                            "wajib diisi untuk peran {role}",
                            "is required for the role {role}",
                        ).format(role=role.value),
                    )
                )
            elif not CODE_RE.match(value):
                problems.append(
                    FieldProblem(
                        field=field_name,
                        code="invalid-code",
                        message=t(
                            "kode harus 1-40 karakter huruf, angka, '.', '_' atau '-'; "
                            "diterima {got!r}",
                            "a code is 1-40 letters, digits, '.', '_' or '-'; got {got!r}",
                        ).format(got=value),
                    )
                )
        elif value:
            problems.append(
                FieldProblem(
                    field=field_name,
                    code="scope-not-allowed",
                    message=t(
                        "harus kosong untuk peran {role}; diterima {got!r}",
                        "must be empty for the role {role}; got {got!r}",
                    ).format(role=role.value, got=value),
                )
            )
    return problems


def clean_scope(scope: UserScope) -> UserScope:
    """Blank scope codes become None; codes are kept as given otherwise (trimmed)."""

    def clean(value: str | None) -> str | None:
        value = (value or "").strip()
        return value or None

    return UserScope(
        role=scope.role.strip().lower(),
        region_code=clean(scope.region_code),
        branch_code=clean(scope.branch_code),
        partner_code=clean(scope.partner_code),
        agent_code=clean(scope.agent_code),
    )


def check_password(password: str, username: str, field: str = "password") -> list[FieldProblem]:
    """Problems with a new password under :data:`PASSWORD_RULES` (the password is never echoed)."""
    reasons: list[Text] = []
    if len(password) < PASSWORD_MIN_LENGTH:
        reasons.append(
            t(
                "terlalu pendek: minimal {n} karakter, diterima {got}",
                "too short: at least {n} characters, got {got}",
            ).format(n=PASSWORD_MIN_LENGTH, got=len(password))
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        reasons.append(
            t(
                "terlalu panjang: maksimal {n} karakter, diterima {got}",
                "too long: at most {n} characters, got {got}",
            ).format(n=PASSWORD_MAX_LENGTH, got=len(password))
        )
    lowered = password.lower()
    if username and normalise_username(username) in lowered:
        reasons.append(t("tidak boleh memuat nama pengguna", "must not contain the username"))
    if password and len(set(password)) == 1:
        reasons.append(
            t("tidak boleh satu karakter berulang", "must not be one repeated character")
        )
    if lowered in _COMMON_PASSWORDS:
        reasons.append(t("terlalu umum", "too common"))
    return [FieldProblem(field=field, code="weak-password", message=reason) for reason in reasons]


def token_hash(token: str) -> str:
    """SHA-256 hex of an API token: what is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Whether a string has the shape of a cakupan API token (checked before any lookup)."""
    return bool(TOKEN_RE.match(token))
