"""`bangfu meetings` and `bangfu assessments`: a union's own records (domain/unit_records.py).

    bangfu meetings record --unit 130306001 --held-on 2026-03-12 --place 会议室 --chair 刘建国 \\
        --recorder 陈丽 --attendee 刘建国 --attendee 陈丽 --attendee 王海燕 --expected 5 \\
        --summary "逐户评议" --vote FILE_ID:3:0:0 [--vote …]
    bangfu meetings list --unit 130306 [--period 2026]
    bangfu assessments record --unit 130306001 --period 2026 --recorded-on 2026-11-20 \\
        --item "预期目标|措施|完成情况" [--item …] [--opinion … --responsible … --liaison …]

Recorded as `--user` (default cli) with `--role` (default clerk) of the unit, exactly as the API
records them; refusals print the domain's reason and write nothing. Registered in `adapters.cli`
as `add_parser(sub)` and `run(rt, args)`.
"""

from __future__ import annotations

import argparse
from datetime import date
from uuid import UUID, uuid4

from rich.console import Console

from adapters.forms.unit import period_bounds
from adapters.pg.unit_records import PgUnitRecords
from adapters.runtime.bootstrap import Runtime
from domain.errors import DomainError
from domain.unit_records import AssessmentItem, Vote
from domain.values import Actor, Role

console = Console()
ROLES = [Role.CLERK.value, Role.APPROVER.value]


def _vote(text: str) -> Vote:
    try:
        file_id, in_favour, against, abstaining = text.split(":")
        return Vote(UUID(file_id), int(in_favour), int(against), int(abstaining))
    except ValueError:
        raise argparse.ArgumentTypeError(
            "a vote is FILE_ID:同意:不同意:弃权, e.g. 0f5e…:5:0:0"
        ) from None


def _item(text: str) -> AssessmentItem:
    parts = text.split("|")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError("an item is 预期目标|措施|完成情况")
    return AssessmentItem(parts[0], parts[1], parts[2] if len(parts) == 3 else "")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `meetings` and `assessments` subcommands to `bangfu`'s subparsers."""
    m = sub.add_parser(
        "meetings", help="民主评议会议记录: record a base union's meeting, list them"
    )
    actions = m.add_subparsers(dest="action", required=True)
    rec = actions.add_parser("record", help="record a 民主评议 meeting and its votes")
    rec.add_argument("--unit", required=True, help="the base-level union")
    rec.add_argument("--held-on", type=date.fromisoformat, required=True)
    rec.add_argument("--place", required=True)
    rec.add_argument("--chair", required=True, help="主持人")
    rec.add_argument("--recorder", required=True, help="记录人")
    rec.add_argument("--attendee", action="append", required=True, help="参会人员 (repeat)")
    rec.add_argument("--expected", type=int, required=True, help="应到人数")
    rec.add_argument("--summary", required=True, help="会议内容及评议情况")
    rec.add_argument(
        "--vote", type=_vote, action="append", required=True, help="FILE:for:against:abstain"
    )
    rec.add_argument("--meeting-id", type=UUID, help="the meeting's id (default: a new one)")
    rec.add_argument("--user", default="cli")
    rec.add_argument("--role", default=Role.CLERK.value, choices=ROLES)
    ls = actions.add_parser("list", help="the meetings of the unions within a unit")
    ls.add_argument("--unit", required=True)
    ls.add_argument("--period", help="2026, 2026-Q2 or 2026-05")
    a = sub.add_parser("assessments", help="解困脱困考核表: record a unit's goals and completion")
    a_actions = a.add_subparsers(dest="action", required=True)
    ar = a_actions.add_parser("record", help="record the unit's 考核表 for a period")
    ar.add_argument("--unit", required=True)
    ar.add_argument("--period", required=True, help="2026, 2026-Q2 or 2026-05")
    ar.add_argument("--recorded-on", type=date.fromisoformat, required=True)
    ar.add_argument("--item", type=_item, action="append", required=True, help="目标|措施|完成情况")
    ar.add_argument("--opinion", default="", help="帮扶单位意见")
    ar.add_argument("--responsible", default="", help="负责人")
    ar.add_argument("--liaison", default="", help="联络人")
    ar.add_argument("--reviewer-opinion", default="", help="考核单位意见")
    ar.add_argument("--user", default="cli")
    ar.add_argument("--role", default=Role.CLERK.value, choices=ROLES)


async def run(rt: Runtime, args: argparse.Namespace) -> int:
    records = PgUnitRecords(rt.store, rt.codec)
    try:
        if args.command == "assessments":
            found = await records.assess(
                actor=Actor(args.user, args.unit, Role(args.role)),
                clock=rt.clock,
                unit=args.unit,
                period=args.period,
                recorded_on=args.recorded_on,
                items=args.item,
                opinion=args.opinion,
                responsible=args.responsible,
                liaison=args.liaison,
                reviewer_opinion=args.reviewer_opinion,
            )
            console.print(f"考核表 {args.unit} · {found.period}：{len(found.items)}项已记录")
            return 0
        if args.action == "list":
            start, end = period_bounds(args.period) if args.period else (None, None)
            meetings = await records.meetings(
                actor=Actor("cli", args.unit, Role.INSPECTOR), unit=args.unit, start=start, end=end
            )
            for m in meetings:
                passed = sum(1 for v in m.votes if v.passed(m.present))
                console.print(
                    f"{m.meeting_id} · {m.unit} · {m.held_on.isoformat()} · {m.place} · "
                    f"实到{m.present}人 · 评议{len(m.votes)}户，通过{passed}户"
                )
            console.print(f"共{len(meetings)}次会议")
            return 0
        held = await records.record_meeting(
            actor=Actor(args.user, args.unit, Role(args.role)),
            clock=rt.clock,
            files=rt.files,
            unit=args.unit,
            meeting_id=args.meeting_id or uuid4(),
            held_on=args.held_on,
            place=args.place,
            chair=args.chair,
            recorder=args.recorder,
            attendees=args.attendee,
            expected=args.expected,
            summary=args.summary,
            votes=args.vote,
        )
    except DomainError as error:
        console.print(f"[red]error:[/red] {error.message}")
        return 2
    console.print(f"民主评议会议已记录：{held.meeting_id}（评议{len(held.votes)}户）")
    return 0
