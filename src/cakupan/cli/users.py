"""``cakupan users ...``: create and list users, issue API tokens (thin: calls the users area)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cakupan.auth import Actor
from cakupan.cli.common import DatabaseUrlOption, JsonOption, console, open_engine, print_json
from cakupan.db import transaction
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.users import (
    create_user,
    issue_token,
    list_users,
    reset_password,
    revoke_token,
    set_active,
    update_user,
    user_by_username,
    user_public,
)

app = typer.Typer(help="Pengguna dan token API / users and API tokens.", no_args_is_help=True)
token_app = typer.Typer(help="Token API untuk klien mesin / API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")

PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input (else one is generated "
        "and printed once).",
    ),
]


def _read_password_stdin() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise invalid(
            "password",
            t("tidak ada kata sandi di input standar", "no password on standard input"),
        )
    return line


@app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="Username (3-60: a-z, 0-9, '.', '_', '-').")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="admin, head_office, regional, kabid, ark, ar, pap, partner, agent or auditor.",
        ),
    ],
    full_name: Annotated[str, typer.Option("--full-name", help="Name shown on pages.")] = "",
    region: Annotated[str | None, typer.Option("--region", help="Region code (regional).")] = None,
    branch: Annotated[
        str | None, typer.Option("--branch", help="Branch code (kabid, ark, ar, pap).")
    ] = None,
    partner: Annotated[
        str | None, typer.Option("--partner", help="Partner code (partner, agent).")
    ] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Agent code (agent).")] = None,
    lang: Annotated[
        str, typer.Option("--lang-pref", help="Page language of the user: id or en.")
    ] = "id",
    password_stdin: PasswordStdinOption = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a user with a role and the scope it needs. Without --password-stdin a password is
    generated and printed once."""
    password = _read_password_stdin() if password_stdin else None
    engine = open_engine(database_url)
    with transaction(engine) as session:
        created = create_user(
            session,
            Actor.system(),
            username=username,
            role=role,
            full_name=full_name,
            region_code=region,
            branch_code=branch,
            partner_code=partner,
            agent_code=agent,
            password=password,
            lang=lang,
        )
        payload = {"id": created.user.id, **user_public(created.user)}
    if created.generated_password is not None:
        payload["password"] = created.generated_password
    if as_json:
        print_json(payload)
        return
    console.print(
        f"Pengguna dibuat / user created: {payload['username']} ({payload['role']})", markup=False
    )
    if created.generated_password is not None:
        console.print(
            f"Kata sandi (ditampilkan sekali) / password (shown once): {created.generated_password}",
            markup=False,
        )


@app.command("list")
def list_(
    role: Annotated[str | None, typer.Option("--role", help="Only this role.")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """List users with role, scope and whether they are active."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        users = list_users(session, Actor.system(), role=role)
        rows = [
            {
                "id": u.id,
                **user_public(u),
                "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
            }
            for u in users
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        scope = " ".join(
            f"{key.removesuffix('_code')}={row[key]}"
            for key in ("region_code", "branch_code", "partner_code", "agent_code")
            if row[key]
        )
        state = "" if row["active"] else "  [nonaktif / inactive]"
        console.print(f"{row['username']:<24} {row['role']:<12} {scope}{state}", markup=False)


@app.command("deactivate")
def deactivate(
    username: str,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deactivate a user: no more sign-ins, sessions and API tokens stop working."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        user = set_active(session, Actor.system(), user_by_username(session, username).id, False)
        payload = user_public(user)
    if as_json:
        print_json(payload)
    else:
        console.print(f"Dinonaktifkan / deactivated: {payload['username']}", markup=False)


@app.command("set-phone")
def set_phone(
    username: str,
    phone: Annotated[str, typer.Argument(help="Nomor kerja / work number ('' clears it).")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a user's work phone: the number reminders give to the participants this user follows
    up (retention owner) or, for an agent's account, to the agent's participants."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        user = user_by_username(session, username)
        payload = user_public(update_user(session, Actor.system(), user.id, work_phone=phone))
    if as_json:
        print_json(payload)
    else:
        console.print(
            f"{payload['username']}: {payload['work_phone'] or '-'}",
            markup=False,
        )


@app.command("set-password")
def set_password(
    username: str,
    password_stdin: PasswordStdinOption = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Set a user's password (from stdin, or generated and printed once)."""
    password = _read_password_stdin() if password_stdin else None
    engine = open_engine(database_url)
    with transaction(engine) as session:
        user = user_by_username(session, username)
        generated = reset_password(session, Actor.system(), user.id, password)
        name = user.username
    if as_json:
        print_json({"username": name, "password": generated})
    elif generated:
        console.print(f"Kata sandi baru / new password for {name}: {generated}", markup=False)
    else:
        console.print(f"Kata sandi diubah / password set: {name}", markup=False)


@token_app.command("create")
def token_create(
    username: str,
    name: Annotated[str, typer.Option("--name", help="What the token is for (1-100 characters).")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue an API token acting as USERNAME; it is printed once and cannot be shown again."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        user = user_by_username(session, username)
        issued = issue_token(session, Actor.system(), user.id, name)
        payload = {
            "id": issued.token.id,
            "username": user.username,
            "name": issued.token.name,
            "prefix": issued.token.prefix,
            "token": issued.plain,
        }
    if as_json:
        print_json(payload)
        return
    console.print(
        f"Token API untuk / API token for {payload['username']} ({payload['name']}):", markup=False
    )
    console.print(issued.plain, markup=False, soft_wrap=True)
    console.print(
        "Simpan sekarang: tidak dapat ditampilkan lagi / store it now: it cannot be shown again."
    )


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[
        int, typer.Argument(help="Token id (see `cakupan users token create --json`).")
    ],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke an API token by id."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        token = revoke_token(session, Actor.system(), token_id)
        payload = {"id": token.id, "name": token.name, "prefix": token.prefix, "revoked": True}
    if as_json:
        print_json(payload)
    else:
        console.print(
            f"Token dicabut / token revoked: {payload['prefix']} ({payload['name']})", markup=False
        )


__all__ = ["app"]
