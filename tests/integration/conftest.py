"""Integration-test settings: cheap argon2 parameters (production uses argon2-cffi's defaults,
about half a second per hash on a busy machine; the rules under test do not depend on the cost)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cakupan.users.credentials import set_hash_parameters


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    restore = set_hash_parameters(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    restore()
