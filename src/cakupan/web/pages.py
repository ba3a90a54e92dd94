"""Server-rendered pages: sign-in, home, language, my account, users (admin), audit log.

To add a page: a function here (or in an area's ``pages.py`` router included by
:func:`cakupan.web.app.create_app`) taking :data:`~cakupan.web.deps.PageUser` /
:data:`~cakupan.web.deps.PageActor` and :data:`~cakupan.web.deps.DbSession`, reading through the
area's scoped queries and rendering a template that extends ``base.html``. State-changing routes
are POST with ``dependencies=[CsrfProtected]`` and redirect after success (303).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import func, select

from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.dates import JAKARTA, Clock, parse_date
from cakupan.errors import CakupanError, FieldProblem, forbidden, not_found
from cakupan.i18n import LANGS, t
from cakupan.users import (
    PASSWORD_RULES,
    REQUIRED_SCOPE,
    USER_ROLES,
    change_own_password,
    create_user,
    issue_token,
    list_users,
    record_sign_out,
    reset_password,
    revoke_token,
    set_active,
    set_language,
    sign_in,
    tokens_of,
    update_user,
)
from cakupan.users.models import User
from cakupan.web.deps import (
    LANG_COOKIE,
    SESSION_LANG,
    AppClock,
    CsrfProtected,
    DbSession,
    MaybeUser,
    PageActor,
    PageUser,
    RowId,
    end_session,
    revoke_session,
    start_session,
)
from cakupan.web.home import my_figures, my_tasks
from cakupan.web.templating import render

router = APIRouter(include_in_schema=False)

AUDIT_PAGE_SIZE = 50
AUDIT_READERS = frozenset({Role.ADMIN, Role.AUDITOR})
LANG_COOKIE_MAX_AGE = 365 * 24 * 60 * 60


def _safe_next(target: str | None) -> str:
    """A local path to go to after sign-in (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _require(actor: Actor, roles: frozenset[Role]) -> None:
    if actor.role not in roles:
        raise forbidden(
            t(
                "Halaman ini tidak tersedia untuk peran Anda",
                "This page is not available to your role",
            )
        )


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- sign-in ---------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, user: MaybeUser, next: str | None = None) -> Response:
    if user is not None:
        return _see_other(_safe_next(next))
    return render(request, "login.html", {"next": _safe_next(next), "error": None, "username": ""})


@router.post("/login", dependencies=[CsrfProtected])
def login_submit(
    request: Request,
    db: DbSession,
    clock: AppClock,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = sign_in(db, username, password, via="web", clock=clock)
    except CakupanError as error:
        db.commit()  # the failed attempt stays in the audit log
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": error.title, "username": username[:60]},
            status_code=401,
        )
    db.commit()
    start_session(request, user)
    return _see_other(_safe_next(next))


@router.post("/logout", dependencies=[CsrfProtected])
def logout(request: Request, db: DbSession, clock: AppClock, user: MaybeUser) -> Response:
    if user is not None:
        record_sign_out(db, Actor.for_user(user), clock=clock)
        revoke_session(request, db, user.id, clock.now())
        db.commit()
    end_session(request)
    return _see_other("/login")


@router.post("/lang", dependencies=[CsrfProtected])
def switch_language(
    request: Request,
    db: DbSession,
    clock: AppClock,
    user: MaybeUser,
    to: Annotated[str, Form()] = "id",
    next: Annotated[str, Form()] = "/",
) -> Response:
    lang = to if to in LANGS else "id"
    if user is not None:
        set_language(db, Actor.for_user(user), lang, clock=clock)
        db.commit()
    request.session[SESSION_LANG] = lang
    response = _see_other(_safe_next(next))
    response.set_cookie(
        LANG_COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE, httponly=True, samesite="lax"
    )
    return response


# -- home ------------------------------------------------------------------------------------


def _links_for(role: Role) -> list[dict[str, Any]]:
    from cakupan.dashboard.operations import links_for as dashboard_links
    from cakupan.partners.pages import links_for as partner_links

    links = [
        *dashboard_links(role),
        *partner_links(role),
        {
            "href": "/account",
            "label": t("Akun saya", "My account"),
            "hint": t("Kata sandi, bahasa, token API", "Password, language, API tokens"),
        },
    ]
    if role is Role.ADMIN:
        links.append(
            {
                "href": "/users",
                "label": t("Pengguna", "Users"),
                "hint": t(
                    "Buat dan kelola pengguna serta perannya", "Create and manage users and roles"
                ),
            }
        )
    if role in AUDIT_READERS:
        links.append(
            {
                "href": "/audit",
                "label": t("Log audit", "Audit log"),
                "hint": t("Siapa melakukan apa dan kapan", "Who did what and when"),
            }
        )
    if role in {Role.ADMIN, Role.PARTNER}:  # the ones who build on the API (tokens)
        links.append(
            {
                "href": "/api/openapi.json",
                "label": t("API untuk aplikasi", "API for applications"),
                "hint": t("Deskripsi OpenAPI dari /api/v1", "OpenAPI description of /api/v1"),
            }
        )
    return links


def _activity_days(db: DbSession, actor: Actor, clock: Clock, days: int = 14) -> dict[str, Any]:
    """The actor's own audited events per day over the last ``days`` days (the home chart)."""
    today = clock.now().astimezone(JAKARTA).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time(0), tzinfo=JAKARTA)
    instants = db.scalars(
        select(AuditEntry.at).where(AuditEntry.actor == actor.name, AuditEntry.at >= start)
    ).all()
    per_day = Counter(instant.astimezone(JAKARTA).date() for instant in instants)
    labels = [(first + timedelta(days=i)) for i in range(days)]
    return {
        "labels": [f"{d.day}/{d.month}" for d in labels],
        "counts": [per_day.get(d, 0) for d in labels],
    }


_FAVICON = Path(__file__).parent / "static" / "favicon.ico"


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    """The browser's tab icon (browsers ask for it at the root)."""
    return FileResponse(
        _FAVICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get("/")
def home(
    request: Request, db: DbSession, clock: AppClock, user: PageUser, actor: PageActor
) -> Response:
    activity = _activity_days(db, actor, clock)
    figures = my_figures(db, actor)
    return render(
        request,
        "home.html",
        {
            "user": user,
            "role": actor.role,
            "links": _links_for(actor.role),
            "chart_json": json.dumps(activity).replace("<", "\\u003c"),
            "activity_total": sum(activity["counts"]),
            "figures": figures,
            "tasks": my_tasks(db, actor, figures),
        },
    )


# -- my account ------------------------------------------------------------------------------


def _account_page(
    request: Request,
    db: DbSession,
    user: User,
    actor: Actor,
    *,
    problems: list[FieldProblem] | None = None,
    message: str | None = None,
    shown_once: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "account.html",
        {
            "user": user,
            "tokens": tokens_of(db, actor, user.id),
            "password_rules": PASSWORD_RULES,
            "problems": problems or [],
            "message": message,
            "shown_once": shown_once,
        },
        status_code=status_code,
    )


@router.get("/account")
def account(request: Request, db: DbSession, user: PageUser, actor: PageActor) -> Response:
    return _account_page(request, db, user, actor, message=request.query_params.get("done"))


@router.post("/account/password", dependencies=[CsrfProtected])
def account_password(
    request: Request,
    db: DbSession,
    clock: AppClock,
    user: PageUser,
    actor: PageActor,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    confirm_password: Annotated[str, Form()] = "",
) -> Response:
    try:
        if new_password != confirm_password:
            raise CakupanError(
                title=t("Kata sandi tidak diubah", "Password not changed"),
                problems=[
                    FieldProblem(
                        field="confirm_password",
                        code="mismatch",
                        message=t(
                            "konfirmasi tidak sama dengan kata sandi baru",
                            "the confirmation does not match the new password",
                        ),
                    )
                ],
            )
        change_own_password(db, actor, current_password, new_password, clock=clock)
    except CakupanError as error:
        db.rollback()
        return _account_page(request, db, user, actor, problems=error.problems, status_code=422)
    db.commit()
    start_session(request, user)  # this session stays valid; all others end
    return _see_other("/account?done=password")


@router.post("/account/tokens", dependencies=[CsrfProtected])
def account_token_issue(
    request: Request,
    db: DbSession,
    clock: AppClock,
    user: PageUser,
    actor: PageActor,
    name: Annotated[str, Form()] = "",
) -> Response:
    try:
        issued = issue_token(db, actor, user.id, name, clock=clock)
    except CakupanError as error:
        db.rollback()
        return _account_page(request, db, user, actor, problems=error.problems, status_code=422)
    db.commit()
    return _account_page(request, db, user, actor, shown_once=issued.plain)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfProtected])
def account_token_revoke(
    db: DbSession, clock: AppClock, actor: PageActor, token_id: RowId
) -> Response:
    revoke_token(db, actor, token_id, clock=clock)
    db.commit()
    return _see_other("/account?done=token-revoked")


# -- users (administrators) ------------------------------------------------------------------


def _user_form_context(**extra: Any) -> dict[str, Any]:
    return {
        "roles": USER_ROLES,
        "required_scope": {role.value: list(fields) for role, fields in REQUIRED_SCOPE.items()},
        "password_rules": PASSWORD_RULES,
        **extra,
    }


@router.get("/users")
def users_page(request: Request, db: DbSession, user: PageUser, actor: PageActor) -> Response:
    _require(actor, frozenset({Role.ADMIN}))
    return render(
        request,
        "users.html",
        _user_form_context(user=user, users=list_users(db, actor), form={}, problems=[]),
    )


@router.post("/users", dependencies=[CsrfProtected])
def users_create(
    request: Request,
    db: DbSession,
    clock: AppClock,
    user: PageUser,
    actor: PageActor,
    username: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    region_code: Annotated[str, Form()] = "",
    branch_code: Annotated[str, Form()] = "",
    partner_code: Annotated[str, Form()] = "",
    agent_code: Annotated[str, Form()] = "",
) -> Response:
    _require(actor, frozenset({Role.ADMIN}))
    form = {
        "username": username,
        "full_name": full_name,
        "role": role,
        "region_code": region_code,
        "branch_code": branch_code,
        "partner_code": partner_code,
        "agent_code": agent_code,
    }
    try:
        created = create_user(
            db,
            actor,
            username=username,
            role=role,
            full_name=full_name,
            region_code=region_code,
            branch_code=branch_code,
            partner_code=partner_code,
            agent_code=agent_code,
            clock=clock,
        )
    except CakupanError as error:
        db.rollback()
        return render(
            request,
            "users.html",
            _user_form_context(
                user=user,
                users=list_users(db, actor),
                form=form,
                problems=error.problems or [FieldProblem(field="username", message=error.title)],
            ),
            status_code=error.kind.http_status,
        )
    db.commit()
    return render(
        request,
        "shown_once.html",
        {
            "user": user,
            "heading": t("Pengguna dibuat", "User created"),
            "subject": created.user.username,
            "secret_label": t("Kata sandi awal", "Initial password"),
            "secret": created.generated_password,
            "back": "/users",
        },
    )


def _load_user(db: DbSession, user_id: int) -> User:
    target = db.get(User, user_id)
    if target is None:
        raise not_found(
            t("Pengguna #{id} tidak ditemukan", "User #{id} not found").format(id=user_id)
        )
    return target


@router.get("/users/{user_id}")
def user_detail(
    request: Request, db: DbSession, user: PageUser, actor: PageActor, user_id: RowId
) -> Response:
    _require(actor, frozenset({Role.ADMIN}))
    target = _load_user(db, user_id)
    return render(
        request,
        "user_edit.html",
        _user_form_context(
            user=user, target=target, tokens=tokens_of(db, actor, target.id), problems=[]
        ),
    )


@router.post("/users/{user_id}", dependencies=[CsrfProtected])
def user_update(
    request: Request,
    db: DbSession,
    clock: AppClock,
    user: PageUser,
    actor: PageActor,
    user_id: RowId,
    full_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    region_code: Annotated[str, Form()] = "",
    branch_code: Annotated[str, Form()] = "",
    partner_code: Annotated[str, Form()] = "",
    agent_code: Annotated[str, Form()] = "",
) -> Response:
    _require(actor, frozenset({Role.ADMIN}))
    try:
        update_user(
            db,
            actor,
            user_id,
            full_name=full_name,
            role=role,
            region_code=region_code,
            branch_code=branch_code,
            partner_code=partner_code,
            agent_code=agent_code,
            clock=clock,
        )
    except CakupanError as error:
        db.rollback()
        target = _load_user(db, user_id)
        return render(
            request,
            "user_edit.html",
            _user_form_context(
                user=user,
                target=target,
                tokens=tokens_of(db, actor, target.id),
                problems=error.problems or [FieldProblem(field="role", message=error.title)],
            ),
            status_code=error.kind.http_status,
        )
    db.commit()
    return _see_other(f"/users/{user_id}")


@router.post("/users/{user_id}/active", dependencies=[CsrfProtected])
def user_set_active(
    db: DbSession,
    clock: AppClock,
    actor: PageActor,
    user_id: RowId,
    active: Annotated[str, Form()] = "0",
) -> Response:
    _require(actor, frozenset({Role.ADMIN}))
    set_active(db, actor, user_id, active == "1", clock=clock)
    db.commit()
    return _see_other(f"/users/{user_id}")


@router.post("/users/{user_id}/password", dependencies=[CsrfProtected])
def user_reset_password(
    request: Request,
    db: DbSession,
    clock: AppClock,
    user: PageUser,
    actor: PageActor,
    user_id: RowId,
) -> Response:
    _require(actor, frozenset({Role.ADMIN}))
    generated = reset_password(db, actor, user_id, clock=clock)
    target = _load_user(db, user_id)
    db.commit()
    return render(
        request,
        "shown_once.html",
        {
            "user": user,
            "heading": t("Kata sandi diatur ulang", "Password reset"),
            "subject": target.username,
            "secret_label": t("Kata sandi baru", "New password"),
            "secret": generated,
            "back": f"/users/{user_id}",
        },
    )


# -- audit log (auditors, administrators) ----------------------------------------------------


@router.get("/audit")
def audit_log(
    request: Request,
    db: DbSession,
    user: PageUser,
    actor: PageActor,
    action: Annotated[str, Query()] = "",
    who: Annotated[str, Query()] = "",
    entity_type: Annotated[str, Query()] = "",
    date_from: Annotated[str, Query(alias="from")] = "",
    date_to: Annotated[str, Query(alias="to")] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    _require(actor, AUDIT_READERS)
    query = select(AuditEntry)
    problems: list[FieldProblem] = []
    if action.strip():
        query = query.where(AuditEntry.action.startswith(action.strip(), autoescape=True))
    if who.strip():
        query = query.where(AuditEntry.actor == who.strip())
    if entity_type.strip():
        query = query.where(AuditEntry.entity_type == entity_type.strip())
    for field_name, text, end_of_day in (("from", date_from, False), ("to", date_to, True)):
        if not text.strip():
            continue
        try:
            day = parse_date(text)
        except ValueError as exc:
            problems.append(
                FieldProblem(
                    field=field_name,
                    message=t(
                        "tanggal harus YYYY-MM-DD; {why}", "a date is YYYY-MM-DD; {why}"
                    ).format(why=exc),
                )
            )
            continue
        bound = datetime.combine(
            day + timedelta(days=1) if end_of_day else day, time(0), tzinfo=JAKARTA
        )
        query = query.where(AuditEntry.at < bound if end_of_day else AuditEntry.at >= bound)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = db.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(AUDIT_PAGE_SIZE)
        .offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    filters = {
        "action": action,
        "who": who,
        "entity_type": entity_type,
        "from": date_from,
        "to": date_to,
    }
    actions = db.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)).all()
    return render(
        request,
        "audit.html",
        {
            "user": user,
            "entries": entries,
            "total": total,
            "page": page,
            "pages": pages,
            "filters": filters,
            "actions": actions,
            "problems": problems,
            "query_for": lambda p: _query_string({**filters, "page": str(p)}),
            "as_json": lambda value: (
                "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
            ),
        },
    )


def _query_string(values: dict[str, str]) -> str:
    return urlencode({k: v for k, v in values.items() if v})
