"""The paper forms' own fields (issue 14): a file that records every one of them — the head's
profile, a migrant's land and housing at home, the members' 表三 columns, the plan's measures with
their departments, leaders and contacts, the visits' cost lines, opinions and 困难清单, the
sign-offs — prints each value on the forms that carry it, stored sealed where it is personal."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from adapters.forms.household import day, yuan
from adapters.pg import reads
from adapters.pg.codec import EventCodec
from adapters.pg.projector import rebuild
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.services import forms as printing
from domain.household import Head, HouseholdFile, Member
from domain.printing import HouseholdForm
from domain.profile import Housing, Land, Need, Pairing, PlanMeasure, QuarterCosts
from domain.values import (
    Actor,
    AidType,
    Education,
    EmployerNature,
    ExitKind,
    ExitReason,
    HousingStructure,
    HousingType,
    HukouType,
    Insurance,
    MaritalStatus,
    MemberStatus,
    ModelWorker,
    NeedKind,
    PoliticalStatus,
    Relation,
    Role,
    WorkerKind,
    WorkStatus,
    label,
)
from tests.builders import (
    APPRAISAL,
    APPROVAL,
    BASE,
    PARAMETERS,
    TODAY,
    application,
    approved_file,
    person_id,
    verification,
)
from tests.integration.test_printed_forms import INSPECTOR, KEY, runtime_of, text_of
from tests.integration.test_projections import runner, snapshot

CLERK = Actor("clerk-li", BASE, Role.CLERK)
APPROVER = Actor("approver-wang", BASE[:6], Role.APPROVER)

HEAD = Head(
    name="张建华",
    id_number=person_id(),
    phone="13912345678",
    employer="抚宁区建筑公司",
    address="抚宁区骊城大街1号工棚",
    labour_relation_since=date(2024, 1, 1),
    political_status=PoliticalStatus.PARTY_MEMBER,
    marital_status=MaritalStatus.MARRIED,
    education=Education.JUNIOR,
    hukou_type=HukouType.RURAL,
    hukou_place="河北省青龙县官场乡",
    housing=Housing(HousingType.RENTED, HousingStructure.BRICK_CONCRETE, Decimal("18.5"), False),
    home_housing=Housing(
        HousingType.SELF_BUILT, HousingStructure.EARTH_WOOD, Decimal("64"), dilapidated=True
    ),
    land=Land(
        paddy=Decimal("1.5"),
        dry=Decimal("2.25"),
        economic_forest=Decimal("0.8"),
        timber_forest=Decimal("3"),
        aquaculture=Decimal("0.4"),
    ),
    work_status=WorkStatus.FLEXIBLE,
    employer_nature=EmployerNature.PRIVATE,
    model_worker=ModelWorker.CITY,
    disability="physical",
    disability_grade="3",
    main_property="农用三轮车一辆",
    wishes="希望孩子顺利完成学业",
    aid_types=(AidType.SCHOOLING, AidType.MEDICAL),
)
SPOUSE = Member(
    "王秀兰",
    Relation.SPOUSE,
    person_id(date(1980, 2, 3)),
    MemberStatus.EMPLOYED,
    annual_income=Decimal("6000"),
    education=Education.PRIMARY,
    insurance=(Insurance.A3, Insurance.B3),
    skills="缝纫刺绣",
    workplace="青龙县服装厂",
)
CHILD = Member(
    "张小明",
    Relation.CHILD,
    person_id(date(2010, 9, 1)),
    MemberStatus.STUDENT,
    education=Education.SENIOR,
    workplace="青龙县第一中学",
)
MEASURE = PlanMeasure(
    kind=NeedKind.SCHOOLING,
    content="申请金秋助学金",
    department="县教育局",
    lead_unit="抚宁区总工会",
    lead_leader="刘副主席",
    union_leader="陈主席",
    pairing_contact="孙志刚",
    union_contact="李秀英",
    deadline=date(2026, 9, 30),
    completion="已发放助学金3000元",
    completed_on=date(2026, 9, 1),
)
PAIRING = Pairing(
    cadre_unit="抚宁区总工会",
    cadre_post="权益保障部科员",
    cadre_phone="0335-6012345",
    union_contact="李秀英",
    union_contact_phone="0335-6019876",
)
COSTS = QuarterCosts(
    insurance=Decimal("450"),
    farming=Decimal("320"),
    education=Decimal("800"),
    medical=Decimal("1200"),
    housing=Decimal("600"),
    living=Decimal("900"),
)
NEED = Need(
    kind=NeedKind.MEDICAL_INSURANCE,
    problem="户主腿伤复发自付费用高",
    policies="已参加城乡居民医疗保险",
    suggestion="申请职工医疗互助补助",
)
OTHER_NEED = Need(kind=NeedKind.OTHER, problem="租住工棚冬季取暖难", suggestion="协调公租房")


def full_file() -> HouseholdFile:
    """A migrant worker's file with every field of the paper forms recorded (events pending)."""
    household = HouseholdFile.receive_application(
        actor=CLERK,
        today=TODAY,
        filed_by="李秀英",
        entered_by="赵录入",
        **application(worker_kind=WorkerKind.MIGRANT, head=HEAD),
    )
    household.verify(actor=CLERK, today=TODAY, **verification(members=(SPOUSE, CHILD)))
    household.appraise(actor=CLERK, today=TODAY, base_opinion="经民主评议同意上报", **APPRAISAL)
    household.approve(
        actor=APPROVER,
        today=TODAY,
        reviewed_by="王建国",
        system_opinion="情况属实同意建档",
        system_opinion_on=date(2026, 3, 22),
        **APPROVAL,
    )
    household.agree_plan(
        actor=CLERK,
        agreed_on=date(2026, 4, 2),
        helper="孙志刚",
        goals="两年内实现稳定就业",
        deadline=date(2027, 12, 31),
        signed_by_worker=True,
        tasks=(MEASURE,),
        helping_unit="抚宁区建筑公司工会",
        pairing=PAIRING,
        today=TODAY,
    )
    household.visit(
        actor=CLERK,
        visited_on=date(2026, 7, 1),
        cadre="孙志刚",
        content="季度走访了解家庭收支",
        quarter_income=Decimal("5600"),
        parameters=PARAMETERS,
        cadre_unit="抚宁区总工会",
        cadre_post="权益保障部科员",
        cadre_phone="0335-6012345",
        costs=COSTS,
        helper_opinion="继续落实医疗互助",
        head_opinion="感谢工会帮扶",
        needs=(NEED, OTHER_NEED),
        today=TODAY,
    )
    return household


def expected(form: HouseholdForm) -> list[str]:
    head = [HEAD.name, HEAD.id_number]
    profile = [
        label(PoliticalStatus.PARTY_MEMBER),
        label(MaritalStatus.MARRIED),
        label(Education.JUNIOR),
        label(HukouType.RURAL),
        HEAD.hukou_place,
        label(WorkStatus.FLEXIBLE),
        label(EmployerNature.PRIVATE),
        label(ModelWorker.CITY),
        "肢体残疾三级",
        "租房，砖混结构，18.50㎡，非危房",
        HEAD.main_property,
        HEAD.wishes,
        "√助学帮扶",
        "√医疗救助",
        "□发展生产",
    ]
    migrant = [
        "1.50",
        "2.25",
        "0.80",
        "3.00",
        "0.40",
        "自建房，土木结构，64.00㎡，危房",
        HEAD.address,
    ]
    members = [
        *(m.name for m in (SPOUSE, CHILD)),
        label(Education.PRIMARY),
        label(Education.SENIOR),
        "A3、B3",
        SPOUSE.skills,
        SPOUSE.workplace,
        CHILD.workplace,
    ]
    signoffs = [
        "李秀英",
        "赵录入",
        "王建国",
        f"经民主评议同意上报（{day(APPRAISAL['appraised_on'])}）",
        f"情况属实同意建档（{day(date(2026, 3, 22))}）",
    ]
    if form is HouseholdForm.APPLICATION:
        return [*head, *profile, *migrant, *members, *signoffs]
    if form is HouseholdForm.FILE:
        return [*head, *profile, *migrant, *members, *signoffs]
    if form is HouseholdForm.PLAN:
        return [
            HEAD.name,
            "抚宁区建筑公司工会",
            "孙志刚",
            PAIRING.cadre_phone,
            f"{PAIRING.cadre_unit}{PAIRING.cadre_post}",
            PAIRING.union_contact,
            PAIRING.union_contact_phone,
            f"子女助学：{MEASURE.content}",
            MEASURE.department,
            f"{MEASURE.lead_unit}{MEASURE.lead_leader}",
            MEASURE.union_leader,
            MEASURE.pairing_contact,
            MEASURE.union_contact,
            day(MEASURE.deadline),
            f"{day(MEASURE.completed_on)}{MEASURE.completion}",
        ]
    if form is HouseholdForm.NEEDS:
        return [
            *head,
            HEAD.phone,
            HEAD.employer,
            "就业创业",
            "技能培训",
            "子女助学",
            "医保",
            "社保",
            "住房",
            "低保",
            "其它困难",
            NEED.problem,
            NEED.policies,
            NEED.suggestion,
            OTHER_NEED.problem,
            OTHER_NEED.suggestion,
            day(date(2026, 7, 1)),
        ]
    if form is HouseholdForm.VISITS:
        return [
            *head,
            "孙志刚",
            f"{PAIRING.cadre_unit}{PAIRING.cadre_post}",
            PAIRING.cadre_phone,
            yuan(Decimal("5600")),
            *(yuan(getattr(COSTS, n)) for n in ("insurance", "farming", "education")),
            *(yuan(getattr(COSTS, n)) for n in ("medical", "housing", "living")),
            yuan(COSTS.total()),
            "继续落实医疗互助",
            "感谢工会帮扶",
        ]
    if form is HouseholdForm.CARD:
        return [
            HEAD.name,
            "孙志刚",
            PAIRING.cadre_phone,
            f"{PAIRING.cadre_unit}{PAIRING.cadre_post}",
            PAIRING.union_contact,
            PAIRING.union_contact_phone,
        ]
    return head


FORMS = [
    HouseholdForm.APPLICATION,
    HouseholdForm.FILE,
    HouseholdForm.PLAN,
    HouseholdForm.NEEDS,
    HouseholdForm.VISITS,
    HouseholdForm.CARD,
]


@pytest.fixture
async def own(pool: asyncpg.Pool, store: PostgresEventStore, files: PgFileRepository) -> Any:
    runtime = await runtime_of(pool, store, files)
    built = full_file()
    await files.save(built)
    runtime.household = await files.get(built.id)
    return runtime


def flat(text: str) -> str:
    return "".join(text.split())


async def test_each_form_prints_every_new_fields_value(own: Any) -> None:
    missing: dict[str, list[str]] = {}
    for form in FORMS:
        printed = await printing.print_household(
            own,
            KEY,
            actor=INSPECTOR,
            file_id=own.household.id,
            form=form,
            version=None,
            purpose="核对纸质档案",
        )

        text, pages = text_of(printed.pdf)

        lost = [v for v in expected(form) if flat(v) not in text]
        if lost:
            missing[form.value] = lost
        size = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages}
        assert size == ({(243, 153)} if form is HouseholdForm.CARD else {(595, 842)}), form
    assert missing == {}


async def test_the_needs_form_has_one_page_with_the_eight_kinds_in_the_seeds_order(
    own: Any,
) -> None:
    printed = await printing.print_household(
        own,
        KEY,
        actor=INSPECTOR,
        file_id=own.household.id,
        form=HouseholdForm.NEEDS,
        version=None,
        purpose="核对纸质档案",
    )

    text, pages = text_of(printed.pdf)

    assert len(pages) == 1
    kinds = ["就业创业", "技能培训", "子女助学", "医保", "社保", "住房", "低保", "其它困难"]
    positions = [text.index(k, text.index("困难类型")) for k in kinds]
    assert positions == sorted(positions)


async def test_personal_fields_are_stored_sealed(own: Any, pool: asyncpg.Pool) -> None:
    rows = await pool.fetch(
        "SELECT payload FROM events WHERE stream_id = $1 AND type = 'household.applied'",
        own.household.id,
    )

    payload = bytes(rows[0]["payload"])
    for word in (HEAD.hukou_place, HEAD.main_property):
        assert word.encode() not in payload
    for key in ("hukou_place", "disability", "disability_grade", "main_property"):
        assert f'"{key}":"enc:1:'.encode() in payload
    # what a clerk filters by stays readable
    assert b'"political_status":"party_member"' in payload
    assert replace(own.household.head) == own.household.head
    assert own.household.head.disability == "physical"


class TestTheLedger:
    async def test_filters_by_the_heads_profile_live_and_after_a_rebuild(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ) -> None:
        profiled = full_file()
        plain = approved_file()
        await files.save(profiled)
        await files.save(plain)
        await runner(store).catch_up()
        live = await snapshot(pool)

        for projection in runner(store).projections:
            await rebuild(store, EventCodec(keyring=store.keyring), projection)

        assert await snapshot(pool) == live
        for spec, found in (
            ({"political_statuses": ("party_member",)}, {profiled.id}),
            ({"model_workers": ("city", "national")}, {profiled.id}),
            ({"disabilities": ("physical",)}, {profiled.id}),
            ({"disabilities": ("vision",)}, set()),
            ({"dilapidated": True}, {profiled.id}),  # the house at home is a 危房
            ({}, {profiled.id, plain.id}),
        ):
            rows, _ = await reads.ledger_page(
                pool,
                reads.LedgerFilter(root="13", **spec),  # type: ignore[arg-type]
                sort="applied_on",
                descending=False,
                after=None,
                limit=10,
            )
            assert {r["file_id"] for r in rows} == found, spec

    async def test_forgets_the_disability_once_personal_data_is_erased(
        self, store: PostgresEventStore, files: PgFileRepository, pool: asyncpg.Pool
    ) -> None:
        household = full_file()
        household.exit(
            actor=CLERK,
            exited_on=date(2026, 8, 1),
            kind=ExitKind.CANCELLED,
            reason=ExitReason.MOVED,
            explanation="迁出本地",
            evidence=("迁出证明",),
            today=TODAY,
        )
        household.erase_personal_data(
            actor=Actor("admin-zhao", BASE[:6], Role.ADMIN),
            erased_on=date(2026, 9, 1),
            reason="本人申请",
            today=TODAY,
        )
        await files.save(household)

        await runner(store).catch_up()

        row = await pool.fetchrow(
            "SELECT disability, political_status FROM ledger WHERE file_id = $1", household.id
        )
        assert (row["disability"], row["political_status"]) == (None, "party_member")
