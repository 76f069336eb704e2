"""`bangfu keys …`: the keys of personal data.

    bangfu keys status                 KEK versions configured, data keys under each, erased
    bangfu keys rotate                 a new KEK version (data folder), every data key re-wrapped
    bangfu keys retire VERSION         drop an old KEK version once nothing is wrapped under it

`rotate` with the keys in the data folder adds version N+1 to `<data folder>/pii_keys` and
re-wraps every data key under it (running processes pick the new version up within a second).
With `BANGFU_PII_KEYS`, add the new version there and restart the service first; `rotate` then
re-wraps everything under the highest configured version. Payloads and hashes never change.

Erasing one file's personal data (destroying its data key) is `bangfu files shred`
(`adapters.cli.files`).

Exit status: 0 on success, 1 when refused (a key still in use, a KEK that does not match).
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from adapters.cli import progress
from adapters.pii.sealing import KeyProblem
from adapters.runtime.bootstrap import Runtime
from adapters.runtime.secrets import add_pii_key, retire_pii_key

console = Console()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `keys status | rotate | retire` to `bangfu`'s subparsers."""
    k = sub.add_parser("keys", help="keys of personal data: status, rotation, retiring")
    actions = k.add_subparsers(dest="action", required=True)
    actions.add_parser("status", help="KEK versions and the data keys wrapped under each")
    actions.add_parser("rotate", help="a new KEK version; every data key re-wrapped under it")
    r = actions.add_parser("retire", help="drop a KEK version nothing is wrapped under any more")
    r.add_argument("version", type=int, help="the KEK version to retire")


async def _status(rt: Runtime, args: argparse.Namespace) -> int:
    status = await rt.keyring.status()
    table = Table(title=f"个人信息密钥 personal-data keys — {status.source}")
    table.add_column("KEK version")
    table.add_column("data keys wrapped under it", justify="right")
    for version in sorted(set(status.configured) | set(status.by_version)):
        mark = " (current)" if version == status.current else ""
        mark += " (NOT CONFIGURED)" if version in status.missing else ""
        table.add_row(f"{version}{mark}", f"{status.by_version.get(version, 0):,}")
    table.add_row("erased (key destroyed)", f"{status.shredded:,}")
    console.print(table)
    if status.missing:
        console.print(
            f"[red]KEK version(s) {', '.join(map(str, status.missing))} are not configured:"
            " the personal data of those files cannot be read.[/red]"
        )
        return 1
    return 0


async def _rotate(rt: Runtime, args: argparse.Namespace) -> int:
    keyring = rt.keyring
    if keyring.keks.source != "BANGFU_PII_KEYS":
        # the new key is on disk before anything is wrapped under it
        keyring.keks = add_pii_key(keyring.keks)
        console.print(f"新密钥版本 new KEK version {keyring.keks.current} in {keyring.keks.source}")
    async with rt.pool.acquire() as conn:
        await keyring.check(conn)
    waiting = sum(
        n for v, n in (await keyring.status()).by_version.items() if v != keyring.keks.current
    )
    with progress.bar() as bar:
        task = bar.add_task("重新封装数据密钥 re-wrapping data keys", total=waiting)
        done = await keyring.rewrap(progress=lambda n: bar.advance(task, n))
    console.print(
        f"{done:,} data keys re-wrapped under KEK version {keyring.keks.current};"
        " no event was changed. Retire the old version with `bangfu keys retire`."
    )
    return 0


async def _retire(rt: Runtime, args: argparse.Namespace) -> int:
    keyring = rt.keyring
    status = await keyring.status()
    version = args.version
    if version == status.current:
        console.print(f"[red]KEK version {version} is the current one: rotate first.[/red]")
        return 1
    if status.by_version.get(version):
        console.print(
            f"[red]{status.by_version[version]:,} data keys are still wrapped under version"
            f" {version}: run `bangfu keys rotate` first.[/red]"
        )
        return 1
    if keyring.keks.source == "BANGFU_PII_KEYS":
        console.print(
            f"Nothing is wrapped under version {version} any more: remove it from"
            " BANGFU_PII_KEYS and restart the service."
        )
    elif version in keyring.keks.keys:
        keyring.keks = retire_pii_key(keyring.keks, version)
        console.print(f"KEK version {version} removed from {keyring.keks.source}.")
    await keyring.forget_kek(version)
    return 0


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    action = {"status": _status, "rotate": _rotate, "retire": _retire}[args.action]
    try:
        return await action(rt, args)
    except KeyProblem as error:
        console.print(f"[red]error:[/red] {error}")
        return 1
