"""Civil-affairs matching (民政比对, seed 004): a list from civil affairs against the files.

Civil affairs sends a list — an ID number, what its records say about the person (a dibao
recipient, property, a vehicle, a business registration, a death) and the date — and a unit
matches it against the people of the files in its subtree. A match is an act of that unit, so it
is recorded in a stream of its own whose `Matched` events refer to the files concerned (the
file's trail shows it). `assess` is the pure rule that turns a match into the finding a clerk must
act on, or into information:

- a death of the head on an open file: the file must be cancelled (注销);
- a vehicle when the file's exclusion answer says none (`car_or_luxury` False);
- property when `two_or_more_homes` is False; a business when `shop_or_employs_others` is False;
- a dibao recipient: information (the government safety net may relieve the file, 解困).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.authorization import Act, authorise
from domain.household import OPEN, HouseholdFile
from domain.units import UnitCode
from domain.values import Actor

ACT = "act"  # a clerk must act on the file
INFO = "info"  # worth knowing, nothing wrong by itself


class Record(StrEnum):
    """What civil affairs' records say about a person."""

    DIBAO = "dibao"  # 低保对象
    PROPERTY = "property"  # 房产
    VEHICLE = "vehicle"  # 车辆
    BUSINESS = "business"  # 工商登记
    DEATH = "death"  # 死亡


RECORD_LABELS: dict[Record, tuple[str, ...]] = {
    Record.DIBAO: ("低保", "低保对象", "低保户", "dibao"),
    Record.PROPERTY: ("房产", "住房", "不动产", "property"),
    Record.VEHICLE: ("车辆", "机动车", "vehicle"),
    Record.BUSINESS: ("工商登记", "工商", "营业执照", "business"),
    Record.DEATH: ("死亡", "去世", "death"),
}


@dataclass(frozen=True, slots=True)
class Assessment:
    """What a match means for the file: a rule id, act or info, and the words for the clerk."""

    rule: str
    severity: str
    zh: str


# Every finding `assess` can give: rule → (severity, the words for the clerk). The ledger shows
# the outstanding ones by these words, so they live here once.
FINDINGS: dict[str, tuple[str, str]] = {
    "death_on_open_file": (ACT, "户主已死亡，档案仍在册：应注销"),
    "death_reported": (INFO, "家庭成员死亡：请核实并调整家庭成员"),
    "vehicle_not_declared": (ACT, "民政比对有车辆，入户调查答复为无：应核实"),
    "property_not_declared": (ACT, "民政比对有房产，入户调查答复为无二套房：应核实"),
    "business_not_declared": (ACT, "民政比对有工商登记，入户调查答复为无：应核实"),
    "dibao_recipient": (INFO, "低保对象：可考虑政府兜底解困"),
    "matched": (INFO, "比对命中，与档案记录一致"),
}
# The findings that contradict an answer of the household survey (入户调查): surveying the
# household again (a new verification, which records the answers anew) is acting on them.
ANSWER_FINDINGS = frozenset(
    {"vehicle_not_declared", "property_not_declared", "business_not_declared"}
)


def finding(rule: str) -> Assessment:
    """The assessment of a rule of `FINDINGS`."""
    severity, zh = FINDINGS[rule]
    return Assessment(rule, severity, zh)


def finding_label(rule: str) -> str:
    """The words for the clerk of a stored rule (the rule itself if no longer known)."""
    known = FINDINGS.get(rule)
    return known[1] if known else rule


def record_label(code: str) -> str:
    """The Chinese name of what civil affairs' records say (低保, 房产, 车辆, 工商登记, 死亡)."""
    try:
        return RECORD_LABELS[Record(code)][0]
    except ValueError:
        return code


def assess(record: Record, household: HouseholdFile, role: str) -> Assessment:
    """The finding of one match (pure): `role` is 'head' or 'member' — whose number matched."""
    open_file = household.status in OPEN
    ex = household.exclusions
    if record is Record.DEATH:
        if role == "head" and open_file:
            return finding("death_on_open_file")
        return finding("death_reported")
    if record is Record.VEHICLE and open_file and not ex.car_or_luxury:
        return finding("vehicle_not_declared")
    if record is Record.PROPERTY and open_file and not ex.two_or_more_homes:
        return finding("property_not_declared")
    if record is Record.BUSINESS and open_file and not ex.shop_or_employs_others:
        return finding("business_not_declared")
    if record is Record.DIBAO:
        return finding("dibao_recipient")
    return finding("matched")


@dataclass(frozen=True, slots=True)
class Match:
    """One list entry that matched a person of a file."""

    row: int
    file_id: UUID
    file_unit: str
    role: str  # head / member
    record: Record
    said_on: date | None
    assessment: Assessment


def authorise_matching(actor: Actor, scope: UnitCode) -> None:
    """May `actor` match a list against `scope`? The authorisation table's
    `MATCH_CIVIL_AFFAIRS` row."""
    authorise(actor, Act.MATCH_CIVIL_AFFAIRS, scope)


class CivilAffairsMatch(Aggregate):
    """One run of a civil-affairs list against the files of a subtree."""

    class Started(Aggregate.Created):
        actor: Actor
        scope: str
        source: str
        list_rows: int

    class Matched(Aggregate.Event):
        match: Match

    class Completed(Aggregate.Event):
        matches: int
        by_rule: dict[str, int]

    @classmethod
    def start(cls, *, actor: Actor, scope: str, source: str, list_rows: int) -> CivilAffairsMatch:
        authorise_matching(actor, UnitCode(scope))
        return cls._create(
            cls.Started, actor=actor, scope=scope, source=source, list_rows=list_rows
        )

    @event(Started)
    def __init__(self, *, actor: Actor, scope: str, source: str, list_rows: int) -> None:
        self.actor = actor
        self.scope = scope
        self.source = source
        self.list_rows = list_rows
        self.matches: tuple[Match, ...] = ()
        self.by_rule: dict[str, int] | None = None

    def record(self, match: Match) -> None:
        self._matched(match=match)

    @event(Matched)
    def _matched(self, *, match: Match) -> None:
        self.matches = (*self.matches, match)

    def complete(self) -> None:
        counts = Counter(m.assessment.rule for m in self.matches)
        self._completed(matches=len(self.matches), by_rule=dict(sorted(counts.items())))

    @event(Completed)
    def _completed(self, *, matches: int, by_rule: dict[str, int]) -> None:
        self.by_rule = by_rule
