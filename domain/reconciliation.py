"""Reconciliation (纸质档案与电子档案一致, seed 003): a paper ledger against the electronic files.

A reconciliation is an act of the checking unit, so — like a spot-check — it is a stream of its
own, owned by that unit, whose findings refer to the files they concern (the file's trail shows
that its paper row disagreed, when and how):

- `Started`: who reconciled which subtree, the ledger's date, the source (file name, rows, a
  digest of its bytes);
- `FindingRecorded`, one per difference: on paper only, electronic only, a field mismatch (field,
  paper value, electronic value), a status mismatch, a duplicate within the ledger;
- `Completed`: the counts by kind and the rows matched.

The comparison itself (`compare_row`) is pure: the paper row's fields against the fields of the
file as it was recorded on the ledger's date (`electronic_fields`), read off anything that has the
aggregate's attributes for them (`LedgerFacts`): a replayed `HouseholdFile`, or the row of the
fold that keeps only those (`projections.as_of`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.authorization import Act, authorise
from domain.errors import WrongState
from domain.household import Head
from domain.idnumber import IdNumber
from domain.privacy import readable
from domain.units import UnitCode
from domain.values import Actor, Category, Cause, FileLevel, Status, label

PAPER_ONLY = "paper_only"  # 纸质台账有、电子档案无
ELECTRONIC_ONLY = "electronic_only"  # 电子档案有、纸质台账无
FIELD_MISMATCH = "field_mismatch"  # 字段不一致
STATUS_MISMATCH = "status_mismatch"  # 状态不一致
DUPLICATE = "duplicate"  # 台账内重复
UNREADABLE = "unreadable"  # 无法读取的行 (no usable ID number)
KINDS: dict[str, str] = {
    PAPER_ONLY: "纸质台账有、电子档案无",
    ELECTRONIC_ONLY: "电子档案有、纸质台账无",
    FIELD_MISMATCH: "字段不一致",
    STATUS_MISMATCH: "状态不一致",
    DUPLICATE: "台账内重复",
    UNREADABLE: "无法读取的行",
}
# The ledger fields compared, with their headers on the paper ledger (adapters.exports).
COMPARED: dict[str, str] = {
    "head_name": "户主姓名",
    "sex": "性别",
    "employer": "工作单位",
    "address": "家庭地址",
    "applied_on": "建档时间",
    "file_level": "档案级别",
    "category": "困难类别",
    "causes": "致困原因",
    "status": "状态",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference: its kind, the ledger row (None for electronic only), the file (None for
    paper only), and for a mismatch the field with both values."""

    kind: str
    row: int | None
    file_id: UUID | None
    field: str = ""
    paper: str = ""
    electronic: str = ""


class LedgerFacts(Protocol):
    """What the comparison reads of a file, named and typed as `HouseholdFile` has them."""

    @property
    def head(self) -> Head: ...
    @property
    def applied_on(self) -> date: ...
    @property
    def status(self) -> Status: ...
    @property
    def file_level(self) -> FileLevel | None: ...
    @property
    def category(self) -> Category | None: ...
    @property
    def primary_cause(self) -> Cause | None: ...
    @property
    def secondary_causes(self) -> tuple[Cause, ...]: ...


def electronic_fields(household: LedgerFacts) -> dict[str, str]:
    """A file's ledger fields as the paper ledger writes them (Chinese labels)."""
    causes = [c for c in (household.primary_cause, *household.secondary_causes) if c]
    number = household.head.id_number
    return {
        "head_name": household.head.name,
        "sex": label(IdNumber(number).sex) if readable(number) and len(number) == 18 else "",
        "employer": household.head.employer,
        "address": household.head.address,
        "applied_on": household.applied_on.isoformat(),
        "file_level": label(household.file_level) if household.file_level else "",
        "category": label(household.category) if household.category else "",
        "causes": "、".join(label(Cause(c)) for c in causes),
        "status": label(household.status),
    }


def _same(name: str, paper: str, electronic: str) -> bool:
    if name == "causes":
        return _causes(paper) == _causes(electronic)
    return paper.replace(" ", "") == electronic.replace(" ", "")


def _causes(value: str) -> list[str]:
    return [p for p in value.replace("，", "、").replace(",", "、").split("、") if p]


def compare_row(
    row: int, file_id: UUID, paper: Mapping[str, str], electronic: Mapping[str, str]
) -> list[Finding]:
    """The differences of one matched row: a status mismatch, then every field that differs.
    Only the fields the paper ledger has are compared (a column it lacks is not a difference)."""
    found: list[Finding] = []
    for name, header in COMPARED.items():
        if name not in paper:
            continue
        theirs, ours = paper[name], electronic.get(name, "")
        if _same(name, theirs, ours):
            continue
        kind = STATUS_MISMATCH if name == "status" else FIELD_MISMATCH
        found.append(Finding(kind, row, file_id, header, theirs, ours))
    return found


@dataclass(frozen=True, slots=True)
class Source:
    """The ledger reconciled: its file name, rows read and a SHA-256 of its bytes."""

    name: str
    rows: int
    digest: str


@dataclass(frozen=True, slots=True)
class Summary:
    rows: int
    matched: int
    files: int  # electronic files in scope on the ledger's date
    by_kind: dict[str, int]


def authorise_reconciliation(actor: Actor, scope: UnitCode) -> None:
    """May `actor` reconcile a ledger of `scope`? The authorisation table's `RECONCILE` row."""
    authorise(actor, Act.RECONCILE, scope)


class Reconciliation(Aggregate):
    """One run of a paper ledger against the electronic files of a subtree."""

    class Started(Aggregate.Created):
        actor: Actor
        scope: str
        ledger_date: date
        source: Source

    class FindingRecorded(Aggregate.Event):
        finding: Finding

    class Completed(Aggregate.Event):
        summary: Summary

    @classmethod
    def start(
        cls, *, actor: Actor, scope: str, ledger_date: date, source: Source
    ) -> Reconciliation:
        authorise_reconciliation(actor, UnitCode(scope))
        return cls._create(
            cls.Started, actor=actor, scope=scope, ledger_date=ledger_date, source=source
        )

    @event(Started)
    def __init__(self, *, actor: Actor, scope: str, ledger_date: date, source: Source) -> None:
        self.actor = actor
        self.scope = scope
        self.ledger_date = ledger_date
        self.source = source
        self.findings: tuple[Finding, ...] = ()
        self.summary: Summary | None = None

    def record(self, findings: Sequence[Finding]) -> None:
        if self.summary is not None:
            raise WrongState("record", "completed", ("started",))
        for f in findings:
            self._finding_recorded(finding=f)

    @event(FindingRecorded)
    def _finding_recorded(self, *, finding: Finding) -> None:
        self.findings = (*self.findings, finding)

    def complete(self, *, rows: int, matched: int, files: int) -> None:
        if self.summary is not None:
            raise WrongState("complete", "completed", ("started",))
        counts = Counter(f.kind for f in self.findings)
        self._completed(summary=Summary(rows, matched, files, {k: counts.get(k, 0) for k in KINDS}))

    @event(Completed)
    def _completed(self, *, summary: Summary) -> None:
        self.summary = summary

    def readable_by(self, actor: Actor) -> None:
        """A reconciliation is read by its own unit and the units above it (404 elsewhere)."""
        authorise(actor, Act.READ_RECONCILIATION, UnitCode(self.actor.unit))
