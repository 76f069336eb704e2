"""Random command sequences against one household file (hypothesis stateful testing).

Each step runs one command with a random actor — the file's clerk, its district's approver, a
clerk of another union, a base-level approver, a city approver, a clerk in another district —
and random but plausible arguments; a `DomainError` is a refusal, anything else a defect. A
second kind of step takes the next plausible step of the lifecycle with valid arguments, so that
runs reach approval, assistance, exits and returns rather than stopping at the first refusal.

After every step the invariants hold; at the end, the events replayed into a fresh aggregate
give the same state as the file that recorded them.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.eligibility import Exclusions
from domain.errors import DomainError
from domain.household import EXITED, HouseholdFile, Member
from domain.idnumber import make_id_number
from domain.units import UnitCode
from domain.values import (
    SCHEME_CATEGORIES,
    Actor,
    AssistanceKind,
    Category,
    CategoryScheme,
    Cause,
    Department,
    ExitKind,
    ExitReason,
    FileLevel,
    Material,
    MemberStatus,
    Relation,
    Role,
    Status,
    WorkerKind,
)

from .given import (
    APPROVER,
    BASE,
    BASE_APPROVER,
    CITY_APPROVER,
    CLERK,
    OTHER_BASE,
    OTHER_CLERK,
    OTHER_DISTRICT_BASE,
    application,
    head,
    in_force,
    state,
)

# the parameters in force, with publicity of any length (the machine draws its own)
RELAXED = in_force(publicity_days=1)

START = date(2020, 1, 6)
OTHER_DISTRICT_CLERK = Actor("clerk-haigang", OTHER_DISTRICT_BASE, Role.CLERK)
ACTORS = [CLERK, APPROVER, OTHER_CLERK, BASE_APPROVER, CITY_APPROVER, OTHER_DISTRICT_CLERK]
CLERK_OF = {BASE: CLERK, OTHER_BASE: OTHER_CLERK, OTHER_DISTRICT_BASE: OTHER_DISTRICT_CLERK}

_SPOUSE = Member(
    "王𪚥",
    Relation.SPOUSE,
    make_id_number("130306", date(1980, 2, 3), 22).value,
    MemberStatus.UNEMPLOYED,
)
_CHILD = Member(
    "张小明",
    Relation.CHILD,
    make_id_number("130306", date(2008, 9, 1), 35).value,
    MemberStatus.STUDENT,
)
_PARENT = Member(
    "张老汉",
    Relation.PARENT,
    make_id_number("130306", date(1950, 1, 1), 17).value,
    MemberStatus.RETIRED,
    annual_income=Decimal("3600"),
    lives_together=False,
)
_BAD = Member("李某", Relation.OTHER, "110105194912310021", MemberStatus.OTHER)
VALID_MEMBERS = [(), (_SPOUSE,), (_SPOUSE, _CHILD), (_SPOUSE, _CHILD, _PARENT)]

actors = st.sampled_from(ACTORS)
advances = st.integers(0, 12)  # days the clock moves on before the command
backs = st.integers(-1, 20)  # how far before "today" the business date lies (-1: in the future)
reasons = st.sampled_from(["材料不全", "情况变化", "核实有误", ""])
lines = st.sampled_from([Decimal("500"), Decimal("550"), Decimal("700")])
yuan = st.integers(0, 40_000).map(Decimal)
cents = st.decimals(min_value=0, max_value=5000, places=2)
members = st.sampled_from([*VALID_MEMBERS, (_SPOUSE, _SPOUSE), (_BAD,)])
investigators = st.sampled_from(
    [("赵一", "钱二"), ("赵一", "钱二", "孙三"), ("赵一",), ("赵一", " 赵一"), ("钱二", "孙三")]
)
exclusions = st.sampled_from(
    [Exclusions(), Exclusions(), Exclusions(), Exclusions(car_or_luxury=True)]
)
exit_kinds = st.sampled_from(ExitKind)
exit_reasons = st.sampled_from(ExitReason)
units = st.sampled_from([BASE, OTHER_BASE, OTHER_DISTRICT_BASE])

FUNING = UnitCode("130306")
LEAVING_APPROVAL = (
    HouseholdFile.Exited,
    HouseholdFile.Returned,
    HouseholdFile.SentBack,
    HouseholdFile.Rejected,
)
FITTING_REASON = {
    ExitKind.OUT_OF_HARDSHIP: ExitReason.INCOME_ABOVE_LINE,
    ExitKind.RELIEVED: ExitReason.SAFETY_NET,
    ExitKind.CANCELLED: ExitReason.DEATH,
    ExitKind.DELETED: ExitReason.ERRONEOUS_RECORD,
}


class HouseholdFileMachine(RuleBasedStateMachine):
    file: HouseholdFile
    events: list[HouseholdFile.Event]

    # ------------------------------------------------------------------ plumbing

    def _clock(self, advance: int, back: int) -> tuple[date, date]:
        """Move the clock on by `advance` days; the business date lies `back` days before it."""
        self.today += timedelta(days=advance)
        return self.today, self.today - timedelta(days=back)

    def _run(self, command: Any) -> None:
        before = (self.file.version, list(self.file.pending_events), state(self.file))
        try:
            command(self.file)
        except DomainError:
            after = (self.file.version, list(self.file.pending_events), state(self.file))
            assert after == before, "a refused command changed the file"
            return
        recorded = self.file.collect_events()
        assert len(recorded) == 1, f"one command, one event: {recorded}"
        self.events.extend(recorded)

    # ------------------------------------------------------------------ the file is opened

    @initialize(scheme=st.sampled_from(CategoryScheme), migrant=st.booleans())
    def open_file(self, scheme: CategoryScheme, migrant: bool) -> None:
        self.today = START
        overrides: dict[str, Any] = {"applied_on": START, "today": START, "scheme": scheme}
        if migrant:
            overrides |= {
                "worker_kind": WorkerKind.MIGRANT,
                "head": head(labour_relation_since=date(2019, 1, 1)),
            }
        self.file = HouseholdFile.receive_application(**application(**overrides))
        self.events = list(self.file.collect_events())

    # ------------------------------------------------------------------ random commands

    @rule(
        actor=actors,
        advance=advances,
        back=backs,
        names=investigators,
        people=members,
        income=yuan,
        rigid=yuan,
        excluded=exclusions,
        line=lines,
        accident=st.booleans(),
        losses=yuan,
    )
    def verify(
        self, actor, advance, back, names, people, income, rigid, excluded, line, accident, losses
    ):
        today, on = self._clock(advance, back)
        self._run(
            lambda f: f.verify(
                actor=actor,
                verified_on=on,
                investigators=names,
                members=people,
                annual_income=income,
                rigid_expenses=rigid / 4,
                exclusions=excluded,
                primary_cause=Cause.ILLNESS,
                accidental_event=accident,
                hardship_losses=losses,
                parameters=in_force(poverty_line=line, publicity_days=1),
                today=today,
            )
        )

    @rule(
        actor=actors,
        advance=advances,
        back=backs,
        start_after=st.integers(0, 3),
        end_after=st.integers(0, 7),
        minutes=st.sampled_from([True, True, False]),
        raised=st.integers(0, 2),
        resolved=st.integers(0, 2),
    )
    def appraise(self, actor, advance, back, start_after, end_after, minutes, raised, resolved):
        today, end = self._clock(advance, back)
        start = end - timedelta(days=end_after)
        self._run(
            lambda f: f.appraise(
                actor=actor,
                appraised_on=start - timedelta(days=start_after),
                minutes_on_file=minutes,
                publicity_start=start,
                publicity_end=end,
                objections=raised,
                objections_resolved=resolved,
                parameters=RELAXED,
                today=today,
            )
        )

    @rule(actor=actors, advance=advances, back=backs, level=st.sampled_from(FileLevel), line=lines)
    def approve(self, actor, advance, back, level, line):
        today, on = self._clock(advance, back)
        self._run(
            lambda f: f.approve(
                actor=actor,
                approved_on=on,
                file_level=level,
                parameters=in_force(poverty_line=line, publicity_days=1),
                today=today,
            )
        )

    @rule(actor=actors, advance=advances, back=backs, reason=reasons)
    def send_back(self, actor, advance, back, reason):
        today, on = self._clock(advance, back)
        self._run(lambda f: f.send_back(actor=actor, sent_back_on=on, reason=reason, today=today))

    @rule(actor=actors, advance=advances, back=backs, reason=reasons)
    def reject(self, actor, advance, back, reason):
        today, on = self._clock(advance, back)
        self._run(lambda f: f.reject(actor=actor, rejected_on=on, reason=reason, today=today))

    @rule(
        actor=actors,
        advance=advances,
        back=backs,
        kind=st.sampled_from(AssistanceKind),
        amount=cents,
        department=st.sampled_from(Department),
    )
    def assist(self, actor, advance, back, kind, amount, department):
        today, on = self._clock(advance, back)
        self._run(
            lambda f: f.assist(
                actor=actor,
                assisted_on=on,
                kind=kind,
                amount=amount,
                department=department,
                helper="孙三",
                today=today,
            )
        )

    @rule(
        actor=actors,
        advance=advances,
        back=backs,
        signed=st.sampled_from([True, True, False]),
        measures=st.sampled_from([("技能培训",), ("推荐就业", "医疗救助"), ()]),
        months=st.integers(-1, 12),
    )
    def agree_plan(self, actor, advance, back, signed, measures, months):
        today, on = self._clock(advance, back)
        self._run(
            lambda f: f.agree_plan(
                actor=actor,
                agreed_on=on,
                helper="孙三",
                measures=measures,
                goals="一年内再就业",
                deadline=on + timedelta(days=30 * months),
                signed_by_worker=signed,
                today=today,
            )
        )

    @rule(
        actor=actors,
        advance=advances,
        back=backs,
        income=st.none() | cents,
        costs=st.none() | cents,
    )
    def visit(self, actor, advance, back, income, costs):
        today, on = self._clock(advance, back)
        self._run(
            lambda f: f.visit(
                actor=actor,
                visited_on=on,
                cadre="孙三",
                content="季度走访",
                quarter_income=income,
                quarter_costs=costs,
                today=today,
            )
        )

    @rule(
        actor=actors,
        advance=advances,
        back=backs,
        people=st.none() | members,
        income=st.none() | yuan,
        rigid=st.none() | yuan,
        materials=st.sampled_from([(), (Material.DIAGNOSIS,)]),
    )
    def revise(self, actor, advance, back, people, income, rigid, materials):
        today, on = self._clock(advance, back)
        self._run(
            lambda f: f.revise(
                actor=actor,
                effective_on=on,
                reason="情况变化",
                members=people,
                annual_income=income,
                rigid_expenses=rigid,
                materials=materials,
                today=today,
            )
        )

    @rule(actor=actors, advance=advances, back=backs, line=lines)
    def recheck(self, actor, advance, back, line):
        today, on = self._clock(advance, back)
        self._run(
            lambda f: f.recheck(
                actor=actor,
                rechecked_on=on,
                parameters=in_force(poverty_line=line, publicity_days=1),
                today=today,
            )
        )

    @rule(
        actor=actors,
        advance=advances,
        back=backs,
        kind=exit_kinds,
        reason=exit_reasons,
        evidence=st.sampled_from([("证明材料",), (), ("证明", "走访记录")]),
        months=st.none() | st.integers(0, 12),
    )
    def exit(self, actor, advance, back, kind, reason, evidence, months):
        today, on = self._clock(advance, back)
        self._run(
            lambda f: f.exit(
                actor=actor,
                exited_on=on,
                kind=kind,
                reason=reason,
                explanation="情况说明",
                evidence=evidence,
                months_above_line=months,
                parameters=RELAXED,
                today=today,
            )
        )

    @rule(actor=actors, advance=advances, back=backs, cause=st.sampled_from(Cause))
    def return_(self, actor, advance, back, cause):
        today, on = self._clock(advance, back)
        self._run(
            lambda f: f.return_(
                actor=actor, returned_on=on, reason="再次失业", cause=cause, today=today
            )
        )

    @rule(actor=actors, advance=advances, back=backs, to_unit=units)
    def transfer(self, actor, advance, back, to_unit):
        today, on = self._clock(advance, back)
        self._run(
            lambda f: f.transfer(
                actor=actor, transferred_on=on, to_unit=to_unit, reason="调换工作单位", today=today
            )
        )

    # ------------------------------------------------------------------ the plausible next step

    @rule(data=st.data(), steps=st.integers(1, 4))
    def take_the_next_steps(self, data, steps):
        for _ in range(steps):
            today, on = self._clock(data.draw(advances), 0)
            self._run(self._next_step(data, on, today))

    def _next_step(self, data: st.DataObject, on: date, today: date) -> Any:
        """A valid command for the file's status, by the clerk or approver in charge of it."""
        clerk = CLERK_OF[self.file.establishing_unit]
        approver = APPROVER if self.file.unit.is_within(FUNING) else CITY_APPROVER
        status = self.file.status
        if status in {Status.APPLIED, Status.SENT_BACK, Status.RETURNED}:
            people = data.draw(st.sampled_from(VALID_MEMBERS))
            income = data.draw(st.integers(0, 12_000).map(Decimal))
            return lambda f: f.verify(
                actor=clerk,
                verified_on=on,
                investigators=("赵一", "钱二"),
                members=people,
                annual_income=income,
                rigid_expenses=Decimal("0"),
                exclusions=Exclusions(),
                primary_cause=Cause.ILLNESS,
                parameters=RELAXED,
                today=today,
            )
        if status is Status.VERIFIED:
            return lambda f: f.appraise(
                actor=clerk,
                appraised_on=on,
                minutes_on_file=True,
                publicity_start=on,
                publicity_end=on,
                parameters=RELAXED,
                today=today,
            )
        if status is Status.APPRAISED:
            if data.draw(st.integers(0, 3)):
                return lambda f: f.approve(
                    actor=approver,
                    approved_on=on,
                    file_level=FileLevel.DISTRICT,
                    parameters=RELAXED,
                    today=today,
                )
            return lambda f: f.send_back(
                actor=approver, sent_back_on=on, reason="材料不全", today=today
            )
        if status is Status.APPROVED:
            return data.draw(
                st.sampled_from(
                    [
                        lambda f: f.assist(
                            actor=clerk,
                            assisted_on=on,
                            kind=AssistanceKind.LIVING_AID,
                            amount=data.draw(cents),
                            department=Department.UNION,
                            today=today,
                        ),
                        lambda f: f.agree_plan(
                            actor=clerk,
                            agreed_on=on,
                            helper="孙三",
                            measures=("技能培训",),
                            goals="再就业",
                            deadline=on,
                            signed_by_worker=True,
                            today=today,
                        ),
                        lambda f: f.visit(
                            actor=clerk,
                            visited_on=on,
                            cadre="孙三",
                            content="季度走访",
                            quarter_income=data.draw(cents),
                            today=today,
                        ),
                        lambda f: f.revise(
                            actor=clerk,
                            effective_on=on,
                            reason="收入变化",
                            annual_income=data.draw(yuan),
                            today=today,
                        ),
                        lambda f: f.recheck(
                            actor=clerk,
                            rechecked_on=on,
                            parameters=in_force(poverty_line=data.draw(lines), publicity_days=1),
                            today=today,
                        ),
                        self._leaving(data.draw(exit_kinds), clerk, approver, on, today),
                    ]
                )
            )
        if status in EXITED and data.draw(st.integers(0, 3)):
            return lambda f: f.return_(
                actor=clerk,
                returned_on=on,
                reason="再次失业",
                cause=Cause.UNEMPLOYMENT,
                today=today,
            )
        return self._leaving(data.draw(exit_kinds), clerk, approver, on, today)

    @staticmethod
    def _leaving(kind: ExitKind, clerk: Actor, approver: Actor, on: date, today: date) -> Any:
        return lambda f: f.exit(
            actor=approver if kind is ExitKind.DELETED else clerk,
            exited_on=on,
            kind=kind,
            reason=FITTING_REASON[kind],
            explanation="情况说明",
            evidence=("证明材料",),
            months_above_line=6 if kind is ExitKind.OUT_OF_HARDSHIP else None,
            parameters=RELAXED,
            today=today,
        )

    # ------------------------------------------------------------------ invariants

    @invariant()
    def the_status_is_a_known_status(self):
        assert isinstance(self.file.status, Status)

    @invariant()
    def the_version_counts_the_events(self):
        assert self.file.version == len(self.events)
        assert self.file.pending_events == []

    @invariant()
    def nothing_follows_a_deletion(self):
        deleted = [
            i
            for i, e in enumerate(self.events)
            if isinstance(e, HouseholdFile.Exited) and e.kind is ExitKind.DELETED
        ]
        assert deleted in ([], [len(self.events) - 1])
        assert (self.file.status is Status.DELETED) == bool(deleted)

    @invariant()
    def the_assistance_total_is_the_sum_of_the_assistance(self):
        amounts = [e.amount for e in self.events if isinstance(e, HouseholdFile.Assisted)]
        assert (self.file.assistance_count, self.file.assistance_total) == (
            len(amounts),
            sum(amounts, Decimal("0.00")),
        )

    @invariant()
    def assistance_is_recorded_only_while_approved_or_relieved(self):
        approved = False
        for e in self.events:
            if isinstance(e, HouseholdFile.Assisted):
                assert approved, "assistance recorded on a file neither approved nor relieved"
            if isinstance(e, HouseholdFile.Approved):
                approved = True
            elif isinstance(e, HouseholdFile.Exited) and e.kind is ExitKind.RELIEVED:
                approved = True  # 解困: regular aid goes on
            elif isinstance(e, LEAVING_APPROVAL):
                approved = False

    @invariant()
    def an_approved_file_has_a_category_of_its_scheme(self):
        if self.file.status is Status.APPROVED:
            assert isinstance(self.file.category, Category)
            assert self.file.category in SCHEME_CATEGORIES[self.file.scheme]

    def teardown(self):
        if not getattr(self, "events", None):
            return
        replayed: HouseholdFile | None = None
        for e in self.events:
            replayed = e.mutate(replayed)
        assert replayed is not None
        assert state(replayed) == state(self.file)


# Modest counts: the whole unit suite stays well under a minute on two busy cores.
TestRandomLifecycles = HouseholdFileMachine.TestCase
TestRandomLifecycles.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
