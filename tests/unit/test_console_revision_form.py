"""The console's revision form changes the head and the members of a file: blank is unchanged, a
member row changes the fields given or is removed, a blank row adds a member; the form merges
with the file on the server and never shows its personal data but masked. A scan's name shows
masked as ID numbers and phones are."""

from __future__ import annotations

from adapters.http.console import forms
from adapters.http.console.files import mask_text
from domain.values import Status
from tests.unit.given import CHILD_ID, HEAD_ID, SPOUSE_ID, given, history

REVISION = forms.BY_SLUG["revisions"]
BASICS = {"effective_on": ["2026-06-01"], "reason": ["户主换了手机号"]}


def posted(**values: str) -> forms.Posted:
    household = given(*history(Status.APPROVED))
    action = forms.for_file(REVISION, household)
    fields = BASICS | {path: [value] for path, value in values.items()}
    return forms.read(action, fields, "zh", household=household)


def test_a_revision_given_the_heads_phone_keeps_the_rest_of_the_head():
    revision = posted(**{"head.phone": "13600001111"})

    assert revision.errors == {}
    assert revision.body["head"]["phone"] == "13600001111"
    assert revision.body["head"]["id_number"] == HEAD_ID
    assert revision.body["head"]["employer"] == "抚宁区某机械厂"
    assert "members" not in revision.body  # no member row given: no member change


def test_a_member_ticked_for_removal_leaves_and_a_filled_blank_row_joins():
    revision = posted(
        **{
            "members[0].remove": "on",
            "members[1].name": "张小明",
            "members[1].relation": "child",
            "members[1].id_number": CHILD_ID,
            "members[1].status": "student",
        }
    )

    assert revision.errors == {}
    assert [(m["name"], m["id_number"]) for m in revision.body["members"]] == [("张小明", CHILD_ID)]
    assert "head" not in revision.body


def test_a_member_row_changes_only_the_fields_given():
    revision = posted(**{"members[0].annual_income": "3600"})

    assert revision.errors == {}
    assert [
        (m["id_number"], m["annual_income"], m["relation"]) for m in revision.body["members"]
    ] == [(SPOUSE_ID, "3600", "spouse")]


def test_a_new_members_missing_field_stays_beside_its_row():
    revision = posted(**{"members[1].name": "张小明", "members[1].relation": "child"})

    assert set(revision.errors) == {"members[1].id_number", "members[1].status"}


def test_the_form_shows_the_files_values_masked_as_placeholders_never_in_its_fields():
    household = given(*history(Status.APPROVED))

    action = forms.for_file(REVISION, household)

    assert action.hints["head.phone"] == "139****5678"
    assert action.hints["members[0].id_number"] == SPOUSE_ID[:6] + "********" + SPOUSE_ID[-4:]
    assert "members[0].remove" in {f.path for f in action.fields}
    assert "members[1].remove" not in {f.path for f in action.fields}  # a new member's row
    assert "head.id_number" not in {f.path for f in action.fields}  # not changed by revision


def test_every_other_action_is_the_same_for_every_file():
    household = given(*history(Status.APPROVED))

    assert forms.for_file(forms.BY_SLUG["visits"], household) is forms.BY_SLUG["visits"]


def test_a_scans_name_is_masked_as_id_numbers_and_phones_are():
    assert mask_text("王芳身份证130306198002030220.png") == "王芳身份证130306********0220.png"
    assert mask_text("电话13912345678.jpg") == "电话139****5678.jpg"
    assert mask_text("户口簿第2页.pdf") == "户口簿第2页.pdf"
