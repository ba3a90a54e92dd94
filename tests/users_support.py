"""One user per role for the web tests (integration and browser): the same shape everywhere."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import Engine

from cakupan.auth import Actor, Role
from cakupan.db import transaction
from cakupan.users import create_user


def create_role_users(
    engine: Engine,
    scopes: Mapping[Role, Mapping[str, str]],
    *,
    username_for: Callable[[Role], str],
    password: str,
    full_name_prefix: str = "Tester",
    by: str = "test",
) -> None:
    """Create a user of every role in ``scopes`` with that role's scope codes, in one
    transaction (audited like any user creation)."""
    with transaction(engine) as session:
        for role, scope in scopes.items():
            create_user(
                session,
                Actor.system(by),
                username=username_for(role),
                role=role.value,
                full_name=f"{full_name_prefix} {role.value}",
                password=password,
                **scope,
            )
