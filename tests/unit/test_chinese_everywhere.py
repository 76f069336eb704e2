"""Chinese wherever a clerk reads: every enumeration has its label, and a refusal's Chinese message
names states, commands, fields and values by their labels, never by an English code."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum

import pytest

from domain import values
from domain.authorization import ACT_LABELS_ZH, Act
from domain.civil_affairs import Record, record_label
from domain.eligibility import Exclusions
from domain.errors import WrongState
from domain.values import (
    Actor,
    AssistanceKind,
    Department,
    ExitKind,
    ExitReason,
    Material,
    MemberStatus,
    RecheckResult,
    Relation,
    Role,
    Status,
    label,
    synonyms,
)

from .given import (
    APPROVER,
    BASE_APPROVER,
    CLERK,
    TODAY,
    Command,
    appraising,
    approving,
    assisting,
    exiting,
    given,
    history,
    rejecting,
    returning,
    spouse,
    then_refused,
    verifying,
    when,
)

ENUMERATIONS: tuple[type[StrEnum], ...] = tuple(
    v
    for v in vars(values).values()
    if isinstance(v, type) and issubclass(v, StrEnum) and v is not StrEnum
)
CODES = sorted(
    {m.value for kind in (*ENUMERATIONS, Act, Record) for m in kind if not m.value.isdigit()},
    key=len,
    reverse=True,
)
# An English code as a word: letters, digits and '_' (v2016, out_of_hardship) not inside a word.
CODE_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, CODES)) + r")(?![A-Za-z0-9_])"
)


class TestEveryEnumeration:
    @pytest.mark.parametrize("kind", ENUMERATIONS, ids=lambda k: k.__name__)
    def test_has_a_chinese_label_for_each_value(self, kind: type[StrEnum]) -> None:
        missing = [m.value for m in kind if not re.search(r"[\u4e00-\u9fff]", label(m))]

        assert missing == []

    @pytest.mark.parametrize("kind", ENUMERATIONS, ids=lambda k: k.__name__)
    def test_has_labels_and_synonyms_that_name_one_value_each(self, kind: type[StrEnum]) -> None:
        words = [label(m) for m in kind] + [s for m in kind for s in synonyms(m)]

        assert len(words) == len(set(words)), sorted(w for w in words if words.count(w) > 1)

    def test_acts_and_civil_affairs_records_have_theirs(self) -> None:
        assert set(ACT_LABELS_ZH) == set(Act)
        assert all(record_label(r) != r.value for r in Record)

    @pytest.mark.parametrize(
        ("value", "zh"),
        [
            (Relation.SPOUSE, "配偶"),
            (MemberStatus.UNEMPLOYED, "无业"),
            (Material.AUTHORISATION, "授权书（声明书）"),
            (Department.CIVIL_AFFAIRS, "民政"),
            (AssistanceKind.EDUCATION_AID, "子女助学"),
            (ExitReason.DEATH, "死亡"),
            (RecheckResult.EXIT_DUE, "应予退出"),
            (Role.CLERK, "基层工会经办人"),
        ],
    )
    def test_those_english_before_read_in_chinese(self, value: StrEnum, zh: str) -> None:
        assert label(value) == zh


class TestAWrongStateMessage:
    def test_names_the_status_and_the_command_in_chinese(self) -> None:
        file = given(*history(Status.CANCELLED))

        outcome = when(file, assisting())

        error = then_refused(outcome, WrongState, status="cancelled")
        # relieved (解困) households keep their regular aid
        assert (
            error.zh == "档案当前状态为「已注销」，不能办理「帮扶」（可办理的状态：在档、已解困）"
        )

    def test_keeps_the_codes_for_the_api(self) -> None:
        error = WrongState("approve", "applied", ("appraised",))

        assert (error.command, error.status, error.allowed) == (
            "approve",
            "applied",
            ("appraised",),
        )
        assert "'approve'" in error.message
        assert "applied" in error.message

    def test_of_an_erased_file_says_so_in_chinese(self) -> None:
        error = WrongState("assist", "cancelled", (), erased=True)

        assert (
            error.zh
            == "档案当前状态为「已注销（个人信息已销毁）」，不能办理「帮扶」（任何状态均不可办理）"
        )

    def test_of_an_unknown_command_shows_no_code(self) -> None:
        assert "frobnicate" not in WrongState("frobnicate", "applied", ()).zh


INSPECTOR = Actor("inspector-he", "130306", Role.INSPECTOR)

# One refusal of each kind the domain makes, from each lifecycle corner: (name, status, command).
REFUSALS: list[tuple[str, Status, Command]] = [
    ("approve an applied file", Status.APPLIED, approving()),
    ("assist a rejected file", Status.REJECTED, assisting()),
    ("verify an approved file", Status.APPROVED, verifying()),
    ("return a deleted file", Status.DELETED, returning()),
    ("relieve a relieved file", Status.RELIEVED, exiting(ExitKind.RELIEVED)),
    ("appraise a sent-back file", Status.SENT_BACK, appraising()),
    ("reject an approved file", Status.APPROVED, rejecting()),
    ("approve by a base union", Status.APPRAISED, approving(actor=BASE_APPROVER)),
    ("approve by a clerk", Status.APPRAISED, approving(actor=CLERK)),
    ("assist by an inspector", Status.APPROVED, assisting(actor=INSPECTOR)),
    ("one investigator", Status.APPLIED, verifying(investigators=("赵一",))),
    ("negative income", Status.APPLIED, verifying(annual_income=Decimal("-1"))),
    ("future investigation", Status.APPLIED, verifying(verified_on=date(2099, 1, 1))),
    ("member's bad ID", Status.APPLIED, verifying(members=(spouse(id_number="1234"),))),
    ("a car", Status.APPLIED, verifying(exclusions=Exclusions(car_or_luxury=True))),
    ("income above the line", Status.APPLIED, verifying(annual_income=Decimal("99000"))),
    ("no minutes", Status.VERIFIED, appraising(minutes_on_file=False)),
    ("publicity before appraisal", Status.VERIFIED, appraising(publicity_start=date(2026, 3, 1))),
    ("approval before publicity ends", Status.APPRAISED, approving(approved_on=date(2026, 3, 14))),
    ("an unknown file level", Status.APPRAISED, approving(file_level="district")),
    ("a float amount", Status.APPROVED, assisting(amount=1.5)),
    ("assistance before approval", Status.APPROVED, assisting(assisted_on=date(2026, 3, 1))),
    ("exit for a wrong reason", Status.APPROVED, exiting(reason=ExitReason.DEATH)),
    ("exit without evidence", Status.APPROVED, exiting(evidence=())),
    ("deletion by a clerk", Status.APPROVED, exiting(ExitKind.DELETED, actor=CLERK)),
    ("return before exit", Status.OUT_OF_HARDSHIP, returning(returned_on=date(2026, 6, 1))),
    ("transfer to a district", Status.APPROVED, lambda f: f.transfer(
        actor=CLERK, transferred_on=date(2026, 5, 1), to_unit="130306", reason="调动", today=TODAY
    )),
    ("erase an open file", Status.APPROVED, lambda f: f.erase_personal_data(
        actor=APPROVER, erased_on=date(2026, 5, 1), reason="本人申请", today=TODAY
    )),
]  # fmt: skip


class TestEveryRefusal:
    @pytest.mark.parametrize(
        ("status", "command"), [(s, c) for _, s, c in REFUSALS], ids=[n for n, _, _ in REFUSALS]
    )
    def test_says_in_chinese_what_is_wrong_without_an_english_code(
        self, status: Status, command: Command
    ) -> None:
        file = given(*history(status))

        outcome = when(file, command)

        assert outcome.error is not None, "the table lists refusals only"
        assert re.search(r"[\u4e00-\u9fff]", outcome.error.zh), outcome.error.zh
        assert CODE_IN_TEXT.findall(outcome.error.zh) == [], outcome.error.zh
        assert re.findall(r"[a-z_]{3,}", outcome.error.zh) == [], outcome.error.zh

    def test_the_scan_finds_a_code_where_there_is_one(self) -> None:
        assert CODE_IN_TEXT.findall("档案当前状态为「cancelled」") == ["cancelled"]
        assert CODE_IN_TEXT.findall("档案当前状态为「已注销」") == []


class TestAFieldInAChineseMessage:
    def test_is_named_as_the_form_heads_it(self) -> None:
        outcome = when(given(*history(Status.APPLIED)), verifying(rigid_expenses=Decimal("-5")))

        error = then_refused(outcome, values.InvalidValue, field="rigid_expenses")
        assert error.zh.startswith("刚性支出：")

    def test_of_a_member_is_named_by_place(self) -> None:
        outcome = when(given(*history(Status.APPLIED)), verifying(members=(spouse(id_number="1"),)))

        error = then_refused(outcome, values.InvalidValue)
        assert error.zh.startswith("第1名成员身份证号码：")
