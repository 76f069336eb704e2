"""Spot-checks (抽查): a higher union samples the files below it and checks each one by replay.

A spot-check is an act of the checking unit, so it is a stream of its own (like a disclosure),
owned by that unit; each file's result refers to the file, so the file's trail shows that it was
checked, when and with what findings. The stream records everything needed to repeat the check:

- `Started`: who checked which subtree, the strata and the sample size or fraction asked for,
  the seed, the log position of the ledger the frame was read from, the frame's size and a digest
  of it, the day the rules were judged on, and the sampled files themselves;
- `FileChecked`, one per sampled file: its findings (every rule of `domain.rules`, plus a broken
  hash chain and a ledger row that drifted from the events), and the facts the evaluators'
  rates count;
- `Completed`: the counts by rule and unit and the rates (错评率, 错退率, 结对帮扶覆盖率).

The sample is a pure function of the frame, the strata, the size and the seed (`draw`): each file
is ranked by SHA-256 of the seed and its id, and each stratum takes its proportional share
(largest remainder) of the lowest-ranked files. The same seed over the same frame — the same log
position — always gives the same sample, in any process or language.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.authorization import Act, authorise
from domain.errors import InvalidValue, OutOfScope, RuleViolated, WrongState
from domain.household import HouseholdFile
from domain.rules import ERROR, EXIT_RULES, RECOGNITION_RULES, RULES, WARNING, Finding, History
from domain.units import UnitCode
from domain.values import Actor, ExitKind, Level, Material, Status, label

MAX_SAMPLE = 10_000  # files one spot-check may sample: its Started event lists them all
MAX_SEED = 2**63 - 1

# Checks beside the rules of `domain.rules`: what the store and the ledger say about a file.
CHAIN, DRIFT, REPLAY = "CHAIN", "DRIFT", "REPLAY"
ATTACHMENT, ATTACHMENT_ERASED = "ATTACHMENT", "ATTACHMENT_ERASED"
CHECKS: dict[str, tuple[str, str, str]] = {
    CHAIN: ("哈希链须完整（事件未被篡改）", "the hash chain is intact", ERROR),
    DRIFT: ("台账须与事件重放结果一致", "the ledger row equals the replayed state", ERROR),
    REPLAY: ("事件须能完整重放", "the events replay", ERROR),
    ATTACHMENT: (
        "附件内容须与链中哈希一致（未缺失、未被篡改）",
        "every attachment's content is stored and matches the hash in the chain",
        ERROR,
    ),
    ATTACHMENT_ERASED: (
        "附件已随个人信息销毁（内容不可读，哈希仍在链中）",
        "an attachment was erased with the household's personal data",
        WARNING,
    ),
}
# What the content of an attachment was found to be (adapters/pg/attachments.py `check`).
ATTACHMENT_STATES_ZH = {
    "missing": "内容缺失",
    "altered": "内容已被篡改",
    "unreadable": "本节点无法解密",
    "erased": "已随个人信息销毁",
}
# Every check a finding can name: id → (Chinese title, English title, severity).
TITLES: dict[str, tuple[str, str, str]] = {
    **{r.id: (r.zh, r.en, r.severity) for r in RULES},
    **CHECKS,
}
# The ledger columns a replay must reproduce (DRIFT), with their names in Chinese.
LEDGER_FIELDS: dict[str, str] = {
    "status": "状态",
    "unit": "所属单位",
    "category": "困难类别",
    "file_level": "档案级别",
    "assistance_count": "帮扶次数",
    "assistance_total": "帮扶金额",
    "approved_on": "审批日期",
    "exited_on": "退出日期",
    "version": "版本",
}


# ------------------------------------------------------------------------------ values


@dataclass(frozen=True, slots=True)
class Strata:
    """Which files of the subtree form the frame, and how the sample is spread over them.

    `statuses`: only files in these statuses, one stratum each (all statuses when empty).
    `units`: only files in these units' subtrees, one stratum each (the whole scope when empty).
    `level`: one stratum per unit at this level (e.g. each district of a city).
    The strata are the combinations of whichever are given; with none, the frame is one stratum.
    """

    statuses: tuple[Status, ...] = ()
    units: tuple[str, ...] = ()
    level: Level | None = None

    def admits(self, status: str, unit: str) -> bool:
        if self.statuses and status not in self.statuses:
            return False
        return not self.units or self._unit(unit) is not None

    def key(self, status: str, unit: str) -> str:
        """The stratum of a file in `status` held by `unit`."""
        parts = []
        if self.statuses:
            parts.append(status)
        if self.units:
            parts.append(self._unit(unit) or "")
        if self.level is not None:
            at = UnitCode(unit).at(self.level)
            parts.append(at.value if at is not None else unit)
        return "|".join(parts)

    def _unit(self, unit: str) -> str | None:
        code = UnitCode(unit)
        held = [u for u in self.units if code.is_within(UnitCode(u))]
        return max(held, key=len) if held else None


@dataclass(frozen=True, slots=True)
class FrameRow:
    """One file of the frame, as the ledger listed it."""

    file_id: UUID
    unit: str
    status: str
    version: int


@dataclass(frozen=True, slots=True)
class Profile:
    """What the evaluators' rates count about a file (from its replayed history)."""

    ever_approved: bool
    ever_exited: bool  # out of hardship, relieved or cancelled (a deletion is not an exit)
    approved: bool  # approved now
    paired: bool  # approved now, with a plan naming a helper after its last approval


@dataclass(frozen=True, slots=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> Decimal | None:
        """The rate to four places (None when nothing was counted)."""
        if not self.denominator:
            return None
        return (Decimal(self.numerator) / Decimal(self.denominator)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )

    def percent(self) -> str:
        value = self.value
        return "—" if value is None else f"{value * 100:.2f}%"


@dataclass(frozen=True, slots=True)
class UnitTally:
    files: int
    files_with_findings: int
    findings: int


@dataclass(frozen=True, slots=True)
class Summary:
    files_checked: int
    files_with_findings: int
    findings: int
    findings_by_rule: dict[str, int]
    files_by_rule: dict[str, int]
    by_unit: dict[str, UnitTally]
    wrong_recognition: Rate  # 错评率
    wrong_exit: Rate  # 错退率
    pairing_coverage: Rate  # 结对帮扶覆盖率


@dataclass(frozen=True, slots=True)
class FileResult:
    """A sampled file's result, as its `FileChecked` event recorded it."""

    file_id: UUID
    unit: str
    version: int
    findings: tuple[Finding, ...]
    chain_intact: bool
    broken_at: int | None
    drift: tuple[str, ...]
    profile: Profile


# ------------------------------------------------------------------------------ sampling


def frame_digest(frame: Iterable[FrameRow], strata: Strata) -> str:
    """SHA-256 of the frame in file-id order: each file's id, version and stratum."""
    h = hashlib.sha256()
    for row in sorted(frame, key=lambda r: r.file_id):
        h.update(f"{row.file_id} {row.version} {strata.key(row.status, row.unit)}\n".encode())
    return h.hexdigest()


def sample_size_of(frame_size: int, *, size: int | None, fraction: Decimal | None) -> int:
    """How many files to draw: `size` (at most the frame), or `fraction` of the frame rounded up."""
    if fraction is not None:
        return min(frame_size, math.ceil(Fraction(fraction) * frame_size))
    return min(frame_size, size or 0)


def allocate(sizes: Mapping[str, int], n: int) -> dict[str, int]:
    """Share `n` among strata in proportion to their sizes (Hamilton's largest remainder).

    Each stratum gets the whole part of its quota; the files left over go one each to the
    strata with the largest fractional parts, ties to the larger stratum, then by key order.
    """
    total = sum(sizes.values())
    if not total or n <= 0:
        return dict.fromkeys(sizes, 0)
    quotas = {key: Fraction(n * size, total) for key, size in sizes.items()}
    shares = {key: math.floor(q) for key, q in quotas.items()}
    left = n - sum(shares.values())
    order = sorted(sizes, key=lambda k: (-(quotas[k] - shares[k]), -sizes[k], k))
    for key in order[:left]:
        shares[key] += 1
    return shares


def rank(seed: int, file_id: UUID) -> bytes:
    """A file's place in the seeded random order: SHA-256 of the seed and its id."""
    return hashlib.sha256(f"{seed}:{file_id}".encode()).digest()


def draw(frame: Sequence[FrameRow], strata: Strata, *, n: int, seed: int) -> tuple[UUID, ...]:
    """The sample: in each stratum its share of the lowest-ranked files; in file-id order."""
    groups: dict[str, list[UUID]] = {}
    for row in frame:
        groups.setdefault(strata.key(row.status, row.unit), []).append(row.file_id)
    shares = allocate({k: len(v) for k, v in groups.items()}, n)
    chosen: list[UUID] = []
    for key, ids in groups.items():
        chosen += sorted(ids, key=lambda i: rank(seed, i))[: shares[key]]
    return tuple(sorted(chosen))


# ------------------------------------------------------------------------------ one file


def profile_of(h: History) -> Profile:
    approvals = [i for i, e in enumerate(h.events) if isinstance(e, HouseholdFile.Approved)]
    exited = any(
        isinstance(e, HouseholdFile.Exited) and e.kind is not ExitKind.DELETED for e in h.events
    )
    approved = h.final.status is Status.APPROVED and bool(approvals)
    paired = approved and any(
        isinstance(e, HouseholdFile.PlanAgreed) and e.helper.strip()
        for e in h.events[approvals[-1] + 1 :]
    )
    return Profile(bool(approvals), exited, approved, paired)


def replayed_fields(final: HouseholdFile) -> dict[str, Any]:
    """The ledger's columns as the replayed file gives them."""
    return {
        "status": final.status.value,
        "unit": final.establishing_unit,
        "category": final.category.value if final.category is not None else None,
        "file_level": final.file_level.value if final.file_level is not None else None,
        "assistance_count": final.assistance_count,
        "assistance_total": final.assistance_total,
        "approved_on": final.approved_on,
        "exited_on": final.exited_on,
        "version": final.version,
    }


def drifted(replayed: Mapping[str, Any], stored: Mapping[str, Any]) -> tuple[str, ...]:
    """The ledger fields whose stored value differs from the replayed one."""
    return tuple(name for name in LEDGER_FIELDS if replayed.get(name) != stored.get(name))


def chain_finding(version: int, reason: str = "") -> Finding:
    severity = CHECKS[CHAIN][2]
    return Finding(
        CHAIN,
        severity,
        f"哈希链在第{version}个事件处断开：事件或其前一事件被改动、缺失"
        + (f"（{reason}）" if reason else ""),
        f"the hash chain breaks at version {version}: that event or its predecessor was altered"
        " or is missing" + (f" ({reason})" if reason else ""),
        (version,),
    )


def drift_finding(fields: Sequence[str], version: int, stored: Mapping[str, Any]) -> Finding:
    severity = CHECKS[DRIFT][2]
    zh = "、".join(LEDGER_FIELDS[f] for f in fields)
    en = ", ".join(f"{f} (ledger {stored.get(f)!s})" for f in fields)
    return Finding(
        DRIFT,
        severity,
        f"台账与事件重放结果不一致：{zh}",
        f"the ledger row differs from the replayed events in {en}",
        (version,),
    )


def attachment_finding(state: str, kind: str, attachment_id: UUID, version: int) -> Finding:
    """An attachment of a sampled file whose stored content is not what its event records
    (`missing`, `altered`, `unreadable`: ATTACHMENT) or was erased (ATTACHMENT_ERASED)."""
    rule = ATTACHMENT_ERASED if state == "erased" else ATTACHMENT
    zh_kind = label(Material(kind)) if kind in set(Material) else kind
    return Finding(
        rule,
        CHECKS[rule][2],
        f"附件（{zh_kind}，{attachment_id}）{ATTACHMENT_STATES_ZH.get(state, state)}",
        f"attachment {attachment_id} ({kind}) is {state}",
        (version,),
    )


def replay_finding(version: int, error: str) -> Finding:
    severity = CHECKS[REPLAY][2]
    return Finding(
        REPLAY,
        severity,
        f"事件无法重放：{error}",
        f"the events do not replay: {error}",
        (version,),
    )


# ------------------------------------------------------------------------------ the aggregate


def authorise_check(actor: Actor, scope: UnitCode) -> None:
    """May `actor` spot-check the files of `scope`? The authorisation table's `SPOT_CHECK` row."""
    authorise(actor, Act.SPOT_CHECK, scope)


class SpotCheck(Aggregate):
    """One spot-check of a subtree: its frame and sample, each file's result, the summary."""

    class Started(Aggregate.Created):
        actor: Actor
        scope: str
        sample_size: int | None
        fraction: Decimal | None
        strata: Strata
        seed: int
        log_position: str
        frame_size: int
        frame_digest: str
        sample: tuple[UUID, ...]
        as_of: date

    class FileChecked(Aggregate.Event):
        result: FileResult

    class Completed(Aggregate.Event):
        summary: Summary

    @classmethod
    def start(
        cls,
        *,
        actor: Actor,
        scope: str,
        frame: Sequence[FrameRow],
        strata: Strata = Strata(),
        sample_size: int | None = None,
        fraction: Decimal | None = None,
        seed: int,
        log_position: str,
        as_of: date,
    ) -> SpotCheck:
        """Fix the frame and draw the sample (the frame: the ledger rows of the subtree that
        the strata admit, read at `log_position`)."""
        root = UnitCode(scope)
        authorise_check(actor, root)
        check_request(root, strata=strata, sample_size=sample_size, fraction=fraction, seed=seed)
        admitted = [r for r in frame if strata.admits(r.status, r.unit)]
        outside = [r for r in admitted if not UnitCode(r.unit).is_within(root)]
        if outside:
            raise RuleViolated(
                "frame_within_scope",
                f"the frame holds a file of {outside[0].unit}, outside {root}",
                zh="抽样框中有不在抽查范围内的档案",
            )
        n = sample_size_of(len(admitted), size=sample_size, fraction=fraction)
        if n > MAX_SAMPLE:
            raise InvalidValue(
                "fraction",
                f"the sample would be {n} files; at most {MAX_SAMPLE} a spot-check",
                zh=f"抽样数量不能超过{MAX_SAMPLE}户",
            )
        return cls._create(
            cls.Started,
            actor=actor,
            scope=root.value,
            sample_size=sample_size,
            fraction=fraction,
            strata=strata,
            seed=seed,
            log_position=log_position,
            frame_size=len(admitted),
            frame_digest=frame_digest(admitted, strata),
            sample=draw(admitted, strata, n=n, seed=seed),
            as_of=as_of,
        )

    @event(Started)
    def __init__(
        self,
        *,
        actor: Actor,
        scope: str,
        sample_size: int | None,
        fraction: Decimal | None,
        strata: Strata,
        seed: int,
        log_position: str,
        frame_size: int,
        frame_digest: str,
        sample: tuple[UUID, ...],
        as_of: date,
    ) -> None:
        self.actor = actor
        self.scope = scope
        self.requested_size = sample_size
        self.fraction = fraction
        self.strata = strata
        self.seed = seed
        self.log_position = log_position
        self.frame_size = frame_size
        self.frame_digest = frame_digest
        self.sample = sample
        self.as_of = as_of
        self.results: tuple[FileResult, ...] = ()
        self.checked: frozenset[UUID] = frozenset()
        self.summary: Summary | None = None

    @property
    def unit(self) -> UnitCode:
        """The checking unit: the owner of this stream."""
        return UnitCode(self.actor.unit)

    def readable_by(self, actor: Actor) -> None:
        """A spot-check is read by its own unit and the units above it (404 elsewhere)."""
        authorise(actor, Act.READ_SPOT_CHECK, self.unit)

    def record_file(self, result: FileResult) -> None:
        """Record one sampled file's result (once per file, before completion)."""
        if self.summary is not None:
            raise WrongState("record_file", "completed", ("started",))
        if result.file_id not in self.sample:
            raise RuleViolated(
                "sampled", f"file {result.file_id} is not in the sample", zh="该档案不在样本中"
            )
        if result.file_id in self.checked:
            raise RuleViolated(
                "checked_once", f"file {result.file_id} is already checked", zh="该档案已抽查"
            )
        self._file_checked(result=result)

    @event(FileChecked)
    def _file_checked(self, *, result: FileResult) -> None:
        self.results = (*self.results, result)
        self.checked = self.checked | {result.file_id}

    def complete(self) -> None:
        """Close the check once every sampled file has its result: count and rate."""
        if self.summary is not None:
            raise WrongState("complete", "completed", ("started",))
        missing = len(self.sample) - len(self.checked)
        if missing:
            raise RuleViolated(
                "all_checked", f"{missing} sampled files are not checked yet", zh="样本未全部抽查"
            )
        self._completed(summary=summarise(self.results))

    @event(Completed)
    def _completed(self, *, summary: Summary) -> None:
        self.summary = summary

    def findings(self) -> list[tuple[FileResult, Finding]]:
        """Every finding with its file, in file-id order."""
        return [(r, f) for r in sorted(self.results, key=lambda r: r.file_id) for f in r.findings]


def check_request(
    scope: UnitCode,
    *,
    strata: Strata,
    sample_size: int | None,
    fraction: Decimal | None,
    seed: int,
) -> None:
    """Refuse a malformed request before any file is read."""
    if (sample_size is None) == (fraction is None):
        raise InvalidValue(
            "sample", "give either a sample size or a fraction", zh="须给出抽样数量或抽样比例之一"
        )
    if sample_size is not None and (
        isinstance(sample_size, bool) or not 1 <= sample_size <= MAX_SAMPLE
    ):
        raise InvalidValue(
            "sample", f"a whole number from 1 to {MAX_SAMPLE}", zh=f"抽样数量应为1至{MAX_SAMPLE}"
        )
    if fraction is not None and not Decimal(0) < fraction <= Decimal(1):
        raise InvalidValue("fraction", "above 0 and at most 1", zh="抽样比例应大于0且不超过1")
    if isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise InvalidValue("seed", "a whole number from 0 to 2^63-1", zh="随机种子应为非负整数")
    for unit in strata.units:
        if not UnitCode(unit).is_within(scope):
            raise OutOfScope(f"unit {unit} is not within {scope}", zh="分层单位不在抽查范围内")
    if len(set(strata.statuses)) != len(strata.statuses) or len(set(strata.units)) != len(
        strata.units
    ):
        raise InvalidValue("strata", "each status and unit once", zh="分层条件不能重复")


def summarise(results: Sequence[FileResult]) -> Summary:
    """Counts by rule and unit, and the evaluators' rates, over the checked files."""
    findings_by_rule: Counter[str] = Counter()
    files_by_rule: Counter[str] = Counter()
    units: dict[str, list[int]] = {}
    for r in results:
        rules = {f.rule for f in r.findings}
        findings_by_rule.update(f.rule for f in r.findings)
        files_by_rule.update(rules)
        tally = units.setdefault(r.unit, [0, 0, 0])
        tally[0] += 1
        tally[1] += bool(r.findings)
        tally[2] += len(r.findings)

    def rules_of(r: FileResult) -> set[str]:
        return {f.rule for f in r.findings}

    approved_ever = [r for r in results if r.profile.ever_approved]
    exited = [r for r in results if r.profile.ever_exited]
    approved = [r for r in results if r.profile.approved]
    return Summary(
        files_checked=len(results),
        files_with_findings=sum(1 for r in results if r.findings),
        findings=sum(len(r.findings) for r in results),
        findings_by_rule=dict(sorted(findings_by_rule.items())),
        files_by_rule=dict(sorted(files_by_rule.items())),
        by_unit={u: UnitTally(*t) for u, t in sorted(units.items())},
        wrong_recognition=Rate(
            sum(1 for r in approved_ever if rules_of(r) & RECOGNITION_RULES), len(approved_ever)
        ),
        wrong_exit=Rate(sum(1 for r in exited if rules_of(r) & EXIT_RULES), len(exited)),
        pairing_coverage=Rate(sum(1 for r in approved if r.profile.paired), len(approved)),
    )
