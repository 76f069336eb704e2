"""Accounts: who may manage whose account, how roles rank, and how strong a password must be.

A user account belongs to one unit and has one role (`domain.values.Role`). Accounts are local to
a node. The rules here are pure; storage, hashing and sessions are adapters
(`adapters/services/accounts.py`).

Who may manage whom (docs/security.md, "Accounts"):

1. only a role that may `Act.MANAGE_ACCOUNTS` (an admin) manages accounts at all (403, rule
   `role`) — asked first, so a role that may not manage learns nothing about any account;
2. an admin reaches the accounts of its own subtree only; any other account does not exist for
   it (404, exactly as for an account that does not exist);
3. an admin never grants a role ranked above its own, nor changes an account whose role ranks
   above its own (403, rule `role_above_own`). `sync` ranks above `admin`: a sync account is a
   machine account of an upstream node that receives every file of the subtree with the keys to
   its personal data, so only the node's operator creates one (`bangfu users create`);
4. an admin does not change its own role nor disable itself (403, rule `own_account`): the last
   admin of a unit cannot lock the unit out by a slip.
"""

from __future__ import annotations

import re
from enum import StrEnum

from domain.authorization import AUTHORISATION, Act
from domain.errors import InvalidValue, NotPermitted
from domain.units import UnitCode
from domain.values import Actor, Role

# Higher ranks hold more power over the subtree's data; equal ranks are peers.
ROLE_RANK: dict[Role, int] = {
    Role.CLERK: 1,
    Role.APPROVER: 2,
    Role.INSPECTOR: 2,
    Role.ADMIN: 3,
    Role.SYNC: 4,
}

ROLE_LABELS = {
    Role.CLERK: "经办人",
    Role.APPROVER: "审核人",
    Role.INSPECTOR: "抽查员",
    Role.ADMIN: "管理员",
    Role.SYNC: "同步账户",
}

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
NAME_PATTERN = NAME.pattern
MIN_PASSWORD = 10
MAX_PASSWORD = 128
MAX_DISPLAY_NAME = 50
# Passwords every guesser tries first (lower-cased; a password containing one is refused)
COMMON = (
    "password",
    "passw0rd",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "qwerty123",
    "abc123456",
    "11111111",
    "00000000",
    "88888888",
    "66666666",
    "iloveyou",
    "woaini",
    "admin123",
    "bangfu",
)


class AccountEvent(StrEnum):
    """What happened to an account: recorded with who did it and when."""

    CREATED = "created"
    ROLE_CHANGED = "role_changed"
    DISABLED = "disabled"
    ENABLED = "enabled"
    PASSWORD_RESET = "password_reset"  # noqa: S105 — by an admin or the operator: a new temporary password
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 — by the account's holder
    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKED = "locked"  # too many failed sign-ins: refused for a while
    SIGNED_OUT = "signed_out"
    TOKEN_MINTED = "token_minted"  # noqa: S105 — an event name, not a secret
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 — an event name, not a secret


EVENT_LABELS = {
    AccountEvent.CREATED: "创建账户",
    AccountEvent.ROLE_CHANGED: "变更角色",
    AccountEvent.DISABLED: "停用",
    AccountEvent.ENABLED: "重新启用",
    AccountEvent.PASSWORD_RESET: "重置密码",
    AccountEvent.PASSWORD_CHANGED: "修改密码",
    AccountEvent.SIGNED_IN: "登录",
    AccountEvent.SIGN_IN_FAILED: "登录失败",
    AccountEvent.LOCKED: "锁定",
    AccountEvent.SIGNED_OUT: "退出登录",
    AccountEvent.TOKEN_MINTED: "签发个人令牌",
    AccountEvent.TOKEN_REVOKED: "撤销个人令牌",
}


def check_name(name: str) -> str:
    """A user name: 2 to 64 letters, digits, dots, dashes or underscores, starting with a letter
    or digit (it appears in logs and in the trail of every file the user touches)."""
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidValue(
            "user",
            "2 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit",
            zh="用户名应为2至64位字母、数字或「.-_」，以字母或数字开头",
        )
    return name


def check_display_name(text: str) -> str:
    cleaned = text.strip()
    if len(cleaned) > MAX_DISPLAY_NAME or any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        raise InvalidValue("display_name", "at most 50 printable characters", zh="姓名最多50个字符")
    return cleaned


def check_password(password: str, *, user: str) -> None:
    """Refuse a weak password: shorter than 10 characters (or longer than 128), of one kind of
    character only (letters, digits, others: two kinds at least), fewer than 5 distinct
    characters, containing the user name, or containing a password every guesser tries first."""
    lowered = password.lower()
    kinds = sum(
        (
            any(c.isalpha() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        reason, zh = f"{MIN_PASSWORD} to {MAX_PASSWORD} characters", "密码长度应为10至128个字符"
    elif kinds < 2:
        reason, zh = (
            "at least two kinds of characters (letters, digits, others)",
            "密码应至少包含字母、数字、符号中的两类",
        )
    elif len(set(password)) < 5:
        reason, zh = "at least 5 different characters", "密码应至少包含5个不同字符"
    elif len(user) >= 3 and user.lower() in lowered:
        reason, zh = "must not contain the user name", "密码不能包含用户名"
    elif any(word in lowered for word in COMMON):
        reason, zh = "too common", "密码过于常见"
    else:
        return
    raise InvalidValue("password", reason, zh=zh)


def check_manager(manager: Actor) -> None:
    """Raise `NotPermitted` (rule `role`) unless `manager`'s role manages accounts."""
    if manager.role not in AUTHORISATION[Act.MANAGE_ACCOUNTS].roles:  # any level
        words = AUTHORISATION[Act.MANAGE_ACCOUNTS].role_refused
        raise NotPermitted("role", words.en, zh=words.zh)


def reaches(manager: Actor, unit: str) -> bool:
    """Whether an account of `unit` lies in `manager`'s subtree (else it does not exist for it)."""
    return UnitCode(unit).is_within(UnitCode(manager.unit))


def check_role(manager: Actor, role: Role) -> None:
    """Raise `NotPermitted` (rule `role_above_own`) if `role` ranks above `manager`'s own: used
    both for the role granted and for the role the managed account holds now."""
    if ROLE_RANK[role] > ROLE_RANK[manager.role]:
        raise NotPermitted(
            "role_above_own",
            f"an {manager.role} may not grant or manage the role '{role}', which ranks above"
            " its own",
            zh=f"不能授予或管理高于本人角色的角色「{ROLE_LABELS[role]}」",
        )


def check_not_own(manager: Actor, *, user: str, unit: str) -> None:
    """Raise `NotPermitted` (rule `own_account`) when `manager` would change its own role or
    disable its own account."""
    if manager.user == user and manager.unit == unit:
        raise NotPermitted(
            "own_account",
            "an admin may not change its own role nor disable its own account",
            zh="不能变更本人角色或停用本人账户",
        )
