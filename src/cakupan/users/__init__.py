"""Users, roles, passwords and API tokens: who can sign in and with which scope.

Other areas use :class:`cakupan.auth.Actor` (``Actor.for_user(user)``) and :mod:`cakupan.access`
to scope their reads; they never write these tables directly.
"""

from cakupan.users.actions import (
    CreatedUser,
    IssuedToken,
    authenticate_token,
    change_own_password,
    create_user,
    issue_token,
    record_sign_out,
    reset_password,
    revoke_token,
    set_active,
    set_language,
    sign_in,
    update_user,
    user_public,
)
from cakupan.users.models import ApiToken, User
from cakupan.users.queries import active_user, list_users, tokens_of, user_by_username
from cakupan.users.rules import PASSWORD_RULES, REQUIRED_SCOPE, ROLE_LABELS, USER_ROLES

__all__ = [
    "PASSWORD_RULES",
    "REQUIRED_SCOPE",
    "ROLE_LABELS",
    "USER_ROLES",
    "ApiToken",
    "CreatedUser",
    "IssuedToken",
    "User",
    "active_user",
    "authenticate_token",
    "change_own_password",
    "create_user",
    "issue_token",
    "list_users",
    "record_sign_out",
    "reset_password",
    "revoke_token",
    "set_active",
    "set_language",
    "sign_in",
    "tokens_of",
    "update_user",
    "user_by_username",
    "user_public",
]
