"""A realistic demo province (DOMAIN.md, "Realistic data").

Hebei (13) with four cities and eleven districts, real GB/T 2260 codes, base-level unions under
each district; households of 2.7-3.2 persons on average with valid ID numbers whose address code
is the household's district, common surnames and given names (some with characters outside the
BMP, as real names have), incomes spread around each city's poverty line, and full lifecycles:
most files approved and assisted, about 40% exiting, a few returning and being approved again,
a few sent back, rejected, transferred or deleted.

Every decision is made as the rules require (docs/rules.md): judged by the demo's regional
parameters (`DemoPolicies`, the values `bangfu demo` stores), each 脱困 resting on a revision that
recorded the household's income above the line six months or more before it. A spot-check of the
demo finds only what it plants on purpose (`PLANTED_FINDINGS`).

Each file is first *planned* as its application and a list of steps (a typed command of
`domain.commands` and the role running it) from a seeded random generator, then *executed*
through the domain: by default through the use cases, one command at a time, exactly as the API
calls them; `bulk=True` runs the same commands on the aggregates in memory (`execute`) and stores
whole batches through the store's bulk path (for large benchmark data).

Given a content store, the demo attaches small generated scans (`adapters.services.scans`): the
signed authorisation and an ID copy after the application, the evidence of each cause after the
first investigation — so its clean files stay clean under the evidence rules (docs/rules.md,
section 3). About one file in twenty is an older one kept on paper only: its materials are
ticked with no scan, and the spot-check reports R04s/R15s for it, on purpose.

The demo is dated in the weeks of a filing round: most files applied in the last eight months
are still in review (`IN_REVIEW`) — applied and not yet investigated, investigated and in
publicity, or appraised and awaiting the district's approval — so a new clerk has work in hand
and a new approver a 待审批 queue.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast
from uuid import UUID

from adapters.pg.attachments import PgContentStore
from adapters.pg.repository import PgFileRepository
from adapters.pg.unit_records import PgUnitRecords
from adapters.services import attachments
from adapters.services.scans import scan
from domain import usecases
from domain.attachments import MediaType
from domain.commands import (
    AgreePlan,
    Apply,
    Appraise,
    Approve,
    Assist,
    Exit,
    LifecycleCommand,
    Recheck,
    Reject,
    Return,
    Revise,
    SendBack,
    Transfer,
    Verify,
    Visit,
    execute,
    parameters_on,
    receive,
)
from domain.eligibility import Exclusions
from domain.household import Head, HouseholdFile, Member, whole_months
from domain.idnumber import make_id_number
from domain.policy import Parameters, PolicyBook, RegionalPolicy
from domain.ports import Clock, FileRepository, Policies
from domain.profile import Housing, Land, Need, Pairing, PlanMeasure, QuarterCosts
from domain.unit_records import Vote
from domain.values import (
    Actor,
    AidType,
    AssistanceKind,
    Cause,
    Department,
    DisabilityGrade,
    DisabilityKind,
    Education,
    EmployerNature,
    ExitKind,
    ExitReason,
    FileLevel,
    HousingStructure,
    HousingType,
    HukouType,
    Insurance,
    MaritalStatus,
    Material,
    MemberStatus,
    ModelWorker,
    NeedKind,
    PoliticalStatus,
    Relation,
    Role,
    Sex,
    WorkerKind,
    WorkStatus,
)

PROVINCE = ("13", "河北省总工会")
CITIES = {
    "1301": ("石家庄市总工会", Decimal("798")),
    "1302": ("唐山市总工会", Decimal("770")),
    "1303": ("秦皇岛市总工会", Decimal("735")),
    "1304": ("邯郸市总工会", Decimal("700")),
}
DISTRICTS = {
    "130102": "长安区总工会",
    "130104": "桥西区总工会",
    "130105": "新华区总工会",
    "130202": "路南区总工会",
    "130203": "路北区总工会",
    "130302": "海港区总工会",
    "130303": "山海关区总工会",
    "130304": "北戴河区总工会",
    "130306": "抚宁区总工会",
    "130402": "邯山区总工会",
    "130403": "丛台区总工会",
}
BASE_KINDS = (
    "机械厂工会",
    "纺织厂工会",
    "街道工会",
    "社区工会",
    "钢铁公司工会",
    "建筑公司工会",
    "物流公司工会",
    "商贸集团工会",
    "医院工会",
    "食品厂工会",
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅志强玉兰海燕春梅"
RARE = ("𠀀", "𪚥", "𠮷", "𡈼", "𤭢", "𠇔", "𫟅")  # outside the BMP, as in real names
INVESTIGATORS = ("赵立新", "钱丽华", "孙志刚", "周海燕", "吴国平", "郑春梅")
STREETS = ("建设路", "人民路", "和平街", "胜利路", "解放街", "迎宾路", "文化路")
EMPLOYERS = ("机械厂", "纺织厂", "钢铁公司", "建筑公司", "物流公司", "食品厂", "商场")


# The spot-check findings the demo plants on purpose, so that the due lists and a spot-check
# have something to show; any other finding is a defect of the demo (tests/integration/
# test_demo_province.py).
PLANTED_FINDINGS = {
    "R28": "about one quarter in five goes without a visit (季度走访 skipped)",
    "R18": "a household approved again after a return gets aid but no new plan",
    "R20": "a household approved again after a return is not re-checked within the year",
    "R04s": "older files kept on paper only: the authorisation ticked with no scan",
    "R15s": "older files kept on paper only: a cause's proof ticked with no scan",
}


def units() -> dict[str, str]:
    """Every unit of the demo province: code → name (province, cities, districts, base unions)."""
    tree = {PROVINCE[0]: PROVINCE[1]}
    tree.update({code: name for code, (name, _) in CITIES.items()})
    tree.update(DISTRICTS)
    for district, name in DISTRICTS.items():
        for i, kind in enumerate(BASE_KINDS, start=1):
            tree[f"{district}{i:03d}"] = name.replace("总工会", "") + kind
    return tree


def base_units() -> list[str]:
    return [code for code in units() if len(code) == 9]


def poverty_line(unit: str) -> Decimal:
    return CITIES[unit[:4]][1]


POLICY_ADMIN = Actor("demo-admin", PROVINCE[0], Role.ADMIN)
DEMO_EXIT_MONTHS = 6  # the demo's parameters keep the default months above the line
POLICY_EFFECTIVE_ON = date(2015, 1, 1)


def policies(effective_on: date = POLICY_EFFECTIVE_ON) -> list[RegionalPolicy]:
    """The demo province's regional parameters: each city's poverty line (`CITIES`) from
    `effective_on`, the other numbers at their defaults (what `bangfu demo` stores)."""
    made = []
    for city, (name, line) in CITIES.items():
        policy = RegionalPolicy.open(actor=POLICY_ADMIN, region=f"{city}00")
        policy.set(
            actor=POLICY_ADMIN,
            parameters=Parameters(effective_on, line),
            reason=f"演示数据：{name.removesuffix('总工会')}低保标准{line}元/人·月",
        )
        made.append(policy)
    return made


@dataclass(frozen=True)
class DemoPolicies:
    """The demo's parameters in memory (the `Policies` port), for building the demo province
    without a policy store: the same values `bangfu demo` records."""

    policy_book: PolicyBook = field(
        default_factory=lambda: PolicyBook({p.region: p for p in policies()})
    )

    async def book(self) -> PolicyBook:
        return self.policy_book


@dataclass(frozen=True)
class Step:
    command: LifecycleCommand
    role: Role


PROFILE_SALT = 0x1414  # the forms' own fields are drawn from a generator of the file's own
REVIEW_SALT = 0x2E71  # so is whether a recent file is still in review, and at which stage
# A file applied at most this many days ago, with a review that ends in approval, is still in
# review with this probability, at one of these stages: the days of its review are moved
# so that today falls in the stage (the rest of its plan, now in the future, is dropped).
IN_REVIEW = (240, 0.8)
REVIEW_STAGES = (("applied", 15), ("investigated", 20), ("awaiting approval", 65))


def _first_visit(plan: Plan) -> int:
    return next((i for i, s in enumerate(plan.steps) if isinstance(s.command, Visit)), -1)


def demo_profile(rng: random.Random, plan: Plan, migrant: bool) -> Head:
    """The head's 档案表 profile (domain/profile.py)."""
    head = plan.application.head
    disabled = head.health == "残疾"
    return replace(
        head,
        political_status=rng.choice(
            (PoliticalStatus.MASSES,) * 6 + (PoliticalStatus.PARTY_MEMBER,) * 2
        ),
        marital_status=rng.choice((MaritalStatus.MARRIED,) * 5 + tuple(MaritalStatus)),
        education=rng.choice(
            (Education.PRIMARY, Education.JUNIOR, Education.JUNIOR, Education.SENIOR)
        ),
        hukou_type=HukouType.RURAL if migrant else HukouType.URBAN,
        hukou_place=head.address[:3] + rng.choice(STREETS) if not migrant else "本省农村",
        housing=Housing(
            rng.choice((HousingType.RENTED, HousingType.BOUGHT, HousingType.LOW_RENT)),
            HousingStructure.BRICK_CONCRETE,
            Decimal(rng.randrange(18, 90)),
            dilapidated=rng.random() < 0.05,
        ),
        home_housing=Housing(
            HousingType.SELF_BUILT,
            rng.choice((HousingStructure.BRICK_WOOD, HousingStructure.EARTH_WOOD)),
            Decimal(rng.randrange(40, 150)),
            dilapidated=rng.random() < 0.2,
        )
        if migrant
        else None,
        land=Land(paddy=Decimal(rng.randrange(0, 4)), dry=Decimal(rng.randrange(0, 6)))
        if migrant
        else None,
        work_status=rng.choice((WorkStatus.EMPLOYED,) * 3 + (WorkStatus.FLEXIBLE,)),
        employer_nature=rng.choice(
            (EmployerNature.PRIVATE, EmployerNature.STATE_OWNED, EmployerNature.COLLECTIVE)
        ),
        model_worker=ModelWorker.CITY if rng.random() < 0.02 else ModelWorker.NONE,
        disability=DisabilityKind.PHYSICAL.value if disabled else "",
        disability_grade=rng.choice(tuple(DisabilityGrade)).value if disabled else "",
        wishes=rng.choice(("稳定就业，增加收入", "子女顺利完成学业", "家人病情好转")),
        aid_types=tuple(rng.sample(tuple(AidType), 2)),
    )


def demo_columns(rng: random.Random, member: Member) -> Member:
    """A member's 表三 columns."""
    if member.status in (MemberStatus.STUDENT, MemberStatus.PRESCHOOL):
        return replace(
            member,
            education=Education.PRESCHOOL
            if member.status is MemberStatus.PRESCHOOL
            else Education.PRIMARY,
            insurance=(Insurance.B2,),
            workplace="" if member.status is MemberStatus.PRESCHOOL else "本区实验小学",
        )
    return replace(
        member,
        education=rng.choice((Education.PRIMARY, Education.JUNIOR, Education.SENIOR)),
        insurance=(Insurance.A1, Insurance.B1) if rng.random() < 0.5 else (Insurance.B2,),
        skills=rng.choice(("", "缝纫", "烹饪", "驾驶")),
    )


def demo_measures(rng: random.Random, command: AgreePlan, unit: str) -> AgreePlan:
    """The plan's measures one by one (seed 001 附件3) and the pairing's contacts."""
    kinds = (NeedKind.DIBAO, NeedKind.EMPLOYMENT)
    deadline = min(command.agreed_on + timedelta(days=365), command.deadline)
    items = tuple(
        PlanMeasure(
            kind=kind,
            content=content,
            department="区民政局" if kind is NeedKind.DIBAO else "区人社局",
            lead_unit="区总工会",
            lead_leader="区总工会副主席",
            union_leader="基层工会主席",
            pairing_contact=command.helper,
            union_contact="基层工会干事",
            deadline=deadline,
        )
        for kind, content in zip(kinds, command.measures, strict=False)
    )
    return replace(
        command,
        tasks=items,
        helping_unit=DISTRICTS[unit[:6]],
        pairing=Pairing(
            cadre_unit=DISTRICTS[unit[:6]],
            cadre_post="干部",
            cadre_phone=f"0335-60{rng.randrange(10**5):05d}",
            union_contact="基层工会干事",
            union_contact_phone=f"0335-61{rng.randrange(10**5):05d}",
        ),
    )


def demo_visit(rng: random.Random, command: Visit, migrant: bool, *, first: bool) -> Visit:
    """The visit's cost lines adding up to its quarter's costs, the opinions, and on the first
    visit the 困难清单 (seed 001 附件1)."""
    total = command.quarter_costs or Decimal(0)
    tenth = (total / 10).quantize(Decimal("1"))
    lines = {"insurance": tenth * 2, "education": tenth, "medical": tenth * 2, "housing": tenth}
    if migrant:
        lines["farming"] = tenth
    lines["living"] = total - sum(lines.values(), Decimal(0))
    return replace(
        command,
        quarter_costs=None,
        costs=QuarterCosts(**lines),
        helper_opinion="继续跟踪帮扶",
        head_opinion="感谢工会关心",
        needs=(
            Need(NeedKind.EMPLOYMENT, "家庭收入不稳定", "已享受困难职工生活救助", "推荐就业岗位"),
            Need(NeedKind.MEDICAL_INSURANCE, "医疗费用负担重", "已参加职工医保", "申请医疗救助"),
        )
        if first
        else (),
    )


SCAN_VARIANTS = 24  # distinct generated pages per media type (the content is cached)
PAPER_ONLY = 0.05  # the share of older files whose materials were never scanned


@lru_cache(maxsize=3 * SCAN_VARIANTS)
def scan_content(variant: int, media_type: MediaType) -> bytes:
    return scan(variant, media_type.value)


@dataclass(frozen=True)
class Scan:
    """A generated scan attached after the application (`after` = -1) or after step `after`."""

    attachment_id: UUID
    kind: Material
    media_type: MediaType
    variant: int
    after: int
    on: date  # the day it is attached (the application's or the investigation's)

    @property
    def name(self) -> str:
        suffix = {MediaType.PDF: "pdf", MediaType.PNG: "png", MediaType.JPEG: "jpg"}
        return f"{self.kind.value}-scan.{suffix[self.media_type]}"

    def content(self) -> bytes:
        return scan_content(self.variant, self.media_type)


@dataclass
class Plan:
    """A file's application (by the base-level union's clerk), the steps after it and the scans
    to attach (none for a file kept on paper only)."""

    file_id: UUID
    unit: str
    application: Apply
    steps: list[Step] = field(default_factory=list)
    scans: list[Scan] = field(default_factory=list)
    people: list[str] = field(default_factory=list)  # every ID number the plan files

    def scans_after(self, step: int) -> list[Scan]:
        return [s for s in self.scans if s.after == step]


class Planner:
    """Plans realistic lifecycles; the same seed gives the same province."""

    def __init__(self, *, today: date, seed: int = 2020) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.ids: set[str] = set()
        self.drawn: list[str] = []  # the ID numbers drawn for the plan being made
        self.bases = base_units()

    # ----------------------------------------------------------------- people

    def _name(self) -> str:
        rng = self.rng
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        if rng.random() < 0.04:
            given = given[:-1] + rng.choice(RARE) if len(given) > 1 else rng.choice(RARE)
        return rng.choice(SURNAMES) + given

    def _id(self, region: str, born: date, sex: Sex) -> str:
        while True:
            sequence = self.rng.randrange(0, 500) * 2 + (1 if sex is Sex.MALE else 0)
            number = make_id_number(region, born, sequence).value
            if number not in self.ids:
                self.ids.add(number)
                self.drawn.append(number)
                return number

    def _born(self, first: int, last: int) -> date:
        start = date(first, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(last, 12, 28) - start).days))

    def _phone(self) -> str:
        return f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"

    # ----------------------------------------------------------------- one household

    def plan(self) -> Plan:
        self.drawn = []
        plan = self._profiled(self._scanned(self._in_review(self._plan())))
        plan.people = self.drawn
        return plan

    def _in_review(self, plan: Plan) -> Plan:
        """A recent file still in review (`IN_REVIEW`), drawn from a generator of the file's
        own (the rest of the province is the same with or without it): every day of its plan
        moved later by the same number of days, so that today falls at the drawn stage, and
        what then lies in the future dropped. Its order and its gaps stay those of a lifecycle
        the rules accept."""
        rng = random.Random(plan.file_id.int ^ REVIEW_SALT)
        within, share = IN_REVIEW
        applied = plan.application.applied_on
        approve = next((s.command for s in plan.steps if isinstance(s.command, Approve)), None)
        first = next((s.command for s in plan.steps if isinstance(s.command, Verify)), None)
        if (
            approve is None
            or first is None
            or any(isinstance(s.command, SendBack) for s in plan.steps)
            or (self.today - applied).days > within
            or rng.random() >= share
        ):
            return plan
        appraisal = next(s.command for s in plan.steps if isinstance(s.command, Appraise))
        stage = rng.choices([n for n, _ in REVIEW_STAGES], [w for _, w in REVIEW_STAGES])[0]
        start, end = {  # the days of the plan that today may be, at each stage
            "applied": (applied, first.verified_on - timedelta(days=1)),
            "investigated": (first.verified_on, appraisal.publicity_end - timedelta(days=1)),
            "awaiting approval": (appraisal.publicity_end, approve.approved_on - timedelta(days=1)),
        }[stage]
        if end < start:
            return plan
        now = start + timedelta(days=rng.randrange((end - start).days + 1))
        shift = self.today - now
        plan.application = _later(plan.application, shift)
        plan.steps = [Step(_later(s.command, shift), s.role) for s in plan.steps]
        return self._clip(plan)

    def _profiled(self, plan: Plan) -> Plan:
        """The forms' own fields (issue 14: the head's profile, members' 表三 columns, the plan's
        measures and contacts, the visits' cost lines and 困难清单), drawn from a generator of the
        file's own (the rest of the province is the same with or without them)."""
        rng = random.Random(plan.file_id.int ^ PROFILE_SALT)
        migrant = plan.application.worker_kind is WorkerKind.MIGRANT
        plan.application = replace(plan.application, head=demo_profile(rng, plan, migrant))
        for i, step in enumerate(plan.steps):
            command = step.command
            if isinstance(command, Verify):
                members = tuple(demo_columns(rng, m) for m in command.members)
                command = replace(command, members=members)
            elif isinstance(command, AgreePlan):
                command = demo_measures(rng, command, plan.unit)
            elif isinstance(command, Visit):
                command = demo_visit(rng, command, migrant, first=i == _first_visit(plan))
            plan.steps[i] = Step(command, step.role)
        return plan

    def _scanned(self, plan: Plan) -> Plan:
        """The plan's scans, drawn from a generator of the file's own (the rest of the province
        is the same with or without them)."""
        rng = random.Random(plan.file_id.int)
        if rng.random() < PAPER_ONLY:
            return plan  # an older file kept on paper only: its ticks stand alone

        def one(kind: Material, media: MediaType, after: int, on: date) -> Scan:
            attachment_id = UUID(int=rng.getrandbits(128), version=4)
            return Scan(attachment_id, kind, media, rng.randrange(SCAN_VARIANTS), after, on)

        applied = plan.application.applied_on
        plan.scans = [
            one(Material.AUTHORISATION, MediaType.PDF, -1, applied),
            one(Material.ID_COPY, MediaType.JPEG, -1, applied),
        ]
        verify = next(
            ((i, s.command) for i, s in enumerate(plan.steps) if isinstance(s.command, Verify)),
            None,
        )
        if verify is not None:
            i, command = verify
            evidence = [m for m in command.materials if m in EVIDENCE_SCANNED]
            plan.scans += [one(m, MediaType.PNG, i, command.verified_on) for m in evidence]
        return plan

    def _plan(self) -> Plan:
        rng, today = self.rng, self.today
        unit = rng.choice(self.bases)
        region = unit[:6]
        line = poverty_line(unit)
        head_sex = rng.choice((Sex.MALE, Sex.FEMALE))
        applied = today - timedelta(days=rng.randrange(40, 1500))
        migrant = rng.random() < 0.15
        head = Head(
            name=self._name(),
            id_number=self._id(region, self._born(1966, 1994), head_sex),
            phone=self._phone(),
            employer=DISTRICTS[region][:-3] + rng.choice(EMPLOYERS),
            address=f"{DISTRICTS[region][:-3]}{rng.choice(STREETS)}{rng.randrange(1, 300)}号",
            health=rng.choice(("健康", "健康", "慢性病", "大病", "残疾")),
            bank_card="62" + "".join(str(rng.randrange(10)) for _ in range(17)),
            union_member=True,
            labour_relation_since=applied - timedelta(days=rng.randrange(400, 3000))
            if migrant
            else None,
        )
        file_id = UUID(int=rng.getrandbits(128), version=4)
        plan = Plan(
            file_id,
            unit,
            Apply(
                file_id=file_id,
                establishing_unit=unit,
                worker_kind=WorkerKind.MIGRANT if migrant else WorkerKind.URBAN,
                head=head,
                applied_on=applied,
                authorisation_signed=True,
                statement="家庭收入低，生活困难，申请建档",
                materials=(Material.ID_COPY, Material.HUKOU_COPY, Material.INCOME_PROOF),
            ),
        )

        members = self._members(region, head_sex)
        persons = 1 + len(members)
        band = rng.random()
        accidental = False
        if band < 0.45:
            ratio = Decimal(rng.randrange(35, 99)) / 100
        elif band < 0.88:
            ratio = Decimal(rng.randrange(101, 195)) / 100
        elif band < 0.94:
            ratio, accidental = Decimal(rng.randrange(205, 260)) / 100, True
        else:  # above the standard: screened out after the application
            plan.steps.append(
                Step(
                    Reject(
                        rejected_on=self._after(applied, 3, 20),
                        reason="经初步核查家庭人均收入超过认定标准",
                    ),
                    Role.CLERK,
                )
            )
            return self._clip(plan)
        rigid = Decimal(rng.randrange(0, 60)) * 100
        income = (ratio * line * 12 * persons + rigid).quantize(Decimal("1"))
        losses = (income * Decimal("0.9")).quantize(Decimal("1")) if accidental else Decimal(0)
        cause = (
            Cause.ACCIDENT
            if accidental
            else rng.choice(
                (
                    Cause.ILLNESS,
                    Cause.ILLNESS,
                    Cause.DISABILITY,
                    Cause.EDUCATION,
                    Cause.UNEMPLOYMENT,
                    Cause.LOW_WAGE,
                    Cause.ENTERPRISE_DIFFICULTY,
                    Cause.SINGLE_PARENT,
                )
            )
        )
        secondary = tuple(
            c
            for c in rng.sample(
                [Cause.ILLNESS, Cause.EDUCATION, Cause.HOUSING, Cause.LOW_WAGE], rng.randrange(0, 3)
            )
            if c is not cause
        )
        investigators = tuple(rng.sample(INVESTIGATORS, 2))
        # `income` is the household's total; the head earns what the members do not
        head_income = max(income - sum((m.annual_income for m in members), Decimal(0)), Decimal(0))
        materials = tuple(dict.fromkeys(m for c in (cause, *secondary) for m in self._materials(c)))

        def investigation(day: date) -> Verify:
            return Verify(
                verified_on=day,
                investigators=investigators,
                members=members,
                annual_income=head_income,
                rigid_expenses=rigid,
                exclusions=Exclusions(),
                primary_cause=cause,
                secondary_causes=secondary,
                accidental_event=accidental,
                hardship_losses=losses,
                poverty_line=line,
                materials=materials,
                narrative="入户调查核实家庭成员、收入及财产情况属实",
            )

        day = self._review(plan, applied, investigation, line, sent_back=rng.random() < 0.05)
        if day is None:
            return self._clip(plan)
        self._follow_up(plan, day, line)
        return self._clip(plan)

    def _members(self, region: str, head_sex: Sex) -> tuple[Member, ...]:
        rng = self.rng
        count = rng.choices((0, 1, 2, 3), weights=(8, 20, 50, 22))[0]
        members: list[Member] = []
        if count:
            sex = Sex.FEMALE if head_sex is Sex.MALE else Sex.MALE
            members.append(
                Member(
                    self._name(),
                    Relation.SPOUSE,
                    self._id(region, self._born(1966, 1994), sex),
                    rng.choice(
                        (MemberStatus.UNEMPLOYED, MemberStatus.EMPLOYED, MemberStatus.OTHER)
                    ),
                    annual_income=Decimal(rng.randrange(0, 20)) * 500,
                    health=rng.choice(("健康", "慢性病", "大病")),
                )
            )
        for _ in range(count - 1):
            born = self._born(1996, min(self.today.year - 1, 2022))
            members.append(
                Member(
                    self._name(),
                    Relation.CHILD,
                    self._id(region, born, rng.choice((Sex.MALE, Sex.FEMALE))),
                    MemberStatus.STUDENT
                    if self.today.year - born.year >= 6
                    else MemberStatus.PRESCHOOL,
                )
            )
        return tuple(members)

    @staticmethod
    def _materials(cause: Cause) -> tuple[Material, ...]:
        extra = {
            Cause.ILLNESS: (Material.DIAGNOSIS, Material.MEDICAL_BILLS),
            Cause.DISABILITY: (Material.DISABILITY_CERTIFICATE,),
            Cause.EDUCATION: (Material.ENROLMENT_PROOF,),
            Cause.ACCIDENT: (Material.DISASTER_ASSESSMENT, Material.MEDICAL_BILLS),
            Cause.UNEMPLOYMENT: (Material.UNEMPLOYMENT_PROOF,),
        }.get(cause, ())
        return (Material.INCOME_PROOF, *extra)

    def _after(self, day: date, low: int, high: int) -> date:
        return day + timedelta(days=self.rng.randrange(low, high))

    def _review(
        self,
        plan: Plan,
        opened: date,
        investigation: Callable[[date], Verify],
        line: Decimal,
        *,
        sent_back: bool,
    ) -> date | None:
        """Investigation (on the day given), appraisal and publicity, approval; returns the
        approval date."""
        rng = self.rng
        verified = self._after(opened, 3, 20)
        plan.steps.append(Step(investigation(verified), Role.CLERK))
        appraised = self._after(verified, 1, 10)
        start = self._after(appraised, 0, 3)
        end = start + timedelta(days=7)
        plan.steps.append(
            Step(
                Appraise(
                    appraised_on=appraised,
                    minutes_on_file=True,
                    publicity_start=start,
                    publicity_end=end,
                    objections=0,
                    objections_resolved=0,
                ),
                Role.CLERK,
            )
        )
        if sent_back:
            back = self._after(end, 1, 15)
            plan.steps.append(
                Step(
                    SendBack(sent_back_on=back, reason="收入证明材料不全，请补充后重新上报"),
                    Role.APPROVER,
                )
            )
            return self._review(plan, back, investigation, line, sent_back=False)
        approved = self._after(end, 1, 25)
        level = rng.choices(list(FileLevel), weights=(35, 25, 20, 15, 5))[0]
        plan.steps.append(
            Step(
                Approve(
                    approved_on=approved,
                    file_level=level,
                    poverty_line=line,
                    opinion="经审核符合困难职工建档条件，同意建档",
                ),
                Role.APPROVER,
            )
        )
        return approved

    def _follow_up(self, plan: Plan, approved: date, line: Decimal) -> None:
        """Assistance, plan, visits, re-checks, revisions; an exit for about 40% a year."""
        rng, today = self.rng, self.today
        tenure = (today - approved).days
        exits = tenure > 200 and rng.random() < 1 - 0.6 ** (tenure / 365)
        exited = approved + timedelta(days=rng.randrange(180, tenure)) if exits else None
        horizon = max(((exited or today) - approved).days - 1, 1)
        dated: list[tuple[date, Step]] = []
        agreed = self._after(approved, 3, 30)
        dated.append(
            (
                agreed,
                Step(
                    AgreePlan(
                        agreed_on=agreed,
                        helper=self._name(),
                        measures=("发放生活救助金", "推荐就业岗位"),
                        goals="两年内实现稳定就业、家庭人均收入超过低保标准",
                        deadline=approved + timedelta(days=730),
                        signed_by_worker=True,
                    ),
                    Role.CLERK,
                ),
            )
        )
        for _ in range(rng.randrange(1, 7)):
            day = approved + timedelta(days=rng.randrange(1, horizon + 1))
            kind = rng.choice(
                (
                    AssistanceKind.LIVING_AID,
                    AssistanceKind.LIVING_AID,
                    AssistanceKind.MEDICAL_AID,
                    AssistanceKind.EDUCATION_AID,
                    AssistanceKind.EMPLOYMENT,
                    AssistanceKind.TRAINING,
                )
            )
            amount = (
                Decimal(0)
                if kind in (AssistanceKind.EMPLOYMENT, AssistanceKind.TRAINING)
                else Decimal(rng.choice((300, 500, 800, 1000, 1500, 2000, 3000)))
            )
            dated.append(
                (
                    day,
                    Step(
                        Assist(
                            assisted_on=day,
                            kind=kind,
                            amount=amount,
                            department=rng.choice(
                                (
                                    Department.UNION,
                                    Department.UNION,
                                    Department.CIVIL_AFFAIRS,
                                    Department.HUMAN_RESOURCES,
                                    Department.EMPLOYER,
                                )
                            ),
                            helper=self._name(),
                            note="元旦春节送温暖",
                        ),
                        Role.CLERK,
                    ),
                )
            )
        for quarter in range(90, horizon, 91):
            if rng.random() < 0.8:
                visited = approved + timedelta(days=quarter)
                dated.append(
                    (
                        visited,
                        Step(
                            Visit(
                                visited_on=visited,
                                cadre=self._name(),
                                content="季度走访，了解家庭收支及就业情况",
                                quarter_income=Decimal(rng.randrange(20, 80)) * 100,
                                quarter_costs=Decimal(rng.randrange(10, 60)) * 100,
                            ),
                            Role.CLERK,
                        ),
                    )
                )
        for year in range(365, horizon, 365):
            rechecked = approved + timedelta(days=year)
            dated.append(
                (rechecked, Step(Recheck(rechecked_on=rechecked, poverty_line=line), Role.CLERK))
            )
        if rng.random() < 0.1:
            effective = approved + timedelta(days=rng.randrange(1, horizon + 1))
            dated.append(
                (
                    effective,
                    Step(
                        Revise(
                            effective_on=effective,
                            reason="家庭成员就业情况变化",
                            materials=(Material.INCOME_PROOF,),
                        ),
                        Role.CLERK,
                    ),
                )
            )
        dated = sorted(
            (pair for pair in dated if pair[0] <= approved + timedelta(days=horizon)),
            key=lambda pair: pair[0],
        )
        plan.steps.extend(step for _, step in dated)
        last = max([approved] + [d for d, _ in dated])
        if rng.random() < 0.02:
            target = rng.choice(
                [b for b in self.bases if b[:6] == plan.unit[:6] and b != plan.unit]
            )
            plan.steps.append(
                Step(
                    Transfer(transferred_on=last, to_unit=target, reason="职工调动工作单位"),
                    Role.CLERK,
                )
            )
        if exited is not None:
            self._exit(plan, max(exited, last), line, approved)

    def _raise_income(self, plan: Plan, exited: date, line: Decimal, approved: date) -> date:
        """A 脱困 rests on recorded means (docs/rules.md): a revision records the household's
        income above the line at least the required months before the exit; returns the exit
        date, moved later where the months would fall short."""
        rng = self.rng
        raised = max(approved, exited - timedelta(days=rng.randrange(190, 300)))
        while whole_months(raised, exited) < DEMO_EXIT_MONTHS:
            exited += timedelta(days=1)
        found = next(s.command for s in reversed(plan.steps) if isinstance(s.command, Verify))
        members = found.members
        persons = 1 + sum(m.lives_together for m in members)
        others = sum((m.annual_income for m in members), Decimal(0))
        ratio = Decimal(rng.randrange(115, 185)) / 100  # above the line, below twice it
        total = (ratio * line * 12 * persons + found.rigid_expenses).quantize(Decimal("1"))
        plan.steps.append(
            Step(
                Revise(
                    effective_on=raised,
                    reason="家庭成员实现就业，家庭收入提高",
                    annual_income=max(total - others, Decimal(0)),
                    materials=(Material.INCOME_PROOF,),
                ),
                Role.CLERK,
            )
        )
        return exited

    def _exit(self, plan: Plan, exited: date, line: Decimal, approved: date) -> None:
        rng = self.rng
        kind = rng.choices(list(ExitKind), weights=(75, 12, 10, 3))[0]
        reason, role = {
            ExitKind.OUT_OF_HARDSHIP: (ExitReason.INCOME_ABOVE_LINE, Role.CLERK),
            ExitKind.RELIEVED: (ExitReason.SAFETY_NET, Role.CLERK),
            ExitKind.CANCELLED: (
                rng.choice((ExitReason.DEATH, ExitReason.RETIRED, ExitReason.MOVED)),
                Role.CLERK,
            ),
            ExitKind.DELETED: (ExitReason.ERRONEOUS_RECORD, Role.APPROVER),
        }[kind]
        if kind is ExitKind.OUT_OF_HARDSHIP:
            exited = self._raise_income(plan, exited, line, approved)
        plan.steps.append(
            Step(
                Exit(
                    exited_on=exited,
                    kind=kind,
                    reason=reason,
                    explanation="经核查家庭人均收入连续六个月以上高于低保标准"
                    if kind is ExitKind.OUT_OF_HARDSHIP
                    else "按规定办理退出",
                    evidence=("收入证明", "入户核查记录"),
                    months_above_line=None,  # 脱困: the months the recorded means show
                ),
                role,
            )
        )
        # (no return after the head's death: the rule is checked after the draw, so the seeded
        # province stays the same where the rule does not apply)
        if kind is not ExitKind.DELETED and rng.random() < 0.12 and reason is not ExitReason.DEATH:
            returned = self._after(exited, 30, 400)
            plan.steps.append(
                Step(
                    Return(
                        returned_on=returned,
                        reason="家庭成员突发重病，再次陷入困难",
                        cause=Cause.ILLNESS,
                    ),
                    Role.CLERK,
                )
            )
            first = next(c for c in (s.command for s in plan.steps) if isinstance(c, Verify))
            again = self._review(
                plan,
                returned,
                lambda day: replace(first, verified_on=day),
                line,
                sent_back=False,
            )
            if again is not None and again < self.today:
                for _ in range(rng.randrange(0, 3)):
                    plan.steps.append(
                        Step(
                            Assist(
                                assisted_on=self._after(again, 1, 60),
                                kind=AssistanceKind.MEDICAL_AID,
                                amount=Decimal(2000),
                                department=Department.UNION,
                                helper=self._name(),
                                note="返困救助",
                            ),
                            Role.CLERK,
                        )
                    )

    def _clip(self, plan: Plan) -> Plan:
        """Drop every step from the first one dated after today: that part has not happened yet."""
        kept: list[Step] = []
        for step in plan.steps:
            command = step.command
            days = [getattr(command, f.name) for f in fields(command) if f.name.endswith("_on")]
            if any(isinstance(day, date) and day > self.today for day in days) or (
                isinstance(command, Appraise) and command.publicity_end > self.today
            ):
                break
            kept.append(step)
        plan.steps = kept
        return plan


def _later(command: Any, shift: timedelta) -> Any:
    """The command with each of its days moved `shift` later (its people's birthdays and other
    dates inside its values stay)."""
    moved = {
        f.name: getattr(command, f.name) + shift
        for f in fields(command)
        if isinstance(getattr(command, f.name), date)
    }
    return replace(command, **moved)


# The materials the demo scans after an investigation: the evidence of its causes (R15) and
# the bills of an illness or an accident.
EVIDENCE_SCANNED = frozenset(
    {
        Material.DIAGNOSIS,
        Material.MEDICAL_BILLS,
        Material.DISABILITY_CERTIFICATE,
        Material.ENROLMENT_PROOF,
        Material.DISASTER_ASSESSMENT,
        Material.UNEMPLOYMENT_PROOF,
    }
)


@dataclass(frozen=True)
class _Day:
    """The clock a scan is attached by: its own day."""

    day: date

    def today(self) -> date:
        return self.day


def actor_for(role: Role, unit: str) -> Actor:
    acting = unit if role is Role.CLERK else unit[:6]
    return Actor(f"demo-{role.value}-{acting}", acting, role)


MEETING_PEOPLE = ("刘建国", "陈丽", "王海燕", "孙志刚", "周春梅", "李红梅", "张立新", "赵秀英")
MEETING_PLACES = ("工会会议室", "职工之家", "党员活动室")


class DemoMeetings:
    """The 民主评议 meeting before each appraisal of the demo: its base union records the meeting
    that voted on the file (`domain.unit_records`), and the appraisal cites it. One meeting per
    appraisal, a union's meetings one at a time (its records are one stream)."""

    def __init__(self, records: PgUnitRecords, files: PgFileRepository) -> None:
        self.records = records
        self.files = files
        self.locks: dict[str, asyncio.Lock] = {}
        self.opened: set[str] = set()
        self.written = 0  # events of the unions' records

    async def cite(self, household: HouseholdFile, command: Appraise, clock: Clock) -> Appraise:
        unit = household.establishing_unit
        digest = hashlib.sha256(f"{household.id}:{household.version}".encode()).digest()
        present = 5 + digest[0] % 3
        attendees = MEETING_PEOPLE[:present]
        against, abstaining = digest[1] % 2, digest[2] % 2
        meeting_id = UUID(bytes=digest[:16], version=4)
        async with self.locks.setdefault(unit, asyncio.Lock()):
            fresh = unit not in self.opened and not await self.records.events(unit)
            await self.records.record_meeting(
                actor=actor_for(Role.CLERK, unit),
                clock=clock,
                files=self.files,
                unit=unit,
                meeting_id=meeting_id,
                held_on=command.appraised_on,
                place=MEETING_PLACES[digest[3] % len(MEETING_PLACES)],
                chair=attendees[0],
                recorder=attendees[1],
                attendees=attendees,
                expected=present + digest[4] % 3,
                summary="听取入户调查情况汇报，对申请建档职工家庭困难情况逐户评议，无记名表决",
                votes=[Vote(household.id, present - against - abstaining, against, abstaining)],
            )
            self.opened.add(unit)
            self.written += 2 + int(fresh)  # the meeting, its vote and, first, the stream's opening
        return replace(command, meeting_id=meeting_id)


async def run_plan(
    plan: Plan,
    *,
    files: FileRepository,
    clock: Clock,
    contents: PgContentStore | None = None,
    policies: Policies | None = None,
    meetings: DemoMeetings | None = None,
) -> int:
    """Execute a plan through the use cases, one command at a time, attaching its scans through
    the upload's use case when given a content store; returns events written. Decisions are
    judged by `policies` (by default the demo's own, `DemoPolicies`). With `meetings`, each
    appraisal cites the 民主评议 meeting its union records just before it."""
    policies = policies if policies is not None else DemoPolicies()
    household = await usecases.open_file(
        files=files, clock=clock, actor=actor_for(Role.CLERK, plan.unit), command=plan.application
    )

    async def attach(after: int) -> HouseholdFile:
        if contents is None:
            return household
        assert isinstance(files, PgFileRepository)  # noqa: S101 — content joins its transaction
        attached = household
        for s in plan.scans_after(after):
            attached, _ = await attachments.attach_bytes(
                files=files,
                contents=contents,
                clock=_Day(s.on),
                actor=actor_for(Role.CLERK, household.establishing_unit),
                file_id=plan.file_id,
                kind=s.kind,
                name=s.name,
                content=s.content(),
                attachment_id=s.attachment_id,
                announce=False,
            )
        return attached

    household = await attach(-1)
    for i, step in enumerate(plan.steps):
        command = step.command
        if meetings is not None and isinstance(command, Appraise):
            command = await meetings.cite(household, command, clock)
        household = await usecases.act_on_file(
            files=files,
            clock=clock,
            actor=actor_for(step.role, household.establishing_unit),
            file_id=plan.file_id,
            command=command,
            policies=policies,
            meetings=meetings.records if meetings is not None else None,
        )
        household = await attach(i)
    return household.version


def build_in_memory(plan: Plan, *, today: date, scans: bool = False) -> HouseholdFile:
    """Execute a plan on an aggregate in memory (the same domain commands, no storage); with
    `scans`, record its scans' events too (their content is the caller's to store)."""
    household = receive(plan.application, actor=actor_for(Role.CLERK, plan.unit), today=today)
    book = DemoPolicies().policy_book

    def attach(after: int) -> None:
        for s in plan.scans_after(after) if scans else ():
            content = s.content()
            household.attach(
                actor=actor_for(Role.CLERK, household.establishing_unit),
                attachment_id=s.attachment_id,
                kind=s.kind,
                name=s.name,
                media_type=s.media_type,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                today=s.on,
            )

    attach(-1)
    for i, step in enumerate(plan.steps):
        command = step.command
        wanted = parameters_on(command)
        if wanted is not None:  # the parameters in force, as the use case hands them
            found = book.in_force(household.region, wanted[0])
            command = replace(cast(Any, command), parameters=found)
        execute(
            household,
            command,
            actor=actor_for(step.role, household.establishing_unit),
            today=today,
        )
        attach(i)
    return household


async def unfiled(files: PgFileRepository, planner: Planner, plans: list[Plan]) -> list[Plan]:
    """一户一档 on a node that already holds files (a demo added to a demo, `bench/growth.py`'s
    chunks): a plan naming a person the node holds is drawn again, until none does."""
    while held := await files.held([n for p in plans for n in p.people]):
        plans = [planner.plan() if held.intersection(p.people) else p for p in plans]
    return plans


async def _store_batch(
    files: FileRepository,
    contents: PgContentStore | None,
    batch: list[tuple[Plan, HouseholdFile]],
) -> None:
    """The bulk path: a batch of files, and their scans' content in the same transaction."""
    if contents is None:
        await files.save_many([h for _, h in batch])
        return
    assert isinstance(files, PgFileRepository)  # noqa: S101 — content joins its transaction
    async with files.store.pool.acquire() as conn, conn.transaction():
        await files.bound(conn).save_many([h for _, h in batch])
        for plan, _ in batch:
            for s in plan.scans:
                await contents.write(
                    conn,
                    stream_id=plan.file_id,
                    attachment_id=s.attachment_id,
                    body=_one(s.content()),
                    limit=len(s.content()),
                )


async def _one(content: bytes) -> AsyncIterator[bytes]:
    yield content


async def build(
    *,
    files: FileRepository,
    clock: Clock,
    count: int,
    seed: int = 2020,
    bulk: bool = False,
    concurrency: int = 8,
    progress: Callable[[int], None] | None = None,
    contents: PgContentStore | None = None,
) -> int:
    """Build `count` households; returns the number of events written. With `contents`, the
    files' generated scans are attached (stored in it)."""
    planner = Planner(today=clock.today(), seed=seed)
    plans = [planner.plan() for _ in range(count)]
    if isinstance(files, PgFileRepository):
        plans = await unfiled(files, planner, plans)
    written = 0
    scans = contents is not None
    if bulk:
        batch: list[tuple[Plan, HouseholdFile]] = []
        for plan in plans:
            batch.append((plan, build_in_memory(plan, today=clock.today(), scans=scans)))
            if len(batch) >= 500:
                written += sum(len(h.pending_events) for _, h in batch)
                await _store_batch(files, contents, batch)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            written += sum(len(h.pending_events) for _, h in batch)
            await _store_batch(files, contents, batch)
            if progress:
                progress(len(batch))
        return written
    gate = asyncio.Semaphore(concurrency)
    meetings = (
        DemoMeetings(PgUnitRecords(files.store, files.codec), files)
        if isinstance(files, PgFileRepository)
        else None
    )

    async def one(plan: Plan) -> int:
        async with gate:
            events = await run_plan(
                plan, files=files, clock=clock, contents=contents, meetings=meetings
            )
        if progress:
            progress(1)
        return events

    files_written = sum(await asyncio.gather(*(one(p) for p in plans)))
    return files_written + (meetings.written if meetings is not None else 0)
