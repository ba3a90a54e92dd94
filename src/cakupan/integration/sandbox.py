"""The partner API sandbox of the demo: a test partner (``SANDBOX``) with a client user and an
API token kept (mode 0600) beside the demo logins, so every ``cakupan demo`` prints the same key.

The sandbox partner is an ordinary partner client: it sees only what it registers itself (and
the agency's own registrations), so trying the API never touches another partner's records.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from cakupan.auth import Actor, Role
from cakupan.db import transaction
from cakupan.users import authenticate_token, create_user, issue_token
from cakupan.users.models import User

__all__ = ["SANDBOX_PARTNER", "SANDBOX_USER", "SandboxKey", "ensure_sandbox_key", "print_sandbox"]

SANDBOX_PARTNER = "SANDBOX"
SANDBOX_USER = "sandbox.mitra"
KEY_FILE_NAME = "demo-partner-api.json"


@dataclass(frozen=True)
class SandboxKey:
    username: str
    partner_code: str
    token: str
    path: Path


def _load(path: Path) -> str | None:
    if not path.exists():
        return None
    loaded = json.loads(path.read_text(encoding="utf-8"))
    token = loaded.get("token") if isinstance(loaded, dict) else None
    return token if isinstance(token, str) else None


def _save(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"username": SANDBOX_USER, "token": token}, handle, indent=2)
    os.chmod(temporary, 0o600)
    temporary.replace(path)


def ensure_sandbox_key(engine: Engine, data_dir: Path) -> SandboxKey:
    """The sandbox partner client and a working API token (created or re-issued when the kept
    one no longer authenticates). Idempotent."""
    path = data_dir / KEY_FILE_NAME
    actor = Actor.system("demo")
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == SANDBOX_USER))
        if user is None:
            user = create_user(
                session,
                actor,
                username=SANDBOX_USER,
                role=Role.PARTNER.value,
                full_name="Sandbox partner API",
                partner_code=SANDBOX_PARTNER,
            ).user
        token = _load(path)
        if token is None or authenticate_token(session, token) is None:
            token = issue_token(session, actor, user.id, "sandbox").plain
            _save(path, token)
    return SandboxKey(SANDBOX_USER, SANDBOX_PARTNER, token, path)


def print_sandbox(engine: Engine, data_dir: Path, base_url: str) -> SandboxKey:
    """Print the sandbox partner key and a first call to try (for ``cakupan demo``)."""
    from cakupan.cli.common import console

    key = ensure_sandbox_key(engine, data_dir)
    console.print("\nSandbox API mitra / partner API sandbox (docs/partner-api.md):", markup=False)
    console.print(f"  mitra/partner {key.partner_code}, token {key.token}", markup=False)
    console.print(
        f'  curl -H "Authorization: Bearer {key.token}" '
        f'"{base_url}api/v1/reconciliation?date=2026-11-26"',
        markup=False,
    )
    return key
