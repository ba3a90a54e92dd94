"""Demo users for every role, with passwords generated once per data directory and kept (mode
0600) in ``demo-logins.json`` beside the database, so every start prints the same logins.

Scope codes come from what the database holds: the first branch (Palembang when present) and its
region from the offices reference data, and a partner with an agent under it from the partners
area. Roles whose codes do not exist yet are skipped with a note.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, select, text

from cakupan.auth import Actor, Role
from cakupan.db import transaction
from cakupan.users.actions import create_user, reset_password
from cakupan.users.models import User
from cakupan.users.rules import ROLE_LABELS

LOGINS_FILE_NAME = "demo-logins.json"
PREFERRED_BRANCH = "PLG"  # Palembang (domain brief, section 7)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: Role
    password: str
    scope: str


@dataclass(frozen=True)
class DemoUsers:
    logins: list[DemoLogin]
    notes: list[str]


@dataclass(frozen=True)
class _Codes:
    region: str | None
    branch: str | None
    partner: str | None
    agent: str | None


def _lookup_codes(engine: Engine) -> _Codes:
    # Read with plain SQL on the regions/partners tables so that the demo works whichever of
    # those areas are installed (a missing table just skips the roles that need it).
    tables = set(inspect(engine).get_table_names())
    region = branch = partner = agent = None
    with engine.connect() as conn:
        if "branch" in tables:
            row = conn.execute(
                text(
                    "SELECT code, region_code FROM branch "
                    "ORDER BY CASE WHEN code = :preferred THEN 0 ELSE 1 END, code LIMIT 1"
                ),
                {"preferred": PREFERRED_BRANCH},
            ).first()
            if row is not None:
                branch, region = row[0], row[1]
        if "partner" in tables:
            row = conn.execute(
                text(
                    "SELECT p.code, a.code FROM partner p JOIN partner a ON a.parent_code = p.code "
                    "ORDER BY CASE WHEN p.branch_code = :branch THEN 0 ELSE 1 END, p.code, a.code "
                    "LIMIT 1"
                ),
                {"branch": branch or ""},
            ).first()
            if row is not None:
                partner, agent = row[0], row[1]
    return _Codes(region, branch, partner, agent)


def logins_path(data_dir: Path) -> Path:
    return data_dir / LOGINS_FILE_NAME


def _load_passwords(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    loaded = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def _save_passwords(path: Path, passwords: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(passwords, handle, indent=2, sort_keys=True)
    os.chmod(temporary, 0o600)
    temporary.replace(path)


def ensure_demo_users(engine: Engine, data_dir: Path) -> DemoUsers:
    """Create the demo users that do not exist yet (one per role whose scope exists) and return
    every demo login with its password. Idempotent; passwords are generated on first creation."""
    codes = _lookup_codes(engine)
    plan: list[tuple[str, Role, dict[str, str | None]]] = [
        ("admin", Role.ADMIN, {}),
        ("pusat", Role.HEAD_OFFICE, {}),
        ("auditor", Role.AUDITOR, {}),
    ]
    notes: list[str] = []
    if codes.region and codes.branch:
        plan += [
            ("wilayah", Role.REGIONAL, {"region_code": codes.region}),
            ("kabid", Role.KABID, {"branch_code": codes.branch}),
            ("ark", Role.ARK, {"branch_code": codes.branch}),
            ("ar.demo", Role.AR, {"branch_code": codes.branch}),
            ("pap", Role.PAP, {"branch_code": codes.branch}),
        ]
    else:
        notes.append(
            "Belum ada kantor cabang: pengguna regional/kabid/ark/ar/pap dilewati / "
            "no branch offices yet: regional, kabid, ark, ar and pap users skipped."
        )
    if codes.partner and codes.agent:
        plan += [
            ("mitra", Role.PARTNER, {"partner_code": codes.partner}),
            ("agen", Role.AGENT, {"partner_code": codes.partner, "agent_code": codes.agent}),
        ]
    else:
        notes.append(
            "Belum ada mitra dengan agen: pengguna partner/agent dilewati / "
            "no partner with an agent yet: partner and agent users skipped."
        )
    path = logins_path(data_dir)
    passwords = _load_passwords(path)
    changed = False
    actor = Actor.system("demo")
    logins: list[DemoLogin] = []
    with transaction(engine) as session:
        for username, role, scope in plan:
            existing = session.scalar(select(User).where(User.username == username))
            if existing is None:
                created = create_user(
                    session,
                    actor,
                    username=username,
                    role=role.value,
                    full_name=f"Demo {ROLE_LABELS[role].id}",
                    region_code=scope.get("region_code"),
                    branch_code=scope.get("branch_code"),
                    partner_code=scope.get("partner_code"),
                    agent_code=scope.get("agent_code"),
                )
                passwords[username] = created.generated_password or ""
                changed = True
            elif username not in passwords:
                passwords[username] = reset_password(session, actor, existing.id) or ""
                changed = True
            logins.append(
                DemoLogin(
                    username, role, passwords[username], " ".join(v for v in scope.values() if v)
                )
            )
        if changed:
            _save_passwords(path, passwords)
    return DemoUsers(logins=logins, notes=notes)
