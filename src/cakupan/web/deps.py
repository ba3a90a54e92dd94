"""FastAPI dependencies shared by pages and the API, as ``Annotated`` aliases.

- :data:`DbSession`: one SQLAlchemy session per request (handlers commit what they write);
  :data:`ApiDbSession` the same without a worker thread to open and close it (partner API).
- :data:`MaybeUser` / :data:`PageUser`: the signed-in user of the session cookie; a page that
  needs one redirects to the sign-in page when there is none.
- :data:`ApiUser`: the user of an ``Authorization: Bearer`` API token (or of the session cookie,
  with the CSRF header for unsafe methods); none gives 401 problem details. Token answers are
  cached a few seconds (:mod:`cakupan.web.tokens`).
- :data:`CsrfProtected`: attach to every state-changing page route (403 when the token is wrong).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cakupan.auth import Actor
from cakupan.dates import Clock
from cakupan.errors import CakupanError, ErrorKind, forbidden
from cakupan.i18n import LANGS, Lang, t
from cakupan.users import User, active_user, authenticate_token
from cakupan.users.rules import looks_like_token, token_hash
from cakupan.web.tokens import TokenCache
from cakupan.web.tokens import generation as token_generation

SESSION_USER = "uid"
SESSION_FINGERPRINT = "pwf"
#: A random id of this signed-in session; sign-out revokes it server-side (``revoked_session``).
SESSION_ID = "sid"
SESSION_CSRF = "csrf"
SESSION_LANG = "lang"
LANG_COOKIE = "cakupan_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequiredError(Exception):
    """Raised by :func:`page_user` when nobody is signed in (the app redirects to sign-in)."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def db_session(request: Request) -> Iterator[Session]:
    """A session on the app's database for this request; closed (rolled back unless committed)
    when the response is done."""
    with request.app.state.session_factory() as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]
#: A row id in a path (or query): 1 .. 2^62, so an id past the database's BIGINT is a 422, not a
#: database error (issue 21).
RowId = Annotated[int, Path(ge=1, le=2**62)]


async def app_clock(request: Request) -> Clock:
    """The application's clock (``create_app(clock=...)``; the system clock by default).
    ``async``: a plain attribute read needs no worker thread."""
    clock: Clock = request.app.state.clock
    return clock


AppClock = Annotated[Clock, Depends(app_clock)]


def password_fingerprint(request: Request, user: User) -> str:
    """A keyed digest of the user's password hash kept in the session: changing the password
    ends every other session of the user."""
    key = request.app.state.secret_key.encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:24]


def start_session(request: Request, user: User) -> None:
    """Sign ``user`` in on this browser: a fresh session (new CSRF token), the user's language."""
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_FINGERPRINT] = password_fingerprint(request, user)
    request.session[SESSION_ID] = secrets.token_urlsafe(32)
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    request.session[SESSION_LANG] = user.lang


def revoke_session(request: Request, db: Session, user_id: int, at: datetime) -> None:
    """End this browser session server-side, so a copy of its cookie signs nobody in (the
    caller commits). Password changes and deactivation end every session of the user already
    (the password fingerprint, the active flag)."""
    from cakupan.users.models import RevokedSession

    session_id = request.session.get(SESSION_ID)
    if isinstance(session_id, str) and db.get(RevokedSession, session_id) is None:
        db.add(RevokedSession(session_id=session_id, user_id=user_id, revoked_at=at))


def end_session(request: Request) -> None:
    """Sign out: forget everything but the language."""
    lang = request.session.get(SESSION_LANG)
    request.session.clear()
    if lang in LANGS:
        request.session[SESSION_LANG] = lang


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use), to put in every form."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def request_lang(request: Request) -> Lang:
    """The page language: the session's (the user's choice), else the cookie, else Indonesian."""
    for candidate in (request.session.get(SESSION_LANG), request.cookies.get(LANG_COOKIE)):
        if candidate == "en":
            return "en"
        if candidate == "id":
            return "id"
    return "id"


def optional_user(request: Request, db: DbSession) -> User | None:
    """The active user signed in with this session cookie, or None."""
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return None
    from cakupan.users.models import RevokedSession

    user = active_user(db, user_id)
    fingerprint = request.session.get(SESSION_FINGERPRINT)
    session_id = request.session.get(SESSION_ID)
    if (
        user is None
        or not isinstance(fingerprint, str)
        or not hmac.compare_digest(fingerprint, password_fingerprint(request, user))
        or not isinstance(session_id, str)
        or db.get(RevokedSession, session_id) is not None
    ):
        end_session(request)
        return None
    request.state.user = user
    return user


MaybeUser = Annotated[User | None, Depends(optional_user)]


def page_user(request: Request, user: MaybeUser) -> User:
    """The signed-in user of a page; nobody signed in -> redirect to the sign-in page."""
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequiredError(target)
    return user


PageUser = Annotated[User, Depends(page_user)]


def page_actor(user: PageUser) -> Actor:
    """The actor of the signed-in user (for actions and scoped queries)."""
    return Actor.for_user(user)


PageActor = Annotated[Actor, Depends(page_actor)]


def _csrf_error() -> CakupanError:
    return forbidden(
        t(
            "Permintaan ditolak: token formulir (CSRF) tidak valid. Muat ulang halaman lalu coba lagi.",
            "Request refused: the form token (CSRF) is invalid. Reload the page and try again.",
        )
    )


async def verify_csrf(request: Request) -> None:
    """Refuse (403) a state-changing request whose CSRF token (form field ``csrf_token`` or
    header ``X-CSRF-Token``) does not match the session's."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get(SESSION_CSRF)
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not given or not hmac.compare_digest(expected, given):
        error = _csrf_error()
        error.code = "csrf"
        raise error


CsrfProtected = Depends(verify_csrf)


def _unauthenticated() -> CakupanError:
    return CakupanError(
        title=t(
            "Autentikasi diperlukan: kirim header 'Authorization: Bearer <token>'",
            "Authentication required: send an 'Authorization: Bearer <token>' header",
        ),
        kind=ErrorKind.UNAUTHENTICATED,
        code="unauthenticated",
    )


async def api_db_session_async(request: Request) -> AsyncIterator[Session]:
    """A session for an API request, made and closed without a worker thread: the session
    connects only when first used (in the handler's thread); closing one that still holds a
    transaction (a read-only handler) rolls back in a worker thread, not on the event loop."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


#: The API's request session (async dependency: no thread hop to open and close it).
ApiDbSession = Annotated[Session, Depends(api_db_session_async)]


def _token_cache(request: Request) -> TokenCache:
    cache: TokenCache | None = getattr(request.app.state, "token_cache", None)
    if cache is None:
        cache = TokenCache()
        request.app.state.token_cache = cache
    return cache


def _token_user(request: Request, plain: str, clock: Clock) -> User | None:
    """Look a token up in a session of its own (refreshing ``last_used_at``), and cache it."""
    looked_up_in = token_generation()
    with request.app.state.session_factory() as db:
        user = authenticate_token(db, plain, clock=clock)
        if user is None:
            return None
        db.commit()  # last_used_at
    _token_cache(request).put(token_hash(plain), user, looked_up_in)
    return user


def _session_api_user(request: Request) -> User:
    """The user of the session cookie for an API call (unsafe methods need ``X-CSRF-Token``)."""
    with request.app.state.session_factory() as db:
        user = optional_user(request, db)
    if user is None:
        raise _unauthenticated()
    if request.method not in SAFE_METHODS:
        expected = request.session.get(SESSION_CSRF)
        given = request.headers.get(CSRF_HEADER, "")
        if not isinstance(expected, str) or not hmac.compare_digest(expected, given):
            raise _csrf_error()
    return user


async def api_user(request: Request, clock: AppClock) -> User:
    """The user behind an API call: a valid ``Authorization: Bearer`` token, else the session
    cookie (unsafe methods then need ``X-CSRF-Token``). Neither -> 401 problem details.

    A token's user is reused for a few seconds (:mod:`cakupan.web.tokens`: no database round
    trip on the hot path; revocations in this process apply at once); only a cache miss or a
    cookie needs the database, in a worker thread."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        plain = credentials.strip()
        if not looks_like_token(plain):
            raise _unauthenticated()
        user = _token_cache(request).get(token_hash(plain))
        if user is None:
            user = await run_in_threadpool(_token_user, request, plain, clock)
        if user is None:
            raise _unauthenticated()
        request.state.auth_via = "token"
        return user
    user = await run_in_threadpool(_session_api_user, request)
    request.state.auth_via = "session"
    return user


ApiUser = Annotated[User, Depends(api_user)]


def api_actor(user: ApiUser) -> Actor:
    """The actor of an API call."""
    return Actor.for_user(user)


ApiActor = Annotated[Actor, Depends(api_actor)]
