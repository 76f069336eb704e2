"""The rules a spot-check verifies by replaying a file's events (DOMAIN.md, "Rules a spot-check
can verify by replay"; domain-research.md §5). docs/rules.md lists each rule by its id with its
source in the notices, whether the command also refuses it, and the regional parameter it reads.

Each rule is a named function of a file's history — its events in order, with the file's state
before each — and of the regional parameters in force at the time of each decision. It returns
findings: which rule, how serious, a text in Chinese and English, and the versions of the events
it rests on. Rules judge what was stored, whatever wrote it: a command would have refused most of
these, but a spot-check must catch what slipped past (an import, an older system, a tampered
row whose chain was re-computed).

Two checks need more than the file: one open file per person (the read model of people) and the
hash chain and ledger drift (the store and the ledger); the spot-check adapter supplies those
through `Context` and its own checks, and the rules below say so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.eligibility import Means, Thresholds, categorise
from domain.errors import DomainError, RuleViolated
from domain.household import (
    EXIT_REASONS,
    EXITED,
    OPEN,
    UNDER_REGULAR_AID,
    HouseholdFile,
    whole_months,
)
from domain.idnumber import parse_id_number
from domain.policy import Parameters, PolicyBook
from domain.privacy import readable
from domain.units import GEOGRAPHIC, UnitCode, Units
from domain.values import (
    Category,
    Cause,
    ExitKind,
    Material,
    Status,
    WorkerKind,
    label,
)

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str
    zh: str
    en: str
    versions: tuple[int, ...]


@dataclass(frozen=True)
class History:
    """A file's events in version order, its state before each, and its state after all."""

    file_id: UUID
    events: Sequence[HouseholdFile.Event]
    before: Sequence[HouseholdFile | None]
    final: HouseholdFile


@dataclass(frozen=True)
class Context:
    policies: PolicyBook
    as_of: date  # the day of the check: for "overdue" rules
    # other OPEN files that hold the same person (by keyed ID hash), from the people read model
    shared_people: dict[UUID, tuple[UUID, ...]] = field(default_factory=dict)
    plan_grace_days: int = 30
    units: Units = GEOGRAPHIC  # stored levels: who approves (domain/units.py)


@dataclass(frozen=True)
class Rule:
    id: str
    zh: str
    en: str
    severity: str
    source: str  # where the rule comes from: docs/rules.md has the notice and its words
    needs: str  # "file" — its own events; "read model" — data outside the file
    check: Callable[[History, Context], list[Finding]]

    def finding(self, versions: Sequence[int], zh: str = "", en: str = "") -> Finding:
        return Finding(self.id, self.severity, zh or self.zh, en or self.en, tuple(versions))


def history_of(events: Sequence[HouseholdFile.Event]) -> History:
    """Replay events, keeping an independent copy of the state before each (no validation: a
    rule must see exactly what was stored)."""
    before: list[HouseholdFile | None] = []
    state: Any = None
    for e in events:
        before.append(None if state is None else _copy(state))
        state = e.mutate(state)
    return History(events[0].originator_id, events, before, state)


def _copy(file: HouseholdFile) -> HouseholdFile:
    copy = object.__new__(type(file))
    copy.__dict__.update(file.__dict__)
    copy.__dict__["_pending_events"] = []
    return copy


def _of(h: History, kind: type) -> list[tuple[int, Any]]:
    return [(i, e) for i, e in enumerate(h.events) if isinstance(e, kind)]


def _cycles(h: History) -> list[list[int]]:
    """Indices of events grouped by cycle: a cycle starts at application, send-back or return."""
    cycles: list[list[int]] = []
    for i, e in enumerate(h.events):
        starts = isinstance(
            e, (HouseholdFile.Applied, HouseholdFile.SentBack, HouseholdFile.Returned)
        )
        if starts or not cycles:
            cycles.append([])
        cycles[-1].append(i)
    return cycles


def _opened_on(e: Any) -> date:
    for name in ("applied_on", "sent_back_on", "returned_on"):
        if hasattr(e, name):
            value: date = getattr(e, name)
            return value
    raise AttributeError(type(e).__name__)


def _policy(ctx: Context, region: str, on: date) -> Parameters | None:
    try:
        return ctx.policies.in_force(region, on)
    except DomainError:
        return None


# ------------------------------------------------------------------------------ the rules


def ids_valid(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R01"]
    found = []
    for e in h.events:
        people = []
        head = getattr(e, "head", None)
        if head is not None:
            people.append(("户主", head.id_number))
        # findings are stored in clear in the checking unit's stream: a member by place, not name
        people += [
            (f"第{i}名成员", m.id_number)
            for i, m in enumerate(getattr(e, "members", None) or (), start=1)
        ]
        for who, number in people:
            if not readable(number):  # erased on request, or no key on this node: not judged
                continue
            try:
                parse_id_number(number)
            except DomainError as error:
                found.append(
                    rule.finding(
                        [e.originator_version],
                        f"{who}身份证号码无效：{error.zh}",
                        f"{who}'s ID number is invalid: {error.message}",
                    )
                )
    return found


def one_open_file_per_person(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R02"]
    others = ctx.shared_people.get(h.file_id, ())
    # the files that hold their people under 一户一档: open ones and relieved ones
    if not others or h.final.status not in (*OPEN, Status.RELIEVED):
        return []
    listed = ", ".join(str(o) for o in others)
    return [
        rule.finding(
            [h.final.version],
            f"家庭成员同时在其他在档档案中：{listed}",
            f"a member of the household is in other open files: {listed}",
        )
    ]


def application_before_investigation(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R03"]
    found = []
    for cycle in _cycles(h):
        start = h.events[cycle[0]]
        try:
            opened = _opened_on(start)
        except AttributeError:
            continue
        for i in cycle[1:]:
            e = h.events[i]
            if isinstance(e, HouseholdFile.Verified) and e.verified_on < opened:
                found.append(rule.finding([start.originator_version, e.originator_version]))
    return found


def _scanned(h: History) -> frozenset[Material]:
    """The kinds of material with a scan attached to the file (at any step: the proof is on file
    when the check is made). A file from before attachments has none."""
    return h.final.scanned()


def authorisation_on_file(h: History, ctx: Context) -> list[Finding]:
    """R04: neither a scan of the signed authorisation nor a tick says it is on file. One not
    recorded at all (`None`, an imported file) is R04u's; one ticked without a scan is R04s's."""
    rule = RULES_BY_ID["R04"]
    first = h.events[0]
    if (
        isinstance(first, HouseholdFile.Applied)
        and Material.AUTHORISATION not in _scanned(h)
        and first.authorisation_signed is not None
        and (not first.authorisation_signed or Material.AUTHORISATION not in first.materials)
    ):
        return [rule.finding([first.originator_version])]
    return []


def authorisation_recorded(h: History, ctx: Context) -> list[Finding]:
    """R04u: the file does not say whether the signed authorisation is on file (an import of a
    sheet without that column) and no scan of it is attached: a paper check is due, which is not
    the same as R04's 'absent'."""
    rule = RULES_BY_ID["R04u"]
    first = h.events[0]
    if (
        isinstance(first, HouseholdFile.Applied)
        and first.authorisation_signed is None
        and Material.AUTHORISATION not in _scanned(h)
    ):
        return [rule.finding([first.originator_version])]
    return []


def authorisation_scanned(h: History, ctx: Context) -> list[Finding]:
    """R04s: the signed authorisation is ticked as on file but no scan of it is attached — a file
    from before attachments (imported, older), judged by its tick, which a spot-check tells
    apart from a file whose scan is present."""
    rule = RULES_BY_ID["R04s"]
    first = h.events[0]
    if (
        isinstance(first, HouseholdFile.Applied)
        and first.authorisation_signed
        and Material.AUTHORISATION in first.materials
        and Material.AUTHORISATION not in _scanned(h)
    ):
        return [rule.finding([first.originator_version])]
    return []


def minutes_recorded(h: History, ctx: Context) -> list[Finding]:
    """R07u: an appraisal whose minutes are not recorded either way (imported): check the paper."""
    rule = RULES_BY_ID["R07u"]
    return [
        rule.finding([e.originator_version])
        for _, e in _of(h, HouseholdFile.Appraised)
        if e.minutes_on_file is None
    ]


def two_investigators(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R05"]
    return [
        rule.finding([e.originator_version])
        for _, e in _of(h, HouseholdFile.Verified)
        if len({n.strip() for n in e.investigators if n.strip()}) < 2
    ]


def steps_in_order(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R06"]
    found = []
    for cycle in _cycles(h):
        seen: dict[type, Any] = {}
        for i in cycle:
            e = h.events[i]
            if isinstance(e, HouseholdFile.Approved):
                verified = seen.get(HouseholdFile.Verified)
                appraised = seen.get(HouseholdFile.Appraised)
                dates: list[date] = []  # the application date is R03's concern
                if verified is not None:
                    dates.append(verified.verified_on)
                if appraised is not None:
                    dates += [
                        appraised.appraised_on,
                        appraised.publicity_start,
                        appraised.publicity_end,
                    ]
                dates.append(e.approved_on)
                missing = verified is None or appraised is None
                if missing or dates != sorted(dates):
                    versions = [x.originator_version for x in (verified, appraised) if x]
                    found.append(rule.finding([*versions, e.originator_version]))
            seen[type(e)] = e
    return found


def publicity_without_open_objection(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R08"]
    found = []
    for cycle in _cycles(h):
        appraised = None
        for i in cycle:
            e = h.events[i]
            if isinstance(e, HouseholdFile.Appraised):
                appraised = e
            elif isinstance(e, HouseholdFile.Approved) and appraised is not None:
                days = (appraised.publicity_end - appraised.publicity_start).days + 1
                params = _policy(ctx, h.final.region, e.approved_on)
                short = params is not None and days < params.publicity_days
                if (
                    appraised.minutes_on_file is False  # None (not recorded) is R07u's
                    or short
                    or appraised.objections_resolved < appraised.objections
                ):
                    found.append(
                        rule.finding(
                            [appraised.originator_version, e.originator_version],
                            f"公示{days}天"
                            + ("，少于规定天数" if short else "")
                            + "，或有未处理异议、缺评议记录",
                            f"publicity of {days} days"
                            + (" is shorter than required" if short else "")
                            + ", or objections unresolved, or minutes missing",
                        )
                    )
    return found


def approver_level(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R09"]
    found = []
    for i, e in _of(h, HouseholdFile.Approved):
        state = h.before[i]
        approver = UnitCode(e.actor.unit)
        within = state is not None and UnitCode(state.establishing_unit).is_within(approver)
        if not ctx.units.approves(approver) or not within:
            found.append(rule.finding([e.originator_version]))
    return found


@dataclass(frozen=True)
class _Approval:
    """An approval with what the data and the parameters then in force make of it."""

    event: Any
    means: Means
    line: Decimal
    computed: Category | None


def _approvals(h: History, ctx: Context) -> list[_Approval]:
    judged = []
    for i, e in _of(h, HouseholdFile.Approved):
        state = h.before[i]
        params = _policy(ctx, state.region, e.approved_on) if state is not None else None
        if state is None or params is None:
            continue
        computed = categorise(
            e.means,
            poverty_line=params.poverty_line,
            scheme=state.scheme,
            accidental_event=state.accidental_event,
            thresholds=Thresholds(accidental_loss_ratio=params.accidental_loss_ratio),
        )
        judged.append(_Approval(e, e.means, params.poverty_line, computed))
    return judged


def income_below_line(h: History, ctx: Context) -> list[Finding]:
    """The income test at approval, against the line in force then (not today's)."""
    rule = RULES_BY_ID["R10"]
    return [
        rule.finding(
            [a.event.originator_version],
            f"审批时家庭人均收入{a.means.adjusted_per_capita()}元/月高于认定标准"
            f"（低保标准{a.line}元）",
            f"at approval the adjusted per-capita income {a.means.adjusted_per_capita()} was "
            f"above the standard for the line {a.line} then in force",
        )
        for a in _approvals(h, ctx)
        if a.computed is None
    ]


def category_matches_data(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R11"]
    return [
        rule.finding(
            [a.event.originator_version],
            f"认定类别为{label(a.event.category)}，按数据应为{label(a.computed)}",
            f"approved as {a.event.category.value}, the data give {a.computed.value}",
        )
        for a in _approvals(h, ctx)
        if a.computed is not None and a.computed != a.event.category
    ]


def no_exclusion_at_approval(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R13"]
    found = []
    for i, e in _of(h, HouseholdFile.Approved):
        state = h.before[i]
        if state is not None and state.exclusions.applying():
            which = "、".join(state.exclusions.applying())
            found.append(
                rule.finding(
                    [e.originator_version],
                    f"审批时存在不予建档情形：{which}",
                    f"approved although an exclusion applies: {which}",
                )
            )
    return found


EVIDENCE: dict[Cause, tuple[Material, ...]] = {
    Cause.ILLNESS: (Material.DIAGNOSIS,),
    Cause.DISABILITY: (Material.DISABILITY_CERTIFICATE,),
    Cause.EDUCATION: (Material.ENROLMENT_PROOF,),
    Cause.DISASTER: (Material.DISASTER_ASSESSMENT,),
    Cause.ACCIDENT: (Material.DISASTER_ASSESSMENT,),
    Cause.UNEMPLOYMENT: (Material.UNEMPLOYMENT_PROOF,),
}


def _evidence(h: History) -> list[tuple[Any, set[Material], set[Material]]]:
    """For each approval with causes: the evidence materials neither scanned nor ticked, and
    those ticked without a scan."""
    scanned = _scanned(h)
    judged = []
    for i, e in _of(h, HouseholdFile.Approved):
        state = h.before[i]
        if state is None or state.primary_cause is None:
            continue
        causes = (state.primary_cause, *state.secondary_causes)
        needed = {m for c in causes for m in EVIDENCE.get(c, ()) if m not in scanned}
        ticked = {m for m in needed if m in state.materials}
        judged.append((e, needed - ticked, ticked))
    return judged


def evidence_for_causes(h: History, ctx: Context) -> list[Finding]:
    """R15: a cause's evidence is neither attached nor ticked at approval (R15s: ticked only)."""
    rule = RULES_BY_ID["R15"]
    return [
        rule.finding(
            [e.originator_version],
            f"缺少致困原因证明材料：{'、'.join(label(m) for m in sorted(missing))}",
            f"evidence missing for the causes: {', '.join(m.value for m in sorted(missing))}",
        )
        for e, missing, _ in _evidence(h)
        if missing
    ]


def evidence_scanned(h: History, ctx: Context) -> list[Finding]:
    """R15s: a cause's evidence is ticked but no scan of it is attached (a file from before
    attachments, judged by its ticks)."""
    rule = RULES_BY_ID["R15s"]
    return [
        rule.finding(
            [e.originator_version],
            f"致困原因证明材料已勾选，未见扫描件：{'、'.join(label(m) for m in sorted(ticked))}",
            f"evidence ticked, no scan attached: {', '.join(m.value for m in sorted(ticked))}",
        )
        for e, _, ticked in _evidence(h)
        if ticked
    ]


def migrant_conditions(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R16"]
    found = []
    for i, e in _of(h, HouseholdFile.Approved):
        state = h.before[i]
        if state is None or state.worker_kind is not WorkerKind.MIGRANT:
            continue
        since = state.head.labour_relation_since
        if (
            not state.head.union_member
            or since is None
            or (since + timedelta(days=365) > e.approved_on)
        ):
            found.append(rule.finding([e.originator_version]))
    return found


def plan_after_approval(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R18"]
    approvals = _of(h, HouseholdFile.Approved)
    if h.final.status is not Status.APPROVED or not approvals:
        return []
    last_i, last = approvals[-1]
    if (ctx.as_of - last.approved_on).days <= ctx.plan_grace_days:
        return []
    planned = [e for _, e in _of(h, HouseholdFile.PlanAgreed) if _ > last_i and e.helper.strip()]
    return [] if planned else [rule.finding([last.originator_version])]


def assistance_only_while_approved(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R21"]
    found = []
    for i, e in _of(h, HouseholdFile.Assisted):
        state = h.before[i]
        if (
            state is None
            or state.status not in UNDER_REGULAR_AID
            or (state.approved_on is not None and e.assisted_on < state.approved_on)
        ):
            found.append(rule.finding([e.originator_version]))
    return found


def annual_recheck(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R20"]
    final = h.final
    if final.status is not Status.APPROVED or final.approved_on is None:
        return []
    last = max(d for d in (final.approved_on, final.last_rechecked_on) if d is not None)
    if (ctx.as_of - last).days > 365:
        return [
            rule.finding(
                [final.version],
                f"自{last.isoformat()}起超过一年未复核",
                f"not re-checked for over a year since {last.isoformat()}",
            )
        ]
    return []


def unchanged_for_a_year(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R20b"]
    if not h.final.is_open():
        return []
    last = h.events[-1]
    if (ctx.as_of - last.timestamp.date()).days > 365:
        return [rule.finding([last.originator_version])]
    return []


def visits_per_period(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R28"]
    final = h.final
    if final.status is not Status.APPROVED or final.approved_on is None:
        return []
    params = _policy(ctx, final.region, ctx.as_of)
    period = params.visit_period_days if params is not None else 90
    last = max(d for d in (final.approved_on, final.last_visited_on) if d is not None)
    if (ctx.as_of - last).days > period:
        return [
            rule.finding(
                [final.version],
                f"超过{period}天未走访（最近：{last.isoformat()}）",
                f"no visit for over {period} days (last: {last.isoformat()})",
            )
        ]
    return []


def exit_reason_and_evidence(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R22"]
    found = []
    for i, e in _of(h, HouseholdFile.Exited):
        wrong = e.reason not in EXIT_REASONS.get(e.kind, frozenset()) or not [
            x for x in e.evidence if x.strip()
        ]
        if e.kind is ExitKind.OUT_OF_HARDSHIP:
            params = _policy(ctx, h.final.region, e.exited_on)
            needed = params.exit_months_above_line if params is not None else 6
            wrong = wrong or (e.months_above_line or 0) < needed
            state = h.before[i]
            if params is not None and state is not None and not wrong:
                # the months must rest on recorded means (revisions, re-checks) above the line
                try:
                    since, _ = state.above_line_since(params.poverty_line, e.exited_on)
                    wrong = whole_months(since, e.exited_on) < needed
                except RuleViolated:
                    wrong = True
        if wrong:
            found.append(rule.finding([e.originator_version]))
    return found


def return_only_from_exit(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R25"]
    found = []
    for i, e in _of(h, HouseholdFile.Returned):
        state = h.before[i]
        if state is None or state.status not in EXITED:
            found.append(rule.finding([e.originator_version]))
    return found


def nothing_after_deleted(h: History, ctx: Context) -> list[Finding]:
    rule = RULES_BY_ID["R27"]
    for i, e in enumerate(h.events):
        if isinstance(e, HouseholdFile.Exited) and e.kind is ExitKind.DELETED:
            # erasing the household's personal data on request is allowed after deletion
            after = [
                x for x in h.events[i + 1 :] if not isinstance(x, HouseholdFile.PersonalDataErased)
            ]
            if after:
                return [rule.finding([x.originator_version for x in after])]
            return []
    return []


RULES: tuple[Rule, ...] = (
    Rule(
        "R01",
        "身份证号码须有效",
        "ID numbers are valid (GB 11643)",
        ERROR,
        "§5 R01",
        "file",
        ids_valid,
    ),
    Rule(
        "R02",
        "一户一档：同一人只能在一份在档档案中",
        "one open file per person",
        ERROR,
        "§5 R02",
        "read model",
        one_open_file_per_person,
    ),
    Rule(
        "R03",
        "先申请后调查",
        "application before investigation",
        ERROR,
        "§5 R03",
        "file",
        application_before_investigation,
    ),
    Rule(
        "R04",
        "须有本人签字的授权书",
        "signed authorisation on file",
        ERROR,
        "§5 R04",
        "file",
        authorisation_on_file,
    ),
    Rule(
        "R04u",
        "未记录是否有本人签字的授权书（导入档案），须核对纸质档案",
        "whether the signed authorisation is on file is not recorded (imported file)",
        WARNING,
        "§5 R04; docs/rules.md",
        "file",
        authorisation_recorded,
    ),
    Rule(
        "R04s",
        "授权书已勾选，未见扫描件（附件前的档案按勾选判断）",
        "authorisation ticked, no scan attached (judged by its tick)",
        WARNING,
        "§5 R04; docs/rules.md",
        "file",
        authorisation_scanned,
    ),
    Rule(
        "R05",
        "入户调查须两人以上",
        "at least two investigators",
        ERROR,
        "§5 R05",
        "file",
        two_investigators,
    ),
    Rule(
        "R06",
        "程序顺序：申请≤调查≤评议≤公示≤审批",
        "steps in order",
        ERROR,
        "§5 R06",
        "file",
        steps_in_order,
    ),
    Rule(
        "R07u",
        "未记录是否有民主评议会议记录（导入档案），须核对纸质档案",
        "whether the appraisal minutes are on file is not recorded (imported file)",
        WARNING,
        "§5 R07; docs/rules.md",
        "file",
        minutes_recorded,
    ),
    Rule(
        "R08",
        "已公示且无未处理异议",
        "publicity done with no open objection",
        ERROR,
        "§5 R07-R08",
        "file",
        publicity_without_open_objection,
    ),
    Rule(
        "R09",
        "审批单位须为区县级以上且档案在其管辖范围内",
        "approver is county level or above and holds the file",
        ERROR,
        "§5 R09",
        "file",
        approver_level,
    ),
    Rule(
        "R10",
        "审批时收入须低于当时当地认定标准",
        "income below the standard in force at approval",
        ERROR,
        "§5 R10",
        "file",
        income_below_line,
    ),
    Rule(
        "R11",
        "认定类别须与数据相符",
        "category matches the data",
        ERROR,
        "§5 R11",
        "file",
        category_matches_data,
    ),
    Rule(
        "R13",
        "审批时不得存在不予建档情形",
        "no exclusion criterion at approval",
        ERROR,
        "§5 R13",
        "file",
        no_exclusion_at_approval,
    ),
    Rule(
        "R15",
        "致困原因须有证明材料",
        "evidence for each cause",
        WARNING,
        "§5 R15",
        "file",
        evidence_for_causes,
    ),
    Rule(
        "R15s",
        "致困原因证明材料已勾选，未见扫描件（附件前的档案按勾选判断）",
        "cause evidence ticked, no scan attached (judged by its ticks)",
        WARNING,
        "§5 R15; docs/rules.md",
        "file",
        evidence_scanned,
    ),
    Rule(
        "R16",
        "农民工须为会员且劳动关系满一年",
        "migrant worker conditions met",
        ERROR,
        "§5 R16",
        "file",
        migrant_conditions,
    ),
    Rule(
        "R18",
        "审批后须制定帮扶计划并明确帮扶责任人",
        "plan and named helper after approval",
        WARNING,
        "§5 R18",
        "file",
        plan_after_approval,
    ),
    Rule(
        "R21",
        "只能对在档或解困（常态化帮扶）档案实施帮扶",
        "assistance only while approved or relieved (regular aid)",
        ERROR,
        "§5 R21",
        "file",
        assistance_only_while_approved,
    ),
    Rule(
        "R20",
        "每年至少复核一次",
        "at least one re-check a year",
        WARNING,
        "§5 R20",
        "file",
        annual_recheck,
    ),
    Rule(
        "R20b",
        "档案一年以上无变动",
        "no file unchanged for a year",
        WARNING,
        "§5 R20",
        "file",
        unchanged_for_a_year,
    ),
    Rule(
        "R22",
        "退出须有类别、原因和证明材料；脱困须连续数月高于标准",
        "exits carry kind, reason and evidence",
        ERROR,
        "§5 R22-R24",
        "file",
        exit_reason_and_evidence,
    ),
    Rule(
        "R25",
        "返困只能发生在已退出的档案",
        "returns only from an exited file",
        ERROR,
        "§5 R25",
        "file",
        return_only_from_exit,
    ),
    Rule(
        "R27",
        "已删除档案不得再有记录",
        "nothing recorded on a deleted file",
        ERROR,
        "§5 R27",
        "file",
        nothing_after_deleted,
    ),
    Rule("R28", "按期走访", "visits in every period", WARNING, "§5 R28", "file", visits_per_period),
)
RULES_BY_ID = {r.id: r for r in RULES}

RECOGNITION_RULES = frozenset({"R10", "R11", "R13", "R16"})  # 错评: wrongly recognised
EXIT_RULES = frozenset({"R22"})  # 错退: wrongly exited


def check(h: History, ctx: Context, rules: Sequence[Rule] = RULES) -> list[Finding]:
    """Every finding of every rule on one file's history."""
    return [f for rule in rules for f in rule.check(h, ctx)]
