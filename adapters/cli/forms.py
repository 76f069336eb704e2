"""`bangfu forms`: print the seeds' paper forms from the events, and verify a printed one.

    bangfu forms print --file ID --form file [--version N] --purpose "…" --out file.pdf
    bangfu forms print --unit 130306001 --form file --purpose "…" --out unit.pdf   (every file)
    bangfu forms print --unit 130306 --form publicity --period 2026-Q2 --purpose "…"
    bangfu forms print --unit 130306001 --form minutes --period 2026 --purpose "…"   (also
        tasks, assessment, ledger; `--out tasks.xlsx` prints the 任务清单 as a workbook)
    bangfu forms verify K7PD-3QX9-M2AB          (or --token TOKEN, as the QR code holds it)

Printing runs as `--role` (default inspector) of `--as-unit` (default the unit printed, or the
file's unit) and is recorded on each printed file's trail, exactly as the API records it.
Registered in `adapters.cli` as `add_parser(sub)` and `run(rt, args)`.
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path
from uuid import UUID

from rich.console import Console

from adapters.cli import progress
from adapters.forms.codes import FormKey
from adapters.runtime.bootstrap import Runtime
from adapters.runtime.secrets import load_secret
from adapters.services import forms as printing
from domain.errors import DomainError
from domain.printing import FORM_TITLES, HouseholdForm, UnitForm
from domain.values import Actor, Role

console = Console()


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `forms` subcommand to `bangfu`'s subparsers."""
    p = sub.add_parser("forms", help="打印表单与核验: print paper forms, verify a printed one")
    actions = p.add_subparsers(dest="action", required=True)
    pr = actions.add_parser("print", help="print a household's or a unit's form as PDF")
    target = pr.add_mutually_exclusive_group(required=True)
    target.add_argument("--file", type=UUID, help="one household file")
    target.add_argument(
        "--unit",
        help="a unit: its form (publicity, minutes, tasks, assessment, ledger) or every file's",
    )
    pr.add_argument(
        "--form",
        required=True,
        choices=[*(f.value for f in HouseholdForm), *(f.value for f in UnitForm)],
    )
    pr.add_argument("--version", type=int, help="the file as of this version (default: now)")
    pr.add_argument("--period", help="a unit form's period: 2026, 2026-Q2 or 2026-05")
    pr.add_argument("--purpose", required=True, help="why the personal data is printed")
    pr.add_argument("--zip", action="store_true", help="a unit's files: one PDF per file in a zip")
    pr.add_argument("--out", type=Path, help="where to write (default FORM-….pdf)")
    pr.add_argument("--user", default="cli", help="recorded as the printer (default cli)")
    pr.add_argument("--as-unit", help="the printer's unit (default: the unit printed)")
    pr.add_argument(
        "--role",
        default=Role.INSPECTOR.value,
        choices=[Role.CLERK.value, Role.APPROVER.value, Role.INSPECTOR.value],
    )
    ve = actions.add_parser("verify", help="does a printed form match the electronic file")
    ve.add_argument("code", nargs="?", help="the short code printed on the page")
    ve.add_argument("--token", help="or the token the page's QR code holds")
    ve.add_argument("--unit", default="", help="the verifier's unit (default: the print's)")


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    try:
        if args.action == "verify":
            return await _verify(rt, args)
        return await _print(rt, args)
    except DomainError as error:
        console.print(f"[red]error:[/red] {error.message}")
        return 2


async def _print(rt: Runtime, args: argparse.Namespace) -> int:
    key = FormKey.from_secret(load_secret(rt.settings.secret, rt.settings.data_dir))
    if args.file is not None:
        household = await rt.files.get(args.file)
        actor = Actor(args.user, args.as_unit or household.establishing_unit, Role(args.role))
        printed = await printing.print_household(
            rt,
            key,
            actor=actor,
            file_id=args.file,
            form=HouseholdForm(args.form),
            version=args.version,
            purpose=args.purpose,
        )
        out = args.out or Path(f"{args.form}-{args.file}.pdf")
        out.write_bytes(printed.pdf)
        console.print(f"{FORM_TITLES[args.form]} → {out} · 核验码 {printed.code}")
        return 0
    actor = Actor(args.user, args.as_unit or args.unit, Role(args.role))
    if args.form in {f.value for f in UnitForm}:
        if not args.period:
            console.print("[red]error:[/red] a unit form needs --period")
            return 2
        sheet = args.out is not None and args.out.suffix.lower() == ".xlsx"
        printed = await printing.print_unit(
            rt,
            key,
            actor=actor,
            unit=args.unit,
            form=UnitForm(args.form),
            period=args.period,
            purpose=args.purpose,
            sheet=sheet,
        )
        out = args.out or Path(f"{args.form}-{args.unit}-{args.period}.pdf")
        out.write_bytes(printed.pdf)
        console.print(
            f"{FORM_TITLES[args.form]}：{printed.files}户 → {out} · 核验码 {printed.code}"
        )
        return 0
    with progress.bar() as bar:
        task = bar.add_task(f"打印{FORM_TITLES[args.form]}", total=None)
        printed_all = await printing.print_unit_files(
            rt,
            key,
            actor=actor,
            unit=args.unit,
            form=HouseholdForm(args.form),
            purpose=args.purpose,
            progress=progress.done_of(bar, task),
            separate=args.zip,
        )
    out = args.out or Path(f"{args.form}-{args.unit}.{'zip' if args.zip else 'pdf'}")
    if args.zip:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, pdf in printed_all.parts:
                archive.writestr(f"{name}.pdf", pdf)
    else:
        out.write_bytes(printed_all.pdf)
    console.print(f"{FORM_TITLES[args.form]}：{printed_all.files}户 → {out}")
    return 0


async def _verify(rt: Runtime, args: argparse.Namespace) -> int:
    if not args.code and not args.token:
        console.print("[red]error:[/red] give the short code or --token")
        return 2
    # the CLI runs on the server: it verifies as an inspector of the print's own unit
    unit = args.unit or await printing.print_unit_of(rt, code=args.code, token=args.token)
    checked = await printing.verify(
        rt, actor=Actor("cli", unit, Role.INSPECTOR), code=args.code, token=args.token
    )
    console.print(
        f"核验码 {checked.code} · {FORM_TITLES.get(checked.form, checked.form)} · "
        f"{checked.printed_by} 于 {checked.printed_on} 打印（{checked.purpose}）"
    )
    for f in checked.files:
        state = "一致" if f.matches else "[red]不一致[/red]"
        line = f"  档案 {f.file_id} 第{f.version}版：与电子档案{state}"
        if f.changes:
            kinds = "、".join(f"第{c.version}版 {c.type}" for c in f.changes)
            line += f"；此后已变更（纸质档案已过时）：{kinds}"
        console.print(line)
    return 0 if checked.matches else 1
