"""The console's forms carry the paper forms' own fields (domain/profile.py): the head's profile
as selects, ticks and a migrant workers' group, the plan's tasks and the visit's 困难清单 as
repeated rows whose blank rows are not sent, the visit's cost lines and the sign-offs; a refusal
naming a nested field or a row of the body comes back beside the form's input; the timeline
shows an enumeration's Chinese label, not its code."""

from __future__ import annotations

from datetime import date

from adapters.http.console import forms
from adapters.http.console.files import _shown
from domain.errors import InvalidValue
from domain.household import Head
from domain.profile import Housing
from domain.values import HousingType, PoliticalStatus, Status, WorkerKind
from tests.unit.given import HEAD_ID, PATHS, given, head, record

APPLICATION = {
    "establishing_unit": ["130306001"],
    "worker_kind": ["urban"],
    "head.name": ["李四"],
    "head.id_number": [HEAD_ID],
    "applied_on": ["2026-01-05"],
    "authorisation_signed": ["on"],
}
PLAN = {
    "agreed_on": ["2026-04-01"],
    "helper": ["周五"],
    "goals": ["年内脱困"],
    "deadline": ["2026-12-31"],
}
VISIT = {"visited_on": ["2026-04-11"], "cadre": ["周五"], "content": ["走访"]}


def read(slug: str, basics: dict[str, list[str]], **values: str | list[str]) -> forms.Posted:
    action = forms.APPLICATION if slug == "application" else forms.BY_SLUG[slug]
    given_values = {k: v if isinstance(v, list) else [v] for k, v in values.items()}
    return forms.read(action, basics | given_values, "zh")


def test_the_heads_profile_becomes_the_bodys_nested_head():
    posted = read(
        "application",
        APPLICATION,
        **{
            "head.political_status": "party_member",
            "head.aid_types": ["medical", "training"],
            "head.housing.kind": "rented",
            "head.housing.area": "45.5",
            "head.housing.dilapidated": "no",
            "head.home_housing.dilapidated": "",
            "filed_by": "李文",
        },
    )

    assert posted.errors == {}
    head = posted.body["head"]
    assert head["political_status"] == "party_member"
    assert head["aid_types"] == ["medical", "training"]
    assert head["housing"] == {"kind": "rented", "area": "45.5", "dilapidated": False}
    assert "home_housing" not in head  # 是否危房 left blank is not recorded, not 否
    assert posted.body["filed_by"] == "李文"
    built = forms.build(forms.APPLICATION, posted)
    assert built.head.housing.kind is HousingType.RENTED


def test_an_unknown_code_in_a_select_stays_beside_it():
    posted = read("application", APPLICATION, **{"head.political_status": "king"})

    assert posted.errors == {"head.political_status": "请从列表中选择"}


def test_a_plans_blank_task_rows_are_not_sent_and_its_refusal_names_the_forms_row():
    posted = read(
        "plan",
        PLAN,
        **{
            "tasks[0].kind": "employment",
            "tasks[0].content": "推荐到园区就业",
            "tasks[2].kind": "medical_insurance",
            "tasks[2].content": "办理大病保险",
            "tasks[2].deadline": "2026-06-30",
            "pairing.union_contact": "李文",
            "helping_unit": "县医保局",
        },
    )
    sent_second = "tasks[1].deadline"  # the body's second row is the form's third
    forms.refused(
        forms.BY_SLUG["plan"],
        posted,
        InvalidValue(sent_second, "before", zh="完成时限不能早于计划日期"),
        "zh",
    )

    assert [t["kind"] for t in posted.body["tasks"]] == ["employment", "medical_insurance"]
    assert posted.body["pairing"] == {"union_contact": "李文"}
    assert posted.body["helping_unit"] == "县医保局"
    assert posted.errors == {"tasks[2].deadline": "帮扶任务第3项完成期限：完成时限不能早于计划日期"}


def test_a_task_row_without_its_kind_is_refused_beside_the_rows_kind():
    posted = read("plan", PLAN, **{"tasks[1].content": "推荐到园区就业"})

    assert set(posted.errors) == {"tasks[1].kind"}


def test_a_visits_cost_lines_and_needs_are_sent_as_records():
    posted = read(
        "visits",
        VISIT,
        **{
            "costs.medical": "300",
            "costs.living": "600.50",
            "needs[1].kind": "medical_insurance",
            "needs[1].problem": "妻子住院费用高",
            "cadre_unit": "县总工会",
        },
    )

    assert posted.errors == {}
    assert posted.body["costs"] == {"medical": "300", "living": "600.50"}
    assert posted.body["needs"] == [{"kind": "medical_insurance", "problem": "妻子住院费用高"}]
    assert posted.body["cadre_unit"] == "县总工会"


def test_a_refusal_naming_a_record_stays_beside_its_first_input():
    posted = read("application", APPLICATION, **{"head.land.paddy": "2"})

    forms.refused(
        forms.APPLICATION,
        posted,
        InvalidValue("head.land", "migrants only", zh="土地及祖居地住房仅限农民工填写"),
        "zh",
    )

    assert posted.errors == {"head.land.paddy": "户主土地：土地及祖居地住房仅限农民工填写"}


def test_the_sign_offs_are_fields_of_their_forms():
    paths = {
        slug: {f.path for f in forms.BY_SLUG[slug].fields} for slug in ("appraisal", "approval")
    }

    assert {"filed_by", "entered_by"} <= {f.path for f in forms.APPLICATION.fields}
    assert "base_opinion" in paths["appraisal"]
    assert {"reviewed_by", "system_opinion", "system_opinion_on"} <= paths["approval"]


def test_a_revision_shows_the_profile_as_labels_and_merges_a_housing_field_by_field():
    housed = Head(
        name="张𠀀",
        id_number=HEAD_ID,
        political_status=PoliticalStatus.PARTY_MEMBER,
        housing=Housing(kind=HousingType.RENTED, area=None),
    )
    household = given(*record(*PATHS[Status.APPROVED], head=housed))
    action = forms.for_file(forms.BY_SLUG["revisions"], household)

    posted = forms.read(
        action,
        {"effective_on": ["2026-06-01"], "reason": ["搬家"], "head.housing.area": ["30"]},
        "zh",
        household=household,
    )

    assert action.hints["head.political_status"] == "中共党员"
    assert action.hints["head.housing.kind"] == "租房"
    assert not any(f.migrant for f in action.fields)  # an urban worker's file
    assert posted.errors == {}
    housing = posted.body["head"]["housing"]
    assert {k: v for k, v in housing.items() if v is not None} == {"kind": "rented", "area": "30"}
    assert posted.body["head"]["political_status"] == "party_member"


def test_a_migrant_workers_revision_offers_the_migrant_group():
    migrant = head(labour_relation_since=date(2020, 1, 1))
    household = given(
        *record(*PATHS[Status.APPROVED], worker_kind=WorkerKind.MIGRANT, head=migrant)
    )

    action = forms.for_file(forms.BY_SLUG["revisions"], household)

    assert "head.land.paddy" in {f.path for f in action.fields}
    assert forms.MIGRANT_TITLE in [title for title, _ in action.groups()]


def test_the_timeline_shows_codes_as_their_chinese_labels():
    applied = {"political_status": "party_member", "housing": {"kind": "rented", "area": "45"}}
    tasks = [{"kind": "medical_insurance", "department": "medical_insurance"}]

    assert "政治面貌：中共党员" in _shown(applied, "head", "applied")
    assert "住房情况：类别：租房；面积：45" in _shown(applied, "head", "applied")
    # a task's department is free text; an assistance's is one of `Department`
    assert _shown(tasks, "tasks", "plan_agreed") == "类别：医保；帮扶部门：medical_insurance"
    assert _shown("medical_insurance", "department", "assisted") == "医保"
    assert _shown("party_member", "political_status", "applied", english=True) == "party_member"
