"""The paper forms' fields (issue 14): the head's profile, the members' 表三 columns, the plan's
measures one by one, the visit's cost lines, opinions and 困难清单, the pairing and the sign-offs —
recorded on their events, and refused in Chinese, with nothing written, when a code is unknown or
a value does not fit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from adapters.http.console import forms
from adapters.http.schemas import RevisionIn
from adapters.http.views import file_out
from domain.commands import execute
from domain.errors import InvalidValue
from domain.household import HEAD_PERSONAL, HouseholdFile, erased_head
from domain.privacy import ERASED
from domain.profile import Housing, Land, Need, Pairing, PlanMeasure, QuarterCosts
from domain.values import (
    AidType,
    Education,
    HousingStructure,
    HousingType,
    Insurance,
    ModelWorker,
    NeedKind,
    PoliticalStatus,
    Status,
    WorkerKind,
    label,
)

from .given import (
    APPROVER,
    CLERK,
    PARAMETERS,
    TODAY,
    application,
    appraisal,
    approval,
    given,
    head,
    history,
    record,
    spouse,
    then,
    then_refused,
    verifying,
    when,
)

MIGRANT_HEAD: dict[str, Any] = {"labour_relation_since": date(2024, 1, 1)}

MEASURE = PlanMeasure(
    kind=NeedKind.SCHOOLING,
    content="申请金秋助学金",
    department="县教育局",
    lead_unit="抚宁区总工会",
    lead_leader="刘副主席",
    union_leader="陈主席",
    pairing_contact="孙三",
    union_contact="李四",
    deadline=date(2026, 9, 30),
)
PAIRING = Pairing("抚宁区总工会", "科员", "0335-6012345", "李四", "0335-6019876")
COSTS = QuarterCosts(
    insurance=Decimal("450"),
    education=Decimal("800"),
    medical=Decimal("1200"),
    housing=Decimal("600"),
    living=Decimal("900"),
)
NEED = Need(NeedKind.MEDICAL_INSURANCE, "自付医疗费用高", "已参加职工医保", "申请医疗互助")


def planning(**overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "actor": CLERK,
        "agreed_on": date(2026, 4, 2),
        "helper": "孙三",
        "goals": "一年内再就业",
        "deadline": date(2027, 4, 1),
        "signed_by_worker": True,
        "tasks": (MEASURE,),
        "helping_unit": "抚宁区某机械厂工会",
        "pairing": PAIRING,
        "today": TODAY,
    }
    return lambda f: f.agree_plan(**(fields | overrides))


def visiting(**overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "actor": CLERK,
        "visited_on": date(2026, 6, 1),
        "cadre": "孙三",
        "content": "季度走访",
        "quarter_income": Decimal("3600"),
        "parameters": PARAMETERS,
        "cadre_unit": "抚宁区总工会",
        "cadre_post": "科员",
        "cadre_phone": "0335-6012345",
        "costs": COSTS,
        "helper_opinion": "继续落实医疗互助",
        "head_opinion": "感谢帮扶",
        "needs": (NEED,),
        "today": TODAY,
    }
    return lambda f: f.visit(**(fields | overrides))


def applying(**head_fields: Any) -> Any:
    return lambda _: HouseholdFile.receive_application(**application(head=head(**head_fields)))


class TestTheHeadsProfile:
    def test_is_recorded_with_the_application(self):
        outcome = when(
            None,
            applying(
                political_status=PoliticalStatus.PARTY_MEMBER,
                education=Education.SENIOR,
                housing=Housing(HousingType.RENTED, HousingStructure.BRICK_CONCRETE, Decimal("40")),
                model_worker=ModelWorker.CITY,
                disability="physical",
                disability_grade="3",
                wishes="稳定就业",
                aid_types=(AidType.TRAINING, AidType.TRAINING, AidType.MEDICAL),
            ),
        )

        event = then(outcome, HouseholdFile.Applied)
        recorded = event.head  # type: ignore[attr-defined]
        assert recorded.housing.area == Decimal("40.00")
        assert recorded.aid_types == (AidType.TRAINING, AidType.MEDICAL)
        assert (recorded.disability, recorded.disability_grade) == ("physical", "3")

    @pytest.mark.parametrize(
        ("fields", "field", "zh"),
        [
            ({"political_status": "party"}, "head.political_status", "户主政治面貌：政治面貌无效"),
            ({"education": "phd"}, "head.education", "户主文化程度：文化程度无效"),
            ({"aid_types": ("production", "x")}, "head.aid_types", "户主帮扶类型：帮扶类型无效"),
            ({"disability": "blind", "disability_grade": "1"}, "head.disability", "残疾类别无效"),
            ({"disability": "vision"}, "head.disability_grade", "须同时填写"),
            (
                {"housing": Housing(area=Decimal("-1"))},
                "head.housing.area",
                "户主住房情况面积：面积须为不小于0的数",
            ),
            (
                {"housing": Housing(kind="villa")},  # type: ignore[arg-type]
                "head.housing.kind",
                "住房类型无效",
            ),
        ],
    )
    def test_refuses_a_bad_code_in_chinese(self, fields: dict[str, Any], field: str, zh: str):
        outcome = when(None, applying(**fields))

        error = then_refused(outcome, InvalidValue, field=field)
        assert zh in error.zh

    def test_takes_land_and_housing_at_home_for_a_migrant_worker_only(self):
        land = Land(paddy=Decimal("1.5"), timber_forest=Decimal("3"))

        urban = when(None, applying(land=land))
        migrant = when(
            None,
            lambda _: HouseholdFile.receive_application(
                **application(worker_kind=WorkerKind.MIGRANT, head=head(land=land, **MIGRANT_HEAD))
            ),
        )

        error = then_refused(urban, InvalidValue, field="head.land")
        assert error.zh == "户主土地：土地及祖居地住房仅限农民工填写"
        event = then(migrant, HouseholdFile.Applied)
        assert event.head.land == Land(paddy=Decimal("1.50"), timber_forest=Decimal("3.00"))  # type: ignore[attr-defined]

    def test_is_changed_by_a_revision(self):
        file = given(*history(Status.APPROVED))

        outcome = when(
            file,
            lambda f: f.revise(
                actor=CLERK,
                effective_on=date(2026, 7, 1),
                reason="住房鉴定为危房",
                head=head(housing=Housing(HousingType.SELF_BUILT, dilapidated=True)),
                today=TODAY,
            ),
        )

        then(outcome, HouseholdFile.Revised)
        assert outcome.file is not None
        assert outcome.file.head.housing == Housing(HousingType.SELF_BUILT, dilapidated=True)

    def test_personal_parts_are_erased_with_the_rest(self):
        profile = head(hukou_place="青龙县", disability="mental", disability_grade="2")

        erased = erased_head(profile)

        assert {"hukou_place", "disability", "disability_grade", "main_property"} <= set(
            HEAD_PERSONAL
        )
        assert (erased.hukou_place, erased.disability, erased.disability_grade) == (ERASED,) * 3
        assert erased.main_property == ""  # nothing recorded, nothing to erase


class TestAMembersColumns:
    def test_are_recorded_by_the_investigation(self):
        file = given(*history(Status.APPLIED))
        member = spouse(
            education=Education.JUNIOR,
            insurance=(Insurance.A1, Insurance.B1, Insurance.F),
            skills="缝纫",
            workplace="某服装厂",
        )

        outcome = when(file, verifying(members=(member,)))

        event = then(outcome, HouseholdFile.Verified)
        assert event.members[0].insurance == (Insurance.A1, Insurance.B1, Insurance.F)  # type: ignore[attr-defined]
        assert label(Insurance.A2) == "A2城镇职工灵活再就业养老保险"

    def test_refuse_an_unknown_insurance_code(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, verifying(members=(spouse(insurance=("A4",)),)))

        error = then_refused(outcome, InvalidValue, field="members[0].insurance")
        assert error.zh == "第1名成员五险一金：五险一金代码无效"


class TestAPlansMeasures:
    def test_are_recorded_one_by_one_with_the_pairings_contacts(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, planning())

        then(
            outcome,
            HouseholdFile.PlanAgreed,
            measures=("申请金秋助学金",),
            tasks=(MEASURE,),
            helping_unit="抚宁区某机械厂工会",
            pairing=PAIRING,
        )

    def test_record_a_completion_when_the_plan_is_agreed_again(self):
        file = given(*record(*_approval(), planning()))
        done = PlanMeasure(
            **{**_fields(MEASURE), "completion": "已发放3000元", "completed_on": date(2026, 9, 1)}
        )

        outcome = when(file, planning(tasks=(done,)))

        event = then(outcome, HouseholdFile.PlanAgreed)
        assert event.tasks[0].completion == "已发放3000元"  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ("item", "field", "zh"),
        [
            ({"kind": "dibao_plus"}, "tasks[0].kind", "帮扶措施类型无效"),
            ({"deadline": date(2026, 4, 1)}, "tasks[0].deadline", "完成时限不能早于计划日期"),
            ({"content": " "}, "tasks[0].content", "不能为空"),
            ({"completed_on": date(2026, 9, 1)}, "tasks[0].completion", "须填写完成情况"),
        ],
    )
    def test_refuse_a_measure_that_does_not_fit(self, item: dict[str, Any], field: str, zh: str):
        file = given(*history(Status.APPROVED))
        bad = PlanMeasure(**(_fields(MEASURE) | item))

        outcome = when(file, planning(tasks=(bad,)))

        error = then_refused(outcome, InvalidValue, field=field)
        assert zh in error.zh

    def test_refuse_a_pairing_phone_that_is_not_a_number(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, planning(pairing=Pairing(cadre_phone="call me")))

        error = then_refused(outcome, InvalidValue, field="pairing.cadre_phone")
        assert error.zh == "结对帮扶联系电话：电话号码只能包含数字"


class TestAVisitsRecord:
    def test_holds_the_cadre_the_cost_lines_their_total_the_opinions_and_the_needs(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, visiting())

        then(
            outcome,
            HouseholdFile.Visited,
            cadre_unit="抚宁区总工会",
            cadre_phone="0335-6012345",
            quarter_costs=Decimal("3950.00"),
            helper_opinion="继续落实医疗互助",
            head_opinion="感谢帮扶",
            needs=(NEED,),
        )

    def test_refuses_a_total_the_lines_do_not_add_up_to(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, visiting(quarter_costs=Decimal("100")))

        error = then_refused(outcome, InvalidValue, field="quarter_costs")
        assert "各项支出合计为3950.00元" in error.zh

    def test_refuses_farming_costs_for_an_urban_worker(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, visiting(costs=QuarterCosts(farming=Decimal("300"))))

        error = then_refused(outcome, InvalidValue, field="costs.farming")
        assert error.zh == "季度支出农业生产经营成本：农业生产经营成本仅限农民工填写"

    @pytest.mark.parametrize(
        ("needs", "field", "zh"),
        [
            ((Need("food", "缺粮"),), "needs[0].kind", "困难类型无效"),  # type: ignore[arg-type]
            ((NEED, NEED), "needs[1].kind", "同一困难类型只能填写一行"),
            ((Need(NeedKind.HOUSING, ""),), "needs[0].problem", "不能为空"),
        ],
    )
    def test_refuses_a_needs_list_that_does_not_fit(
        self, needs: tuple[Need, ...], field: str, zh: str
    ):
        file = given(*history(Status.APPROVED))

        outcome = when(file, visiting(needs=needs))

        error = then_refused(outcome, InvalidValue, field=field)
        assert zh in error.zh


class TestTheSignOffs:
    def test_are_recorded_on_the_application_the_appraisal_and_the_approval(self):
        events = record(
            verifying(),
            lambda f: f.appraise(**_appraisal(base_opinion="同意上报")),
            lambda f: f.approve(
                **_approval_args(
                    reviewed_by="王五",
                    system_opinion="同意",
                    system_opinion_on=date(2026, 3, 22),
                )
            ),
            filed_by="李四",
            entered_by="赵六",
        )

        applied, _, appraised, approved = events
        assert (applied.filed_by, applied.entered_by) == ("李四", "赵六")  # type: ignore[attr-defined]
        assert appraised.base_opinion == "同意上报"  # type: ignore[attr-defined]
        assert (approved.reviewed_by, approved.system_opinion_on) == ("王五", date(2026, 3, 22))  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ("fields", "zh"),
        [
            ({"system_opinion": "同意"}, "填写系统工会意见须注明日期"),
            (
                {"system_opinion": "同意", "system_opinion_on": date(2026, 3, 26)},
                "不能晚于审批日期",
            ),
        ],
    )
    def test_refuse_a_system_unions_opinion_without_a_fitting_date(
        self, fields: dict[str, Any], zh: str
    ):
        file = given(*history(Status.APPRAISED))

        outcome = when(file, lambda f: f.approve(**_approval_args(**fields)))

        error = then_refused(outcome, InvalidValue, field="system_opinion_on")
        assert zh in error.zh


def _fields(measure: PlanMeasure) -> dict[str, Any]:
    return {name: getattr(measure, name) for name in PlanMeasure.__slots__}  # type: ignore[attr-defined]


def _approval() -> tuple[Any, ...]:
    return (
        verifying(),
        lambda f: f.appraise(**_appraisal()),
        lambda f: f.approve(**_approval_args()),
    )


def _appraisal(**overrides: Any) -> dict[str, Any]:
    return appraisal(**overrides)


def _approval_args(**overrides: Any) -> dict[str, Any]:
    return approval(actor=APPROVER, **overrides)


class TestTheFileView:
    def test_shows_the_profile_in_chinese_with_its_personal_parts_masked(self):
        file = given(
            *record(
                head=head(
                    political_status=PoliticalStatus.MASSES,
                    hukou_place="青龙县",
                    disability="physical",
                    disability_grade="3",
                    housing=Housing(HousingType.RENTED, dilapidated=True),
                )
            )
        )

        masked, clear = file_out(file), file_out(file, masked=False)

        assert masked.profile is not None
        assert clear.profile is not None
        assert dict(map(tuple, masked.profile.lines)) == {
            "政治面貌": "群众",
            "户籍所在地": "***",
            "住房情况": "租房，危房",
            "残疾类别及等级": "***",
        }
        assert (masked.profile.disability, masked.profile.political_status) == ("***", "masses")
        assert dict(map(tuple, clear.profile.lines))["残疾类别及等级"] == "肢体残疾 三级"


class TestTheConsolesRevision:
    def test_keeps_the_heads_profile_and_the_members_columns_the_form_does_not_show(self):
        profile = {
            "political_status": PoliticalStatus.PARTY_MEMBER,
            "housing": Housing(HousingType.RENTED, dilapidated=True),
            "disability": "physical",
            "disability_grade": "2",
        }
        member = spouse(education=Education.JUNIOR, insurance=(Insurance.B2,), skills="缝纫")
        file = given(*record(verifying(members=(member,)), *_approval()[1:], head=head(**profile)))
        action = forms.for_file(forms.BY_SLUG["revisions"], file)
        fields = {
            "effective_on": ["2026-06-01"],
            "reason": ["户主换了手机号"],
            "head.phone": ["13600001111"],
            "members[0].annual_income": ["1200"],
        }

        posted = forms.read(action, fields, "zh", household=file)
        execute(file, msgspec.convert(posted.body, RevisionIn).command(), actor=CLERK, today=TODAY)

        assert posted.errors == {}
        revised = file.head
        assert (revised.phone, revised.political_status) == (
            "13600001111",
            profile["political_status"],
        )
        assert (revised.housing, revised.disability_grade) == (profile["housing"], "2")
        assert (file.members[0].insurance, file.members[0].skills) == ((Insurance.B2,), "缝纫")
