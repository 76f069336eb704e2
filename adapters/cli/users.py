"""`bangfu users …`: the node's operator manages accounts from the server's shell.

    bangfu users create --user U --unit CODE --role ROLE [--display-name N]   prints the password
    bangfu users list [--unit CODE]
    bangfu users role USER ROLE
    bangfu users disable USER | enable USER
    bangfu users reset-password USER                                          prints the password
    bangfu users events USER

The operator acts with the node's own authority (it could read the database anyway): any unit,
any role — the first admin of a fresh node, and sync accounts, are made here
(docs/operations.md, "Accounts"). Every change is recorded as made by `operator:<login>`.
A password is printed once; an account made or reset here changes it at its first sign-in.

`bangfu demo` also makes one demo account per role (`demo_accounts`), with passwords generated
then and kept in the data folder, readable by its owner only.
"""

from __future__ import annotations

import argparse
import getpass
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from adapters.runtime.bootstrap import Runtime
from adapters.services.accounts import AccountService
from domain.accounts import EVENT_LABELS, ROLE_LABELS
from domain.errors import DomainError
from domain.values import Role

console = Console()

DEMO_FILE = "demo_accounts.json"
# (title, user, unit, role): one account per role of the demo province
DEMO_ACCOUNTS = (
    ("基层工会经办人 base-level clerk", "clerk-li", "130306001", Role.CLERK),
    ("区总工会审核人 district approver", "approver-wang", "130306", Role.APPROVER),
    ("省总工会抽查员 province inspector", "inspector-zhao", "13", Role.INSPECTOR),
    ("省总工会管理员 province admin", "admin-sun", "13", Role.ADMIN),
)


def service(rt: Runtime) -> AccountService:
    return rt.accounts


def add_parser(sub: Any) -> None:
    u = sub.add_parser("users", help="accounts of this node (the operator's authority)")
    actions = u.add_subparsers(dest="action", required=True)
    c = actions.add_parser("create", help="create an account; prints its first password")
    c.add_argument("--user", required=True, help="user name, e.g. admin-sun")
    c.add_argument("--unit", required=True, help="unit code, e.g. 13")
    c.add_argument("--role", required=True, choices=[r.value for r in Role])
    c.add_argument("--display-name", default="", help="the person's name, e.g. 孙静")
    ls = actions.add_parser("list", help="the accounts of a subtree")
    ls.add_argument("--unit", default=None, help="root of the subtree (default: every account)")
    r = actions.add_parser("role", help="change an account's role")
    r.add_argument("user")
    r.add_argument("role", choices=[r.value for r in Role])
    for name, text in (
        ("disable", "disable an account (its sessions end)"),
        ("enable", "re-enable an account"),
        ("reset-password", "a new temporary password (printed)"),
        ("events", "every change of an account, who did it and when"),
    ):
        actions.add_parser(name, help=text).add_argument("user")


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    try:
        return await _act(rt, args)
    except DomainError as error:
        console.print(f"[red]error:[/red] {error.message}")
        return 2


async def _act(rt: Runtime, args: argparse.Namespace) -> int:
    accounts = service(rt)
    operator = getpass.getuser()
    if args.action == "create":
        created, password = await accounts.create(
            None,
            user=args.user,
            unit=args.unit,
            role=Role(args.role),
            display_name=args.display_name,
            operator=operator,
        )
        console.print(
            f"已创建账户 {created.name}（{created.unit}，{ROLE_LABELS[created.role]}）"
            f" created {created.name} ({created.unit}, {created.role.value})"
        )
        console.print("初始密码 first password (shown once; changed at first sign-in):")
        print(password)
        return 0
    if args.action == "list":
        return await _list(rt, args.unit)
    account = await accounts.by_name(args.user)
    if account is None:
        console.print(f"[red]error:[/red] no account {args.user}")
        return 2
    if args.action == "role":
        await accounts.change(None, account.id, role=Role(args.role), operator=operator)
    elif args.action in {"disable", "enable"}:
        disabled = args.action == "disable"
        await accounts.change(None, account.id, disabled=disabled, operator=operator)
    elif args.action == "reset-password":
        _, password = await accounts.reset_password(None, account.id, operator=operator)
        console.print("新的临时密码 new temporary password (shown once):")
        print(password)
        return 0
    elif args.action == "events":
        table = Table(title=f"账户记录 events of {account.name}")
        for column in ("时间 at", "事件 event", "操作人 by", "地址 address", "详情 detail"):
            table.add_column(column)
        for event in await accounts.events(None, account.id):
            table.add_row(
                event.at.isoformat(timespec="seconds"),
                f"{EVENT_LABELS[event.kind]} ({event.kind.value})",
                f"{event.by_user} {event.by_unit}".strip(),
                event.address,
                json.dumps(event.detail, ensure_ascii=False) if event.detail else "",
            )
        console.print(table)
        return 0
    console.print(f"已完成 done: {args.action} {account.name}")
    return 0


async def _list(rt: Runtime, unit: str | None) -> int:
    table = Table(title="账户 accounts")
    for column in ("用户名 user", "姓名 name", "单位 unit", "角色 role", "状态 state"):
        table.add_column(column)
    for account in await rt.accounts.store.subtree(unit or ""):
        table.add_row(
            account.name,
            account.display_name,
            account.unit,
            f"{ROLE_LABELS[account.role]} ({account.role.value})",
            "停用 disabled" if account.disabled_at else "启用 enabled",
        )
    console.print(table)
    return 0


async def ensure_demo_accounts(rt: Runtime) -> list[dict[str, str]]:
    """One demo account per role, with a password generated now and written to the data folder
    (mode 0600). Accounts already there keep their password while the file holds it; one whose
    password was lost gets a new one."""
    path = rt.settings.data_dir / DEMO_FILE
    known: dict[str, str] = {}
    if path.exists():
        known = {a["user"]: a["password"] for a in json.loads(path.read_text(encoding="utf-8"))}
    accounts = service(rt)
    written: list[dict[str, str]] = []
    for title, user, unit, role in DEMO_ACCOUNTS:
        existing = await accounts.by_name(user)
        if existing is None:
            _, password = await accounts.create(
                None, user=user, unit=unit, role=role, must_change=False, operator="demo"
            )
        elif user in known:
            password = known[user]
        else:
            _, password = await accounts.reset_password(None, existing.id, operator="demo")
            await accounts.store.pool.execute(
                "UPDATE accounts SET must_change = false WHERE id = $1", existing.id
            )
        written.append(
            {"title": title, "user": user, "unit": unit, "role": role.value, "password": password}
        )
    _write_private(path, json.dumps(written, ensure_ascii=False, indent=2) + "\n")
    return written


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".new")
    temporary.unlink(missing_ok=True)
    temporary.touch(mode=0o600)
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def demo_accounts(data_dir: Path) -> list[dict[str, str]]:
    """The demo accounts written by `bangfu demo`, if any."""
    path = data_dir / DEMO_FILE
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")))
