"""Users, passwords and API tokens through the actions and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cakupan.audit import AuditEntry
from cakupan.auth import Actor, Role
from cakupan.db import transaction
from cakupan.errors import CakupanError, ErrorKind
from cakupan.users import (
    ApiToken,
    User,
    authenticate_token,
    change_own_password,
    create_user,
    issue_token,
    revoke_token,
    set_active,
    sign_in,
    update_user,
)
from cakupan.users.demo import ensure_demo_users
from tests.conftest import CliResult

ADMIN = Actor("cli:test", Role.SYSTEM)
PASSWORD = "kopi-tubruk-2026"


def _audit(engine: Engine, action: str) -> list[AuditEntry]:
    with transaction(engine) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_create_user_audits_without_password(engine: Engine) -> None:
    with transaction(engine) as session:
        created = create_user(
            session,
            ADMIN,
            username=" Siti.Aminah ",
            role="kabid",
            branch_code="PLG",
            full_name="Siti Aminah",
            password=PASSWORD,
        )
        assert created.generated_password is None
        user_id = created.user.id
    with transaction(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        assert (user.username, user.role, user.branch_code, user.active) == (
            "siti.aminah",
            "kabid",
            "PLG",
            True,
        )
        assert user.password_hash.startswith("$argon2id$")
    (entry,) = _audit(engine, "user.create")
    assert entry.actor == "cli:test"
    assert entry.entity_id == str(user_id)
    assert entry.after is not None
    assert entry.after["branch_code"] == "PLG"
    assert PASSWORD not in json.dumps(entry.after)
    assert "password_hash" not in entry.after


def test_invalid_user_reports_every_field_and_writes_nothing(engine: Engine) -> None:
    with pytest.raises(CakupanError) as caught, transaction(engine) as session:
        create_user(session, ADMIN, username="x", role="agent", agent_code="AG 1", password="short")
    fields = sorted(p.field for p in caught.value.problems)
    assert fields == ["agent_code", "partner_code", "password", "username"]
    assert all(p.record == "x" for p in caught.value.problems)
    with transaction(engine) as session:
        assert session.scalars(select(User)).all() == []
    assert _audit(engine, "user.create") == []


def test_duplicate_username_conflicts(engine: Engine) -> None:
    with transaction(engine) as session:
        create_user(session, ADMIN, username="budi", role="auditor", password=PASSWORD)
    with pytest.raises(CakupanError) as caught, transaction(engine) as session:
        create_user(session, ADMIN, username="BUDI", role="admin", password=PASSWORD)
    assert caught.value.kind is ErrorKind.CONFLICT
    assert caught.value.code == "username-taken"


def test_only_admins_manage_users(engine: Engine) -> None:
    kabid = Actor("kabid", Role.KABID, user_id=1, branch_code="PLG")
    with pytest.raises(CakupanError) as caught, transaction(engine) as session:
        create_user(session, kabid, username="newbie", role="ar", branch_code="PLG")
    assert caught.value.kind is ErrorKind.FORBIDDEN


def test_sign_in_success_failure_and_deactivation(engine: Engine) -> None:
    with transaction(engine) as session:
        user_id = create_user(
            session, ADMIN, username="rina", role="pap", branch_code="PLG", password=PASSWORD
        ).user.id
    with transaction(engine) as session:
        user = sign_in(session, "Rina", PASSWORD)
        assert user.last_login_at is not None
    with pytest.raises(CakupanError) as caught, transaction(engine) as session:
        sign_in(session, "rina", "wrong-password-here")
    assert caught.value.kind is ErrorKind.UNAUTHENTICATED
    assert [e.entity_id for e in _audit(engine, "user.login")] == [str(user_id)]
    # the failed attempt is rolled back with the transaction here; the web layer commits it
    with transaction(engine) as session:
        set_active(session, ADMIN, user_id, False)
    with transaction(engine) as session, pytest.raises(CakupanError):
        sign_in(session, "rina", PASSWORD)


def test_failed_sign_in_is_audited_when_committed(session: Session) -> None:
    with pytest.raises(CakupanError):
        sign_in(session, "nobody", "whatever-password")
    session.commit()
    (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.login_failed"))
    assert entry.entity_id == "nobody"
    assert entry.after == {"via": "web", "reason": "credentials"}


def test_change_own_password(engine: Engine) -> None:
    with transaction(engine) as session:
        user = create_user(
            session, ADMIN, username="dewi", role="ark", branch_code="PLG", password=PASSWORD
        ).user
        actor = Actor.for_user(user)
    with pytest.raises(CakupanError) as caught, transaction(engine) as session:
        change_own_password(session, actor, "not-the-password", "teh-manis-2027")
    assert [p.field for p in caught.value.problems] == ["current_password"]
    with pytest.raises(CakupanError) as caught, transaction(engine) as session:
        change_own_password(session, actor, PASSWORD, PASSWORD)
    assert [p.code for p in caught.value.problems] == ["same-password"]
    with transaction(engine) as session:
        change_own_password(session, actor, PASSWORD, "teh-manis-2027")
    with transaction(engine) as session:
        assert sign_in(session, "dewi", "teh-manis-2027").username == "dewi"


def test_update_user_role_and_scope(engine: Engine) -> None:
    with transaction(engine) as session:
        user_id = create_user(
            session, ADMIN, username="joko", role="ar", branch_code="PLG", password=PASSWORD
        ).user.id
    with transaction(engine) as session:
        update_user(session, ADMIN, user_id, role="regional", region_code="SUMBAGSEL")
    with transaction(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        assert (user.role, user.region_code, user.branch_code) == ("regional", "SUMBAGSEL", None)
    (entry,) = _audit(engine, "user.update")
    assert entry.before is not None
    assert entry.after is not None
    assert (entry.before["role"], entry.after["role"]) == ("ar", "regional")


def test_tokens_issue_authenticate_revoke(engine: Engine) -> None:
    with transaction(engine) as session:
        user = create_user(
            session,
            ADMIN,
            username="bank.api",
            role="partner",
            partner_code="BRI-01",
            password=PASSWORD,
        ).user
        issued = issue_token(session, ADMIN, user.id, "integrasi BRI")
        plain, token_id = issued.plain, issued.token.id
    with transaction(engine) as session:
        stored = session.get(ApiToken, token_id)
        assert stored is not None
        assert plain not in (stored.token_hash, stored.prefix)
        assert plain.startswith(stored.prefix)
        found = authenticate_token(session, plain)
        assert found is not None
        assert found.username == "bank.api"
        assert stored.last_used_at is not None
        assert authenticate_token(session, plain[:-1] + ("A" if plain[-1] != "A" else "B")) is None
    audit_text = json.dumps([e.after for e in _audit(engine, "api_token.issue")])
    assert plain not in audit_text
    with transaction(engine) as session:
        revoke_token(session, ADMIN, token_id)
    with transaction(engine) as session:
        assert authenticate_token(session, plain) is None


def test_deactivated_user_token_stops_working(engine: Engine) -> None:
    with transaction(engine) as session:
        user = create_user(
            session,
            ADMIN,
            username="agen.api",
            role="agent",
            partner_code="W1",
            agent_code="A1",
            password=PASSWORD,
        ).user
        plain = issue_token(session, ADMIN, user.id, "hp").plain
        set_active(session, ADMIN, user.id, False)
    with transaction(engine) as session:
        assert authenticate_token(session, plain) is None


def test_cli_users_create_list_and_token(cli: Callable[..., CliResult]) -> None:
    made = cli("users", "create", "Wahyu", "--role", "regional", "--region", "SUMBAGSEL", "--json")
    assert made.exit_code == 0, made.stderr
    payload = json.loads(made.stdout)
    assert (payload["username"], payload["role"], payload["region_code"]) == (
        "wahyu",
        "regional",
        "SUMBAGSEL",
    )
    assert len(payload["password"]) == 16
    bad = cli("users", "create", "nobranch", "--role", "kabid")
    assert bad.exit_code == 2
    assert "branch_code" in bad.stderr
    assert bad.stdout == ""
    listed = json.loads(cli("users", "list", "--json").stdout)
    assert [row["username"] for row in listed] == ["wahyu"]
    token = cli("users", "token", "create", "wahyu", "--name", "laporan", "--json")
    assert token.exit_code == 0, token.stderr
    assert json.loads(token.stdout)["token"].startswith("ckp_")
    missing = cli("users", "token", "create", "nobody", "--name", "x")
    assert missing.exit_code == 1


def test_demo_users_are_created_once_with_a_private_password_file(
    engine: Engine, tmp_path: Path
) -> None:
    first = ensure_demo_users(engine, tmp_path)
    second = ensure_demo_users(engine, tmp_path)
    roles = {login.role for login in first.logins}
    assert {Role.ADMIN, Role.HEAD_OFFICE, Role.AUDITOR} <= roles
    assert [(x.username, x.password) for x in first.logins] == [
        (x.username, x.password) for x in second.logins
    ]
    path = tmp_path / "demo-logins.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with transaction(engine) as session:
        for login in first.logins:
            assert sign_in(session, login.username, login.password).role == login.role.value


def test_cli_demo_no_serve_prints_logins_and_exits(
    cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # PostgreSQL keeps logins there
    first = cli("demo", "--no-serve")
    assert first.exit_code == 0, first.stderr
    assert "http://127.0.0.1:8000/" in first.stdout
    for username in ("admin", "pusat", "auditor", "wilayah", "kabid", "pap"):
        assert f"  {username} " in first.stdout
    second = cli("demo", "--no-serve", "--port", "8080")
    assert second.exit_code == 0, second.stderr
    assert "http://127.0.0.1:8080/" in second.stdout
    admin_line = next(line for line in first.stdout.splitlines() if line.startswith("  admin "))
    assert admin_line in second.stdout  # same password on every start


def test_sign_in_is_throttled_after_repeated_failures(session: Session) -> None:
    from datetime import datetime, timedelta

    from cakupan.dates import JAKARTA, FixedClock

    clock = FixedClock(datetime(2026, 11, 26, 9, 0, tzinfo=JAKARTA))
    create_user(session, ADMIN, username="tari", role="auditor", password=PASSWORD, clock=clock)
    session.commit()
    for _ in range(5):
        with pytest.raises(CakupanError) as caught:
            sign_in(session, "tari", "wrong-password-x", clock=clock)
        assert caught.value.code == "wrong-credentials"
        session.commit()
    with pytest.raises(CakupanError) as caught:
        sign_in(session, "tari", PASSWORD, clock=clock)  # the right password, but throttled
    assert caught.value.code == "too-many-attempts"
    session.rollback()
    clock.advance(timedelta(minutes=16))
    assert sign_in(session, "tari", PASSWORD, clock=clock).username == "tari"


def test_cli_password_from_stdin(
    cli: Callable[..., CliResult], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    made = cli(
        "users", "create", "fajar", "--role", "pap", "--branch", "PLG", "--password-stdin", "--json"
    )
    assert made.exit_code == 0, made.stderr
    assert "password" not in json.loads(made.stdout)
    with transaction(engine) as session:
        assert sign_in(session, "fajar", PASSWORD).branch_code == "PLG"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    weak = cli("users", "create", "gita", "--role", "auditor", "--password-stdin")
    assert weak.exit_code == 2
    assert "password" in weak.stderr
    assert "short" not in weak.stderr  # the password is never echoed
