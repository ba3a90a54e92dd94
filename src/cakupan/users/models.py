"""Tables of the users area: people who sign in, and the API tokens of machine clients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.db import AwareDateTime, Base, BigIntPK

#: Column size of office, partner and agent codes (the same as the registry's codes).
SCOPE_CODE = 40


class User(Base):
    """A person who signs in, with one role and the scope codes that role needs."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    #: argon2id PHC string; never logged, audited or shown.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str | None] = mapped_column(String(SCOPE_CODE))
    branch_code: Mapped[str | None] = mapped_column(String(SCOPE_CODE))
    partner_code: Mapped[str | None] = mapped_column(String(SCOPE_CODE))
    agent_code: Mapped[str | None] = mapped_column(String(SCOPE_CODE))
    lang: Mapped[str] = mapped_column(String(2), default="id")
    #: the work number participants may call (shown in the reminders of the participants this
    #: user follows up, issue 16); never a private number by obligation
    work_phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class ApiToken(Base):
    """A bearer token of a machine client, acting as its user. Only a hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 (hex) of the whole token: tokens are long random strings, so a fast hash is safe.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The token's first characters, shown to tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class RevokedSession(Base):
    """A signed-in browser session ended server-side (sign-out): its cookie, even a copy, no
    longer signs anyone in (issue 21). Rows older than the session lifetime can be deleted."""

    __tablename__ = "revoked_session"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    revoked_at: Mapped[datetime] = mapped_column(AwareDateTime())
