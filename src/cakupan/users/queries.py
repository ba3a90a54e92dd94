"""Reads of the users area. Listing users is for administrators (and auditors, read-only)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cakupan.auth import Actor, Role
from cakupan.errors import forbidden, not_found
from cakupan.i18n import t
from cakupan.users.models import ApiToken, User
from cakupan.users.rules import normalise_username

#: Roles that may read the list of users.
USER_READERS = frozenset({Role.ADMIN, Role.AUDITOR, Role.SYSTEM})


def list_users(
    session: Session, actor: Actor, *, role: str | None = None, active: bool | None = None
) -> Sequence[User]:
    """Users ordered by username, optionally of one role / activity (administrators, auditors)."""
    if actor.role not in USER_READERS:
        raise forbidden()
    query = select(User).order_by(User.username)
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    return session.scalars(query).all()


def user_by_username(session: Session, username: str) -> User:
    """The user with ``username`` (case-insensitive), or NOT_FOUND."""
    name = normalise_username(username)
    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        raise not_found(
            t("Pengguna {name!r} tidak ditemukan", "User {name!r} not found").format(name=name)
        )
    return user


def active_user(session: Session, user_id: int) -> User | None:
    """The active user ``user_id`` (a signed-in session's user), or None."""
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def tokens_of(session: Session, actor: Actor, user_id: int) -> Sequence[ApiToken]:
    """API tokens of a user, newest first (the user themself or an administrator)."""
    if actor.user_id != user_id and actor.role not in USER_READERS:
        raise forbidden()
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    ).all()
