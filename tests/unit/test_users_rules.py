"""Pure rules of the users area, masking and the page formats."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from cakupan.access import mask_nik, mask_phone, sees_unmasked
from cakupan.auth import Actor, Role
from cakupan.users.credentials import generate_password, hash_password, new_token, verify_password
from cakupan.users.rules import (
    USER_ROLES,
    UserScope,
    check_password,
    check_scope,
    check_username,
    clean_scope,
    looks_like_token,
    token_hash,
)
from cakupan.web.formatting import format_date, format_datetime
from cakupan.web.log_redaction import RedactingFormatter, redact


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (UserScope("admin"), []),
        (UserScope("head_office"), []),
        (UserScope("auditor"), []),
        (UserScope("regional", region_code="SUMBAGSEL"), []),
        (UserScope("regional"), [("region_code", "scope-required")]),
        (UserScope("kabid", branch_code="PLG"), []),
        (UserScope("ark"), [("branch_code", "scope-required")]),
        (
            UserScope("ar", branch_code="PLG", partner_code="X"),
            [("partner_code", "scope-not-allowed")],
        ),
        (UserScope("pap", branch_code="bad code"), [("branch_code", "invalid-code")]),
        (UserScope("partner", partner_code="BRI-01"), []),
        (UserScope("partner"), [("partner_code", "scope-required")]),
        (UserScope("agent", agent_code="AG-1"), [("partner_code", "scope-required")]),
        (UserScope("agent", partner_code="WDH-1", agent_code="AG-1"), []),
        (UserScope("admin", branch_code="PLG"), [("branch_code", "scope-not-allowed")]),
        (UserScope("system"), [("role", "invalid-role")]),
        (UserScope("boss"), [("role", "invalid-role")]),
    ],
)
def test_check_scope(scope: UserScope, expected: list[tuple[str, str]]) -> None:
    assert [(p.field, p.code) for p in check_scope(scope)] == expected


def test_every_person_role_is_listed_and_system_is_not() -> None:
    assert Role.SYSTEM not in USER_ROLES
    assert len(USER_ROLES) == 10


def test_clean_scope_blanks_become_none() -> None:
    assert clean_scope(UserScope(" KABID ", branch_code=" PLG ", agent_code="  ")) == UserScope(
        "kabid", branch_code="PLG"
    )


@pytest.mark.parametrize(
    ("username", "ok"),
    [
        ("siti.aminah", True),
        ("ab", False),
        ("Siti", False),
        ("-lead", False),
        ("a" * 61, False),
        ("ar_01", True),
    ],
)
def test_check_username(username: str, ok: bool) -> None:
    assert (check_username(username) == []) is ok


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("correct horse battery", 0),
        ("short1", 1),
        ("aaaaaaaaaaaa", 1),
        ("password123", 1),
        ("my-siti.aminah-pass", 1),  # contains the username
        ("x" * 129, 2),  # too long and one repeated character
    ],
)
def test_check_password(password: str, codes: int) -> None:
    problems = check_password(password, "siti.aminah")
    assert len(problems) == codes
    assert all(p.field == "password" and p.code == "weak-password" for p in problems)
    assert all(password not in p.message.render("en") for p in problems)


def test_password_hash_round_trip_and_wrong_password() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery").ok
    assert not verify_password(stored, "correct horse batter").ok
    assert not verify_password(None, "anything at all").ok
    assert not verify_password("not-a-hash", "anything at all").ok


def test_outdated_hash_is_replaced() -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(
        "correct horse battery"
    )
    check = verify_password(weak, "correct horse battery")
    assert check.ok
    assert check.new_hash is not None
    assert check.new_hash != weak


def test_generated_passwords_pass_the_rules_and_differ() -> None:
    made = {generate_password() for _ in range(20)}
    assert len(made) == 20
    assert all(check_password(p, "someone") == [] for p in made)


def test_generated_passwords_never_contain_a_short_username() -> None:
    # A one-letter username is inside almost every random draw; the generator must draw again.
    made = [generate_password(avoid="a") for _ in range(200)]
    assert all("a" not in p.lower() for p in made)
    assert all(check_password(p, "a") == [] for p in made)


def test_tokens_shape_hash_and_prefix() -> None:
    token = new_token()
    assert looks_like_token(token.plain)
    assert token.hash == token_hash(token.plain)
    assert len(token.hash) == 64
    assert token.prefix == token.plain[:12]
    assert token.prefix.startswith("ckp_")
    assert not looks_like_token("ckp_" + token.plain[4:-1])
    assert new_token().plain != token.plain


def test_mask_nik_and_phone() -> None:
    assert mask_nik("3577123456780001") == "3577********0001"
    assert mask_phone("081234567890") == "0812*****890"
    assert mask_phone("+6281234567890") == "+628*******890"
    assert mask_nik("1234") == "****"


@pytest.mark.parametrize(
    ("actor", "row_branch", "unmasked"),
    [
        (Actor("a", Role.AUDITOR), "PLG", True),
        (Actor("a", Role.ADMIN), None, True),
        (Actor("p", Role.PAP, branch_code="PLG"), "PLG", True),
        (Actor("p", Role.PAP, branch_code="PLG"), "BDL", False),
        (Actor("k", Role.KABID, branch_code="PLG"), "PLG", False),
        (Actor("h", Role.HEAD_OFFICE), "PLG", False),
        (Actor("m", Role.PARTNER, partner_code="X"), "PLG", False),
    ],
)
def test_who_sees_unmasked(actor: Actor, row_branch: str | None, unmasked: bool) -> None:
    assert sees_unmasked(actor, row_branch) is unmasked


def test_indonesian_dates() -> None:
    assert format_date(date(2026, 11, 26)) == "26 November 2026"
    assert format_date(date(2026, 8, 17)) == "17 Agustus 2026"
    assert format_date(date(2026, 8, 17), "en") == "17 August 2026"
    # 18:30 UTC on 31 December is already 1 January in Jakarta (UTC+7)
    assert format_date(datetime(2025, 12, 31, 18, 30, tzinfo=UTC)) == "1 Januari 2026"
    assert format_datetime(datetime(2026, 11, 26, 7, 5, tzinfo=UTC)) == "26 November 2026 14:05 WIB"


def test_log_redaction_masks_niks() -> None:
    assert redact("GET /x?nik=3577123456780001 200") == "GET /x?nik=3577********0001 200"
    assert redact("amount 12345678901234567") == "amount 12345678901234567"  # 17 digits: not a NIK
    record = logging.LogRecord(
        "cakupan.web", logging.INFO, __file__, 1, "nik %s", ("3577123456780001",), None
    )
    assert RedactingFormatter().format(record) == "nik 3577********0001"
    assert record.args == ("3577123456780001",)  # the record itself is left as it was
