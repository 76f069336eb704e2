"""Running a civil-affairs list (民政比对) against the files of a subtree.

The list is read with `adapters.sheets` (身份证号码, 比对类型, 日期), each number hashed with the
keyed hash and looked up among the people of the ledger (`ledger_people`: heads and members) of
the running unit's subtree; each matched file is replayed from its events (its exclusion
answers are not in the ledger) and the match assessed (`domain.civil_affairs.assess`). The run is
recorded in the running unit's own stream, every match referring to its file, in one append.
"""

# ruff: noqa: S608 — the SQL here is built from constants and `subtree_sql` only.

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import structlog

from adapters.pg.codec import EventCodec
from adapters.pg.repository import PgFileRepository, replay
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import subtree_sql
from adapters.sheets import reading as sheets
from domain.civil_affairs import (
    ACT,
    RECORD_LABELS,
    CivilAffairsMatch,
    Match,
    Record,
    assess,
    authorise_matching,
)
from domain.errors import InvalidValue
from domain.household import HouseholdFile
from domain.units import UnitCode
from domain.values import Actor

log = structlog.get_logger(__name__)

LIST_COLUMNS = sheets.Columns(
    {
        "id_number": ("身份证号码", "身份证号", "公民身份号码"),
        "record": ("比对类型", "比对结果", "类型", "情况"),
        "said_on": ("日期", "登记日期", "比对日期"),
        "name": ("姓名",),
    },
    required=("id_number", "record"),
)
_PEOPLE = (
    "SELECT p.id_hash, p.file_id, p.role, l.unit FROM ledger_people p"
    " JOIN ledger l ON l.file_id = p.file_id"
    f" WHERE p.id_hash = ANY($2::bytea[]) AND {subtree_sql('l.unit', '$1')}"
)


def record_of(value: str, column: str) -> Record:
    for record, labels in RECORD_LABELS.items():
        if value in labels:
            return record
    raise sheets.CellError(
        column, f"无法识别的比对类型：{value}（可填：低保、房产、车辆、工商登记、死亡）"
    )


async def run_matching(
    *,
    store: PostgresEventStore,
    codec: EventCodec,
    hasher: Callable[[str], bytes],
    actor: Actor,
    scope: str,
    data: bytes,
    name: str,
) -> tuple[CivilAffairsMatch, list[sheets.RowError]]:
    """Match the list against the subtree's files, record the run; the run and the list's
    unreadable rows."""
    unit = UnitCode(scope)
    authorise_matching(actor, unit)
    try:
        table = sheets.read_table(sheets.grid_of(data, name), LIST_COLUMNS)
    except sheets.CellError as error:
        raise InvalidValue("file", error.reason, zh=error.reason) from None
    except (ValueError, KeyError, OSError) as error:
        raise InvalidValue("file", f"unreadable: {error}", zh="无法读取该表格文件") from None
    h = LIST_COLUMNS.header
    entries: list[tuple[int, bytes, Record, Any]] = []
    errors: list[sheets.RowError] = []
    for row, cells in table.rows:
        try:
            number = sheets.id_number(cells["id_number"], h("id_number"))
            record = record_of(cells["record"], h("record"))
            said_on = sheets.day(cells.get("said_on", ""), h("said_on"))
        except sheets.CellError as error:
            errors.append(sheets.RowError(row, error.column, error.reason))
            continue
        entries.append((row, hasher(number), record, said_on))
    people = await store.pool.fetch(_PEOPLE, unit.value, list({e[1] for e in entries}))
    by_hash: dict[bytes, list[Any]] = {}
    for p in people:
        by_hash.setdefault(bytes(p["id_hash"]), []).append(p)
    streams = await store.read_streams(list({p["file_id"] for p in people}))
    files = {
        file_id: cast(HouseholdFile, replay(codec, events)) for file_id, events in streams.items()
    }
    run = CivilAffairsMatch.start(
        actor=actor, scope=unit.value, source=name[:200], list_rows=len(table.rows)
    )
    for row, key, record, said_on in entries:
        for p in by_hash.get(key, ()):
            household = files.get(p["file_id"])
            if household is None:
                continue
            run.record(
                Match(
                    row,
                    household.id,
                    household.establishing_unit,
                    p["role"],
                    record,
                    said_on,
                    assess(record, household, p["role"]),
                )
            )
    run.complete()
    await PgFileRepository(store, codec).record(run)
    log.info(
        "civil_affairs.matched",
        run_id=str(run.id),
        scope=unit.value,
        rows=len(table.rows),
        matches=len(run.matches),
        to_act=sum(m.assessment.severity == ACT for m in run.matches),
    )
    return run, errors


def report_json(run: CivilAffairsMatch, errors: list[sheets.RowError]) -> dict[str, Any]:
    return {
        "id": str(run.id),
        "unit": run.actor.unit,
        "scope": run.scope,
        "source": run.source,
        "rows": run.list_rows,
        "matches": len(run.matches),
        "by_rule": run.by_rule or {},
        "findings": [
            {
                "row": m.row,
                "file_id": str(m.file_id),
                "unit": m.file_unit,
                "role": m.role,
                "record": m.record.value,
                "said_on": m.said_on.isoformat() if m.said_on else None,
                "rule": m.assessment.rule,
                "severity": m.assessment.severity,
                "text": m.assessment.zh,
            }
            for m in run.matches
        ],
        "refused": [{"row": e.row, "column": e.column, "reason": e.reason} for e in errors],
    }
