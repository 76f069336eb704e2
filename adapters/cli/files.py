"""`bangfu files shred`: erase a closed household file's personal data on request.

    bangfu files shred FILE_ID --reason TEXT [--unit CODE] [--user NAME]

It records who, when and why in the file's trail and destroys the file's data key
(crypto-shredding, docs/security.md); every event and hash stays, so the chain still verifies.
It acts as an admin of the file's district (or of `--unit`).

Exit status: 0 on success, 1 when refused (a file that may not be erased).
"""

from __future__ import annotations

import argparse
import getpass
from uuid import UUID

from rich.console import Console

from adapters.runtime.bootstrap import Runtime
from adapters.services.erasure import district_admin, erase_personal_data
from domain.errors import DomainError

console = Console()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `files shred` to `bangfu`'s subparsers."""
    f = sub.add_parser("files", help="household files: erase personal data on request")
    files = f.add_subparsers(dest="action", required=True)
    s = files.add_parser("shred", help="erase a closed file's personal data (destroy its key)")
    s.add_argument("file_id", type=UUID, help="the file's id")
    s.add_argument("--reason", required=True, help="why (no personal data: it is kept)")
    s.add_argument("--unit", help="the admin's unit (default: the file's district)")
    s.add_argument("--user", help="who asks (default: cli-<login name>)")


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    try:
        actor = await district_admin(
            rt.files, args.file_id, user=args.user or f"cli-{getpass.getuser()}", unit=args.unit
        )
        erased = await erase_personal_data(
            files=rt.files,
            clock=rt.clock,
            actor=actor,
            file_id=args.file_id,
            reason=args.reason,
            units=await rt.units.registry(actor.unit),
        )
    except DomainError as error:
        console.print(f"[red]refused:[/red] {error.zh} ({error.message})")
        return 1
    console.print(
        f"已销毁 personal data of file {erased.file_id} erased (version {erased.version},"
        f" {erased.erased_on.isoformat()}); the hash chain is unchanged."
    )
    if erased.plaintext_events:
        console.print(
            f"[yellow]{erased.plaintext_events} earlier event(s) of this file were stored before"
            " encryption: their personal data stays in the log (docs/security.md).[/yellow]"
        )
    return 0
