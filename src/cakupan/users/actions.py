"""The only write path of the users area. Each action validates, writes and audits in the
caller's transaction (wrap calls in :func:`cakupan.db.transaction` or a request's session);
raising :class:`~cakupan.errors.CakupanError` leaves nothing written once the caller rolls back.

Passwords and tokens are never logged or audited: the audit rows name who, when and what changed
(``password_changed: true``), never the secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cakupan.audit import AuditEntry, record_audit
from cakupan.auth import Actor, Role
from cakupan.dates import Clock, SystemClock
from cakupan.errors import CakupanError, ErrorKind, FieldProblem, conflict, forbidden, not_found
from cakupan.i18n import LANGS, t
from cakupan.users.credentials import generate_password, hash_password, new_token, verify_password
from cakupan.users.models import ApiToken, User
from cakupan.users.rules import (
    UserScope,
    check_password,
    check_scope,
    check_username,
    clean_scope,
    looks_like_token,
    normalise_username,
    token_hash,
)

#: Sign-in throttle: after this many failed attempts for one username within the window, further
#: attempts are refused (even with the right password) until the window has passed.
MAX_FAILED_SIGN_INS = 5
FAILED_SIGN_IN_WINDOW = timedelta(minutes=15)

#: ``last_used_at`` of a token is refreshed at most this often (it is bookkeeping, not audited).
TOKEN_USE_RESOLUTION = timedelta(minutes=1)

_SYSTEM_CLOCK = SystemClock()


def user_public(user: User) -> dict[str, Any]:
    """The fields of a user that may be shown and audited (never the password hash)."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "region_code": user.region_code,
        "branch_code": user.branch_code,
        "partner_code": user.partner_code,
        "agent_code": user.agent_code,
        "lang": user.lang,
        "active": user.active,
        "work_phone": user.work_phone,
    }


def _invalid(problems: list[FieldProblem], record: str | None = None) -> CakupanError:
    if record is not None:
        problems = [
            FieldProblem(field=p.field, message=p.message, code=p.code, record=record)
            for p in problems
        ]
    return CakupanError(
        title=t("Data pengguna tidak valid", "Invalid user data"),
        problems=problems,
        code=problems[0].code if len(problems) == 1 else "invalid",
    )


def _require_user_admin(actor: Actor) -> None:
    if actor.role not in (Role.ADMIN, Role.SYSTEM):
        raise forbidden(
            t(
                "Hanya administrator yang dapat mengelola pengguna",
                "Only administrators can manage users",
            )
        )


def _get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise not_found(
            t("Pengguna #{id} tidak ditemukan", "User #{id} not found").format(id=user_id)
        )
    return user


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise _invalid(
            [
                FieldProblem(
                    field="lang",
                    message=t(
                        "harus 'id' atau 'en'; diterima {got!r}",
                        "must be 'id' or 'en'; got {got!r}",
                    ).format(got=lang),
                )
            ]
        )


@dataclass(frozen=True)
class CreatedUser:
    """A new user; ``generated_password`` is set (to show once) when none was given."""

    user: User
    generated_password: str | None


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    role: str,
    full_name: str = "",
    region_code: str | None = None,
    branch_code: str | None = None,
    partner_code: str | None = None,
    agent_code: str | None = None,
    password: str | None = None,
    lang: str = "id",
    clock: Clock = _SYSTEM_CLOCK,
) -> CreatedUser:
    """Create a user with a role and the scope it needs; without ``password`` one is generated.

    Raises INVALID (every problem at once: username, role, scope fields, password rules),
    CONFLICT when the username is taken, FORBIDDEN unless the actor is an administrator.
    """
    _require_user_admin(actor)
    name = normalise_username(username)
    scope = clean_scope(UserScope(role, region_code, branch_code, partner_code, agent_code))
    problems = check_username(name) + check_scope(scope)
    generated = None
    if password is None:
        generated = password = generate_password(avoid=name)
    problems += check_password(password, name)
    _check_lang(lang)
    if problems:
        raise _invalid(problems, record=name or None)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise conflict(
            t("Nama pengguna {name!r} sudah dipakai", "Username {name!r} is already taken").format(
                name=name
            ),
            code="username-taken",
        )
    user = User(
        username=name,
        full_name=full_name.strip() or name,
        password_hash=hash_password(password),
        role=scope.role,
        region_code=scope.region_code,
        branch_code=scope.branch_code,
        partner_code=scope.partner_code,
        agent_code=scope.agent_code,
        lang=lang,
        active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    record_audit(
        session, actor, "user.create", "user", user.id, after=user_public(user), at=clock.now()
    )
    return CreatedUser(user=user, generated_password=generated)


def update_user(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    full_name: str | None = None,
    role: str | None = None,
    region_code: str | None = None,
    branch_code: str | None = None,
    partner_code: str | None = None,
    agent_code: str | None = None,
    work_phone: str | None = None,
    clock: Clock = _SYSTEM_CLOCK,
) -> User:
    """Change a user's name, work phone (``""`` clears it) and/or role with scope. When
    ``role`` is given the four scope codes are replaced as given (those not given become
    empty). Administrators only."""
    _require_user_admin(actor)
    user = _get_user(session, user_id)
    before = user_public(user)
    if work_phone is not None:
        cleaned = re.sub(r"[\s\-.()]", "", work_phone)
        if cleaned and not re.fullmatch(r"\+?[0-9]{8,15}", cleaned):
            raise _invalid(
                [
                    FieldProblem(
                        "work_phone",
                        t(
                            "nomor telepon 8-15 angka (boleh diawali +), bukan {v!r}",
                            "a phone number of 8-15 digits (optionally starting with +), got {v!r}",
                        ).format(v=work_phone),
                    )
                ],
                record=user.username,
            )
        user.work_phone = cleaned or None
    if role is not None:
        scope = clean_scope(UserScope(role, region_code, branch_code, partner_code, agent_code))
        problems = check_scope(scope)
        if problems:
            raise _invalid(problems, record=user.username)
        if user.id == actor.user_id and scope.role != Role.ADMIN:
            raise forbidden(
                t(
                    "Anda tidak dapat mencabut peran administrator Anda sendiri",
                    "You cannot remove your own administrator role",
                )
            )
        user.role = scope.role
        user.region_code, user.branch_code = scope.region_code, scope.branch_code
        user.partner_code, user.agent_code = scope.partner_code, scope.agent_code
    if full_name is not None and full_name.strip():
        user.full_name = full_name.strip()
    after = user_public(user)
    if after != before:
        record_audit(
            session,
            actor,
            "user.update",
            "user",
            user.id,
            before=before,
            after=after,
            at=clock.now(),
        )
    session.flush()
    return user


def set_active(
    session: Session, actor: Actor, user_id: int, active: bool, *, clock: Clock = _SYSTEM_CLOCK
) -> User:
    """Deactivate (``active=False``: cannot sign in, tokens stop working) or reactivate a user.
    Administrators only; an administrator cannot deactivate themself."""
    _require_user_admin(actor)
    user = _get_user(session, user_id)
    if not active and user.id == actor.user_id:
        raise forbidden(
            t(
                "Anda tidak dapat menonaktifkan akun Anda sendiri",
                "You cannot deactivate your own account",
            )
        )
    if user.active != active:
        before = user_public(user)
        user.active = active
        record_audit(
            session,
            actor,
            "user.activate" if active else "user.deactivate",
            "user",
            user.id,
            before=before,
            after=user_public(user),
            at=clock.now(),
        )
        session.flush()
    return user


def reset_password(
    session: Session,
    actor: Actor,
    user_id: int,
    new_password: str | None = None,
    *,
    clock: Clock = _SYSTEM_CLOCK,
) -> str | None:
    """Set a user's password (administrators); without ``new_password`` one is generated and
    returned (to show once). Existing sessions of the user stop working."""
    _require_user_admin(actor)
    user = _get_user(session, user_id)
    generated = None
    if new_password is None:
        generated = new_password = generate_password(avoid=user.username)
    problems = check_password(new_password, user.username)
    if problems:
        raise _invalid(problems, record=user.username)
    user.password_hash = hash_password(new_password)
    record_audit(
        session,
        actor,
        "user.password_reset",
        "user",
        user.id,
        after={"password_changed": True},
        at=clock.now(),
    )
    session.flush()
    return generated


def change_own_password(
    session: Session,
    actor: Actor,
    current_password: str,
    new_password: str,
    *,
    clock: Clock = _SYSTEM_CLOCK,
) -> User:
    """A signed-in user changes their password: the current one must match, the new one must pass
    the rules and differ from the current one."""
    if actor.user_id is None:
        raise forbidden()
    user = _get_user(session, actor.user_id)
    if not verify_password(user.password_hash, current_password).ok:
        raise _invalid(
            [
                FieldProblem(
                    field="current_password",
                    code="wrong-password",
                    message=t("kata sandi saat ini salah", "the current password is wrong"),
                )
            ]
        )
    problems = check_password(new_password, user.username, field="new_password")
    if new_password == current_password:
        problems.append(
            FieldProblem(
                field="new_password",
                code="same-password",
                message=t(
                    "harus berbeda dari kata sandi saat ini",
                    "must differ from the current password",
                ),
            )
        )
    if problems:
        raise _invalid(problems)
    user.password_hash = hash_password(new_password)
    record_audit(
        session,
        actor,
        "user.password_change",
        "user",
        user.id,
        after={"password_changed": True},
        at=clock.now(),
    )
    session.flush()
    return user


def set_language(
    session: Session, actor: Actor, lang: str, *, clock: Clock = _SYSTEM_CLOCK
) -> User:
    """A signed-in user's page language (``id`` or ``en``), remembered across sign-ins."""
    _check_lang(lang)
    if actor.user_id is None:
        raise forbidden()
    user = _get_user(session, actor.user_id)
    if user.lang != lang:
        record_audit(
            session,
            actor,
            "user.set_language",
            "user",
            user.id,
            before={"lang": user.lang},
            after={"lang": lang},
            at=clock.now(),
        )
        user.lang = lang
        session.flush()
    return user


def _sign_in_failed() -> CakupanError:
    # One message for a wrong username, a wrong password and an inactive account (no enumeration).
    return CakupanError(
        title=t("Nama pengguna atau kata sandi salah", "Wrong username or password"),
        kind=ErrorKind.UNAUTHENTICATED,
        code="wrong-credentials",
    )


def _recent_failures(session: Session, username: str, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.entity_type == "user",
                AuditEntry.entity_id == username,
                AuditEntry.action == "user.login_failed",
                AuditEntry.at >= now - FAILED_SIGN_IN_WINDOW,
            )
        )
        or 0
    )


def sign_in(
    session: Session,
    username: str,
    password: str,
    *,
    via: str = "web",
    clock: Clock = _SYSTEM_CLOCK,
) -> User:
    """Check a username and password; on success record the sign-in (``last_login_at``, audit
    ``user.login``) and upgrade an outdated hash. A failure is audited as ``user.login_failed``
    (with the username tried, never the password) and raises UNAUTHENTICATED; after
    :data:`MAX_FAILED_SIGN_INS` failures for a username within :data:`FAILED_SIGN_IN_WINDOW`,
    attempts are refused (code ``too-many-attempts``) until the window has passed."""
    name = normalise_username(username)[:60]
    if name and _recent_failures(session, name, clock.now()) >= MAX_FAILED_SIGN_INS:
        raise CakupanError(
            title=t(
                "Terlalu banyak percobaan masuk yang gagal; coba lagi dalam {m} menit",
                "Too many failed sign-in attempts; try again in {m} minutes",
            ).format(m=int(FAILED_SIGN_IN_WINDOW.total_seconds() // 60)),
            kind=ErrorKind.UNAUTHENTICATED,
            code="too-many-attempts",
        )
    user = session.scalar(select(User).where(User.username == name)) if name else None
    check = verify_password(user.password_hash if user is not None else None, password)
    if user is None or not check.ok or not user.active:
        record_audit(
            session,
            Actor(name=f"{via}:anonymous", role=Role.SYSTEM),
            "user.login_failed",
            "user",
            name or None,
            after={
                "via": via,
                "reason": "inactive" if (user is not None and check.ok) else "credentials",
            },
            at=clock.now(),
        )
        session.flush()
        raise _sign_in_failed()
    if check.new_hash is not None:
        user.password_hash = check.new_hash
    user.last_login_at = clock.now()
    record_audit(
        session,
        Actor.for_user(user),
        "user.login",
        "user",
        user.id,
        after={"via": via},
        at=clock.now(),
    )
    session.flush()
    return user


def record_sign_out(session: Session, actor: Actor, *, clock: Clock = _SYSTEM_CLOCK) -> None:
    """Audit a sign-out (the session cookie is cleared by the web layer)."""
    record_audit(session, actor, "user.logout", "user", actor.user_id, at=clock.now())
    session.flush()


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: ``plain`` is shown once and cannot be recovered."""

    token: ApiToken
    plain: str


def issue_token(
    session: Session, actor: Actor, user_id: int, name: str, *, clock: Clock = _SYSTEM_CLOCK
) -> IssuedToken:
    """Issue an API token acting as user ``user_id`` (administrators, or users for themselves)."""
    if actor.role not in (Role.ADMIN, Role.SYSTEM) and actor.user_id != user_id:
        raise forbidden()
    user = _get_user(session, user_id)
    label = name.strip()
    if not 1 <= len(label) <= 100:
        raise _invalid(
            [
                FieldProblem(
                    field="name",
                    message=t(
                        "nama token harus 1-100 karakter; diterima {n}",
                        "a token name has 1-100 characters; got {n}",
                    ).format(n=len(label)),
                )
            ],
            record=user.username,
        )
    if not user.active:
        raise conflict(
            t("Pengguna {name} tidak aktif", "User {name} is inactive").format(name=user.username),
            code="user-inactive",
        )
    made = new_token()
    token = ApiToken(
        user_id=user.id,
        name=label,
        token_hash=made.hash,
        prefix=made.prefix,
        created_at=clock.now(),
    )
    session.add(token)
    session.flush()
    record_audit(
        session,
        actor,
        "api_token.issue",
        "api_token",
        token.id,
        after={"user": user.username, "name": label, "prefix": made.prefix},
        at=clock.now(),
    )
    return IssuedToken(token=token, plain=made.plain)


def revoke_token(
    session: Session, actor: Actor, token_id: int, *, clock: Clock = _SYSTEM_CLOCK
) -> ApiToken:
    """Revoke an API token (administrators, or the token's user). Revoking twice changes nothing."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise not_found(
            t("Token API #{id} tidak ditemukan", "API token #{id} not found").format(id=token_id)
        )
    if actor.role not in (Role.ADMIN, Role.SYSTEM) and actor.user_id != token.user_id:
        raise forbidden()
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        record_audit(
            session,
            actor,
            "api_token.revoke",
            "api_token",
            token.id,
            after={"name": token.name, "prefix": token.prefix},
            at=clock.now(),
        )
        session.flush()
    return token


def authenticate_token(
    session: Session, plain: str, *, clock: Clock = _SYSTEM_CLOCK
) -> User | None:
    """The active user behind a valid, unrevoked API token, or None. Refreshes ``last_used_at``
    (at most once a minute; bookkeeping, not audited)."""
    if not looks_like_token(plain):
        return None
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(plain))
    ).first()
    if row is None:
        return None
    token, user = row
    if token.revoked_at is not None or not user.active:
        return None
    now: datetime = clock.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        token.last_used_at = now
        session.flush()
    return user
