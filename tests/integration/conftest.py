"""Integration-test settings: cheap argon2 parameters (production uses argon2-cffi's defaults,
about half a second per hash on a busy machine; the rules under test do not depend on the cost)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from cakupan.users.credentials import set_hash_parameters


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    restore = set_hash_parameters(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    restore()


@pytest.fixture(scope="session", autouse=True)
def _loopback_webhooks() -> Iterator[None]:
    """The webhook tests deliver to a loopback receiver over http: allowed here, refused by the
    production defaults (docs/security.md; test_security_webhooks sets those back)."""
    from cakupan.settings import get_settings

    saved = {k: os.environ.get(k) for k in _WEBHOOK_ENV}
    os.environ.update(_WEBHOOK_ENV)
    get_settings.cache_clear()
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    get_settings.cache_clear()


_WEBHOOK_ENV = {
    "CAKUPAN_WEBHOOK_HTTPS_ONLY": "false",
    "CAKUPAN_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
}
