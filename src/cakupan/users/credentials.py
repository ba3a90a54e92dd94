"""Making and checking secrets: argon2id password hashes, generated passwords, API tokens.

Hash parameters are argon2-cffi's defaults (RFC 9106 low-memory profile); a hash made with other
parameters is replaced at the next successful sign-in (:func:`verify_password` says so).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cakupan.users.rules import TOKEN_DISPLAY_LENGTH, TOKEN_PREFIX, token_hash

_HASHER = PasswordHasher()
# Verified when a username does not exist, so that a wrong username costs as much as a wrong
# password (no user enumeration by timing). Made on first use, with the current parameters.
_DUMMY_HASH: str | None = None

#: Alphabet of generated passwords: no look-alikes (0/O, 1/l/I).
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def set_hash_parameters(
    *, time_cost: int, memory_cost: int, parallelism: int
) -> Callable[[], None]:
    """Use other argon2 parameters from now on (test suites use cheap ones; hashes made with the
    defaults still verify and are rehashed). Returns a function restoring the previous ones."""
    global _HASHER, _DUMMY_HASH
    previous, previous_dummy = _HASHER, _DUMMY_HASH
    _HASHER = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _DUMMY_HASH = None

    def restore() -> None:
        global _HASHER, _DUMMY_HASH
        _HASHER, _DUMMY_HASH = previous, previous_dummy

    return restore


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _HASHER.hash("cakupan-no-such-user")
    return _DUMMY_HASH


def hash_password(password: str) -> str:
    """An argon2id PHC string for ``password``."""
    return _HASHER.hash(password)


@dataclass(frozen=True)
class PasswordCheck:
    """Outcome of checking a password: whether it matched, and a new hash when the stored one was
    made with outdated parameters."""

    ok: bool
    new_hash: str | None = None


def verify_password(stored_hash: str | None, password: str) -> PasswordCheck:
    """Check ``password`` against ``stored_hash`` (``None``: no such user; costs the same)."""
    try:
        _HASHER.verify(stored_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return PasswordCheck(ok=False)
    if stored_hash is None:
        return PasswordCheck(ok=False)
    if _HASHER.check_needs_rehash(stored_hash):
        return PasswordCheck(ok=True, new_hash=_HASHER.hash(password))
    return PasswordCheck(ok=True)


def generate_password(length: int = 16, *, avoid: str = "") -> str:
    """A random password (about 93 bits at 16 characters) that passes the password rules.

    ``avoid`` is the username it is for: a short username (``ark``) can turn up inside a random
    string, which the rules refuse, so such a draw is thrown away and drawn again."""
    avoid = avoid.strip().lower()
    while True:
        candidate = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))
        if avoid and avoid in candidate.lower():
            continue
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


@dataclass(frozen=True)
class NewToken:
    """A freshly made API token: ``plain`` is shown once and never stored."""

    plain: str
    hash: str
    prefix: str


def new_token() -> NewToken:
    """A new API token ``ckp_<8 hex>_<43 url-safe>`` (256 random bits plus a lookup prefix)."""
    plain = f"{TOKEN_PREFIX}{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
    return NewToken(plain=plain, hash=token_hash(plain), prefix=plain[:TOKEN_DISPLAY_LENGTH])
