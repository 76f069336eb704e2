"""The `bangfu` command line.

    bangfu serve [--host H] [--port P]                          the HTTP API (docs at /schema)
    bangfu token --unit CODE --role ROLE [--user U] [--ttl 8h]  mint a bearer token
    bangfu demo [--files N] [--seed S] [--if-empty] [--bulk]   build a realistic demo province
    bangfu verify [--attachments]                               check every hash chain (+ scans)
    bangfu summary                                              what is stored, by status
    bangfu migrate                                              apply schema migrations
    bangfu projections run [--every SECONDS]                    keep the read models up to date
    bangfu projections rebuild [ledger|statistics] [--files N]  rebuild read models from zero
    bangfu projections status                                   how far behind each read model is
    bangfu export ledger --unit CODE [--out FILE] [--status S]  the ledger of a subtree as xlsx
    bangfu spot-check --unit CODE [--sample N | --fraction F] [--seed S] [--as-of DATE]
                      [--status S] [--level L] [--out FILE]     spot-check files by replay
    bangfu reconcile LEDGER.xlsx --unit CODE --as-of DATE       paper ledger against the files
    bangfu import files FILE.xlsx --unit CODE                   bring in existing files
    bangfu forms print --file ID --form file --purpose WHY       a paper form (PDF) with its code
    bangfu forms verify CODE                                     does the paper match the file
    bangfu civil-affairs LIST.xlsx --unit CODE                  match a civil-affairs list
    bangfu sync pull --from URL --token T [--follow]            pull a downstream node
    bangfu sync status | new-epoch                              sync state; after a restore
    bangfu keys status | rotate | retire VERSION                keys of personal data
    bangfu files shred FILE_ID --reason TEXT                    erase a file's personal data
    bangfu users create | list | role | disable | enable | reset-password | events
                                                                accounts of this node
    bangfu units create CODE NAME [--level L] [--approves]      register a unit (13C01: 产业工会)
    bangfu units list [--root CODE]                             the units of a subtree

Each command group is one module of `adapters.cli`, named after the command's first word (`keys`,
`files`, `import` → `imports`, `spot-check` → `spotcheck`; `verify`, `summary` and `migrate` in
`database`), with `add_parser(sub)` and `run(…)`; this module only parses and dispatches.

With no BANGFU_DATABASE_URL, every command uses the embedded PostgreSQL in BANGFU_DATA_DIR
(default ./.bangfu). Exit status: 0 on success, 1 when `verify` finds a broken link, 2 on a
usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from rich.console import Console

from adapters.cli import (
    civil_affairs,
    database,
    demo,
    export,
    files,
    forms,
    imports,
    keys,
    projections,
    reconcile,
    records,
    serve,
    spotcheck,
    sync,
    token,
    units,
    users,
)
from adapters.runtime.bootstrap import runtime
from adapters.runtime.logging import configure
from adapters.runtime.settings import Settings
from adapters.sync.node import NodeSettings
from domain.errors import DomainError

console = Console(stderr=False)

# The commands that run against the database (`serve` and `token` need only the settings).
COMMANDS = {
    "demo": demo.run,
    "verify": database.run,
    "summary": database.run,
    "migrate": database.run,
    "projections": projections.run,
    "export": export.run,
    "spot-check": spotcheck.run,
    "reconcile": reconcile.run,
    "import": imports.run,
    "civil-affairs": civil_affairs.run,
    "sync": sync.run,
    "keys": keys.run,
    "files": files.run,
    "forms": forms.run,
    "meetings": records.run,
    "assessments": records.run,
    "users": users.run,
    "units": units.run,
}

# In the order `bangfu --help` lists them.
GROUPS = (
    demo,
    database,
    spotcheck,
    reconcile,
    imports,
    civil_affairs,
    sync,
    keys,
    files,
    forms,
    records,
    users,
    units,
    serve,
    projections,
    export,
    token,
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="bangfu", description="帮扶 — hardship-worker household files"
    )
    sub = top.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parser(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "files", 1) < 1:
        parser().error("--files must be at least 1")
    # the one place a command reads its settings from the environment (`bangfu serve`'s server
    # processes read theirs in `adapters.http.app.served`); the node's sync settings only for
    # the commands that use them
    settings = Settings.from_env()
    configure(json=settings.log_json)
    try:
        node = NodeSettings.from_env() if args.command == "sync" else NodeSettings()
    except DomainError as error:
        console.print(f"[red]error:[/red] {error.message}")
        return 2

    async def run() -> int:
        listen = args.command == "projections" and args.action == "run"
        async with runtime(settings, node=node, listen=listen) as rt:
            return await COMMANDS[args.command](rt, args)

    try:
        if args.command == "token":
            return token.run(settings, args)
        if args.command == "serve":
            return serve.run(settings, args)
        return asyncio.run(run())
    except RuntimeError as error:  # configuration problems, e.g. a data folder path too long
        console.print(f"[red]error:[/red] {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
