"""Spot-check rules: a clean file has no findings; each broken file has exactly its finding.

Broken files are made the way a spot-check meets them: by altering stored events (an import, an
older system, a forged row), since the domain's commands would refuse most of these histories.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from adapters.services.scans import scan
from domain.attachments import MediaType
from domain.eligibility import Exclusions, Means
from domain.household import Head, HouseholdFile, Member
from domain.idnumber import make_id_number
from domain.policy import Parameters, PolicyBook, RegionalPolicy
from domain.rules import RULES, Context, check, history_of
from domain.units import UnitEntry, Units
from domain.values import (
    Actor,
    AssistanceKind,
    Category,
    Cause,
    Department,
    ExitKind,
    ExitReason,
    FileLevel,
    Level,
    Material,
    MemberStatus,
    Relation,
    Role,
    UnitKind,
    WorkerKind,
)

TODAY = date(2026, 11, 21)
CLERK = Actor("clerk", "130306001", Role.CLERK)
APPROVER = Actor("approver", "130306", Role.APPROVER)
ADMIN = Actor("admin", "13", Role.ADMIN)
# what the commands were handed when the clean file was made (the book below says the same)
IN_FORCE = Parameters(date(2020, 1, 1), Decimal("550"))
# The clean file's scans: the signed authorisation (a PDF) and the diagnosis its cause needs (a
# PNG), by kind; their ids are fixed so a test can store their content (tests/integration).
SCANS: dict[Material, tuple[UUID, str, bytes]] = {
    Material.AUTHORISATION: (UUID(int=0xA1), "application/pdf", scan(1, "application/pdf")),
    Material.DIAGNOSIS: (UUID(int=0xA2), "image/png", scan(2)),
}


def attach_scan(f: HouseholdFile, kind: Material, on: date) -> None:
    attachment_id, media_type, content = SCANS[kind]
    f.attach(
        actor=CLERK,
        attachment_id=attachment_id,
        kind=kind,
        name=f"{kind.value}.{media_type.rsplit('/', 1)[1]}",
        media_type=MediaType(media_type),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        today=on,
    )


def policies(*changes: tuple[date, str]) -> PolicyBook:
    policy = RegionalPolicy.open(actor=ADMIN, region="130306")
    for effective_on, line in changes or ((date(2020, 1, 1), "550"),):
        policy.set(
            actor=ADMIN,
            parameters=Parameters(effective_on, Decimal(line)),
            reason="低保标准调整通知",
        )
    return PolicyBook({"130306": policy})


def clean_events() -> list[Any]:
    """A file done by the book: applied, investigated, appraised, approved, planned, assisted,
    re-checked and visited, the last event a few weeks before the check."""
    head = Head(name="张三", id_number=make_id_number("130306", date(1975, 3, 4), 123).value)
    f = HouseholdFile.receive_application(
        actor=CLERK,
        establishing_unit="130306001",
        worker_kind=WorkerKind.URBAN,
        head=head,
        applied_on=date(2025, 3, 2),
        authorisation_signed=True,
        today=TODAY,
    )
    attach_scan(f, Material.AUTHORISATION, date(2025, 3, 2))
    f.verify(
        actor=CLERK,
        verified_on=date(2025, 3, 9),
        investigators=("赵一", "钱二"),
        members=(
            Member(
                "李四",
                Relation.SPOUSE,
                make_id_number("130306", date(1977, 1, 1), 124).value,
                MemberStatus.UNEMPLOYED,
            ),
        ),
        annual_income=Decimal("9600"),
        rigid_expenses=Decimal("1200"),
        exclusions=Exclusions(),
        primary_cause=Cause.ILLNESS,
        parameters=IN_FORCE,
        materials=(Material.DIAGNOSIS, Material.MEDICAL_BILLS),
        today=TODAY,
    )
    attach_scan(f, Material.DIAGNOSIS, date(2025, 3, 9))
    f.appraise(
        actor=CLERK,
        appraised_on=date(2025, 3, 12),
        minutes_on_file=True,
        publicity_start=date(2025, 3, 13),
        publicity_end=date(2025, 3, 20),
        parameters=IN_FORCE,
        today=TODAY,
    )
    f.approve(
        actor=APPROVER,
        approved_on=date(2025, 3, 25),
        file_level=FileLevel.DISTRICT,
        parameters=IN_FORCE,
        today=TODAY,
    )
    f.agree_plan(
        actor=CLERK,
        agreed_on=date(2025, 4, 1),
        helper="孙三",
        measures=("推荐就业",),
        goals="稳定就业",
        deadline=date(2027, 4, 1),
        signed_by_worker=True,
        today=TODAY,
    )
    f.assist(
        actor=CLERK,
        assisted_on=date(2025, 4, 10),
        kind=AssistanceKind.LIVING_AID,
        amount=Decimal("800"),
        department=Department.UNION,
        today=TODAY,
    )
    f.recheck(actor=CLERK, rechecked_on=date(2026, 3, 20), parameters=IN_FORCE, today=TODAY)
    f.visit(
        actor=CLERK, visited_on=date(2026, 11, 1), cadre="周五", content="季度走访", today=TODAY
    )
    events = list(f.collect_events())
    recent = TODAY - timedelta(days=20)
    return [
        dataclasses.replace(
            e, timestamp=e.timestamp.replace(year=recent.year, month=recent.month, day=recent.day)
        )
        for e in events
    ]


def at(events: list[Any], kind: type) -> int:
    return next(i for i, e in enumerate(events) if isinstance(e, kind))


def changed(events: list[Any], kind: type, **fields: Any) -> list[Any]:
    copy = list(events)
    i = at(copy, kind)
    copy[i] = dataclasses.replace(copy[i], **fields)
    return copy


def without_scan(events: list[Any], *kinds: Material) -> list[Any]:
    """The events with the scans of `kinds` left out (the versions after renumbered): the file
    as one from before attachments would be, judged by its ticks."""
    kept = [
        e
        for e in events
        if not (isinstance(e, HouseholdFile.AttachmentAdded) and (not kinds or e.kind in kinds))
    ]
    return [dataclasses.replace(e, originator_version=v) for v, e in enumerate(kept, start=1)]


def appended(events: list[Any], *extra: tuple[type, dict[str, Any]]) -> list[Any]:
    copy = list(events)
    for kind, fields in extra:
        last = copy[-1]
        copy.append(
            kind(
                originator_id=last.originator_id,
                originator_version=last.originator_version + 1,
                timestamp=last.timestamp,
                actor=CLERK,
                **fields,
            )
        )
    return copy


def exit_fields(**overrides: Any) -> dict[str, Any]:
    fields = {
        "exited_on": date(2026, 11, 10),
        "kind": ExitKind.OUT_OF_HARDSHIP,
        "reason": ExitReason.INCOME_ABOVE_LINE,
        "explanation": "收入提高",
        "evidence": ("收入证明",),
        "months_above_line": 6,
    }
    return fields | overrides


def findings(events: list[Any], **context: Any) -> list[str]:
    ctx = Context(policies=context.pop("book", None) or policies(), as_of=TODAY, **context)
    return sorted(f.rule for f in check(history_of(events), ctx))


def broken_files() -> dict[str, tuple[list[Any], dict[str, Any]]]:
    clean = clean_events()
    wrong_id = make_id_number("130306", date(1977, 1, 1), 124).value[:-1] + "0"
    unscanned = without_scan(clean, Material.AUTHORISATION)
    members = at(clean, HouseholdFile.Verified)
    v = clean[members]
    approved = clean[at(clean, HouseholdFile.Approved)]
    rich = dataclasses.replace(approved.means, annual_income=Decimal("90000"))
    recheck = clean[at(clean, HouseholdFile.Rechecked)]
    visit_instead = HouseholdFile.Visited(
        originator_id=recheck.originator_id,
        originator_version=recheck.originator_version,
        timestamp=recheck.timestamp,
        actor=CLERK,
        visited_on=recheck.rechecked_on,
        cadre="周五",
        content="走访",
        quarter_income=None,
        quarter_costs=None,
    )
    no_recheck = [visit_instead if e is recheck else e for e in clean]
    long_ago = [dataclasses.replace(e, timestamp=e.timestamp - timedelta(days=800)) for e in clean]
    return {
        "R01": (
            changed(
                clean,
                HouseholdFile.Verified,
                members=(dataclasses.replace(v.members[0], id_number=wrong_id),),
            ),
            {},
        ),
        "R02": (clean, {"shared_people": {clean[0].originator_id: (clean[0].originator_id,)}}),
        "R03": (changed(clean, HouseholdFile.Verified, verified_on=date(2025, 2, 1)), {}),
        "R04": (changed(unscanned, HouseholdFile.Applied, authorisation_signed=False), {}),
        "R04u": (changed(unscanned, HouseholdFile.Applied, authorisation_signed=None), {}),
        "R04s": (unscanned, {}),
        "R07u": (changed(clean, HouseholdFile.Appraised, minutes_on_file=None), {}),
        "R05": (changed(clean, HouseholdFile.Verified, investigators=("赵一",)), {}),
        "R06": (changed(clean, HouseholdFile.Approved, approved_on=date(2025, 3, 18)), {}),
        "R08": (changed(clean, HouseholdFile.Appraised, objections=1, objections_resolved=0), {}),
        "R09": (
            changed(clean, HouseholdFile.Approved, actor=Actor("x", "130306001", Role.APPROVER)),
            {},
        ),
        "R10": (changed(clean, HouseholdFile.Approved, means=rich), {}),
        "R11": (changed(clean, HouseholdFile.Approved, category=Category.RELATIVE), {}),
        "R13": (
            changed(clean, HouseholdFile.Verified, exclusions=Exclusions(two_or_more_homes=True)),
            {},
        ),
        "R15": (
            changed(without_scan(clean, Material.DIAGNOSIS), HouseholdFile.Verified, materials=()),
            {},
        ),
        "R15s": (without_scan(clean, Material.DIAGNOSIS), {}),
        "R16": (changed(clean, HouseholdFile.Applied, worker_kind=WorkerKind.MIGRANT), {}),
        "R18": (changed(clean, HouseholdFile.PlanAgreed, helper=" "), {}),
        "R21": (changed(clean, HouseholdFile.Assisted, assisted_on=date(2025, 3, 1)), {}),
        "R20": (no_recheck, {}),
        "R20b": (long_ago, {}),
        "R22": (appended(clean, (HouseholdFile.Exited, exit_fields(months_above_line=3))), {}),
        "R25": (
            appended(
                clean,
                (
                    HouseholdFile.Returned,
                    {"returned_on": date(2026, 11, 10), "reason": "重病", "cause": Cause.ILLNESS},
                ),
            ),
            {},
        ),
        "R27": (
            appended(
                clean,
                (
                    HouseholdFile.Exited,
                    exit_fields(
                        kind=ExitKind.DELETED,
                        reason=ExitReason.ERRONEOUS_RECORD,
                        months_above_line=None,
                    ),
                ),
                (
                    HouseholdFile.Visited,
                    {
                        "visited_on": date(2026, 11, 12),
                        "cadre": "周五",
                        "content": "走访",
                        "quarter_income": None,
                        "quarter_costs": None,
                    },
                ),
            ),
            {},
        ),
        "R28": (changed(clean, HouseholdFile.Visited, visited_on=date(2025, 4, 20)), {}),
    }


class TestAFileDoneByTheBook:
    def test_has_no_finding(self):
        assert findings(clean_events()) == []

    def test_a_poverty_line_lowered_after_its_approval_does_not_make_it_a_finding(self):
        lowered = policies((date(2020, 1, 1), "550"), (date(2026, 6, 1), "300"))

        assert findings(clean_events(), book=lowered) == []

    def test_a_line_so_low_at_approval_that_the_income_exceeds_it_is_a_finding(self):
        lowered = policies((date(2020, 1, 1), "150"))  # 350 yuan a month > 2 × 150

        assert findings(clean_events(), book=lowered) == ["R10"]

    def test_a_line_at_approval_that_gives_another_category_is_a_finding(self):
        lowered = policies((date(2020, 1, 1), "300"))  # 350 yuan a month: relative, not deep

        assert findings(clean_events(), book=lowered) == ["R11"]


class TestADocumentOfAnImportedFile:
    def test_not_recorded_is_told_from_recorded_as_absent(self):
        clean = without_scan(clean_events(), Material.AUTHORISATION)

        unknown = findings(changed(clean, HouseholdFile.Applied, authorisation_signed=None))
        absent = findings(changed(clean, HouseholdFile.Applied, authorisation_signed=False))

        assert (unknown, absent) == (["R04u"], ["R04"])

    def test_minutes_not_recorded_are_told_from_minutes_recorded_as_missing(self):
        clean = clean_events()

        unknown = findings(changed(clean, HouseholdFile.Appraised, minutes_on_file=None))
        absent = findings(changed(clean, HouseholdFile.Appraised, minutes_on_file=False))

        assert (unknown, absent) == (["R07u"], ["R08"])


class TestTheEvidenceRulesLookAtWhatIsAttached:
    def test_a_file_from_before_attachments_is_judged_by_its_ticks_with_findings_of_their_own(
        self,
    ):
        older = without_scan(clean_events())

        assert findings(older) == ["R04s", "R15s"]

    def test_ticked_with_no_scan_is_told_from_a_scan_present(self):
        clean = clean_events()

        no_scan = findings(without_scan(clean, Material.DIAGNOSIS))
        scanned = findings(clean)

        assert (no_scan, scanned) == (["R15s"], [])

    def test_a_scan_attached_is_evidence_even_where_no_tick_says_so(self):
        clean = clean_events()

        unticked = changed(clean, HouseholdFile.Verified, materials=())
        authorisation_not_recorded = changed(
            clean, HouseholdFile.Applied, authorisation_signed=None
        )

        assert (findings(unticked), findings(authorisation_not_recorded)) == ([], [])

    def test_neither_a_scan_nor_a_tick_is_evidence_missing(self):
        bare = changed(without_scan(clean_events()), HouseholdFile.Verified, materials=())

        assert findings(bare) == ["R04s", "R15"]

    def test_a_scan_of_another_kind_is_no_evidence_for_the_cause(self):
        events = without_scan(clean_events(), Material.DIAGNOSIS)
        events = appended(
            events,
            (
                HouseholdFile.AttachmentAdded,
                {
                    "attached_on": date(2025, 3, 9),
                    "attachment_id": UUID(int=0xA3),
                    "kind": Material.MEDICAL_BILLS,
                    "name": "bills.png",
                    "media_type": MediaType.PNG,
                    "size": 10,
                    "sha256": "0" * 64,
                },
            ),
        )

        assert findings(events) == ["R15s"]


class TestAFileBreakingOneRule:
    @pytest.mark.parametrize("rule", sorted(broken_files()))
    def test_is_reported_for_exactly_that_rule(self, rule: str):
        events, context = broken_files()[rule]

        assert findings(events, **context) == [rule]

    def test_every_rule_of_the_catalogue_has_a_broken_file(self):
        assert {r.id for r in RULES} == set(broken_files())

    def test_every_finding_names_the_events_it_rests_on(self):
        for rule, (events, context) in broken_files().items():
            ctx = Context(policies=policies(), as_of=TODAY, **context)
            versions = {e.originator_version for e in events}

            found = check(history_of(events), ctx)

            assert all(f.versions and set(f.versions) <= versions for f in found), rule
            assert all(f.zh and f.en for f in found), rule


class TestAnExitFromHardshipOnReplay:
    """R22 on replay: an imported or older 脱困 must rest on recorded means above the line."""

    def _revised(self, on: date, income: str) -> tuple[type, dict[str, Any]]:
        means = Means(Decimal(income), Decimal("1200"), 2, Decimal("0"))
        fields = {"effective_on": on, "reason": "收入变化", "head": None, "members": None}
        return HouseholdFile.Revised, fields | {"means": means, "materials": ()}

    def test_without_recorded_means_above_the_line_is_a_finding(self):
        # six months typed in, but the latest recorded means (the re-check) are below the line
        events = appended(clean_events(), (HouseholdFile.Exited, exit_fields()))

        assert findings(events) == ["R22"]

    def test_resting_on_six_months_of_recorded_means_is_not(self):
        events = appended(
            clean_events(),
            self._revised(date(2026, 4, 1), "40000"),
            (HouseholdFile.Exited, exit_fields(exited_on=date(2026, 11, 10))),
        )

        assert findings(events) == []

    def test_resting_on_fewer_months_of_recorded_means_is_a_finding(self):
        events = appended(
            clean_events(),
            self._revised(date(2026, 8, 1), "40000"),
            (HouseholdFile.Exited, exit_fields(exited_on=date(2026, 11, 10))),
        )

        assert findings(events) == ["R22"]


class TestTheApproversLevelIsTheRegistrys:
    """R09 asks the stored levels (domain/units.py): a system union registered as approving
    approves its subtree's files; one that is not, does not (docs/decisions/0014-*.md)."""

    @staticmethod
    def approved_by_a_system_union() -> list[Any]:
        events = changed(clean_events(), HouseholdFile.Applied, establishing_unit="130306X01001")
        return changed(events, HouseholdFile.Approved, actor=Actor("x", "130306X01", Role.APPROVER))

    @pytest.mark.parametrize(("approves", "found"), [(True, False), (False, True)])
    def test_an_approval_by_a_non_geographic_union(self, approves: bool, found: bool):
        units = Units.of([UnitEntry("130306X01", Level.DISTRICT, UnitKind.SYSTEM, approves)])

        assert ("R09" in findings(self.approved_by_a_system_union(), units=units)) is found


class TestOneFilePerPersonOnReplay:
    """R02 (一户一档): a person in another file is found while the file holds its people — open
    or relieved (docs/rules.md, `one_file_per_person`), not once it is closed."""

    def test_finds_a_relieved_file_whose_person_another_file_holds(self):
        clean = clean_events()
        relieved = appended(
            clean,
            (
                HouseholdFile.Exited,
                exit_fields(
                    kind=ExitKind.RELIEVED, reason=ExitReason.SAFETY_NET, months_above_line=None
                ),
            ),
        )

        found = findings(relieved, shared_people={clean[0].originator_id: (UUID(int=7),)})

        assert "R02" in found

    def test_leaves_out_a_file_out_of_hardship(self):
        clean = clean_events()
        closed = appended(clean, (HouseholdFile.Exited, exit_fields()))

        found = findings(closed, shared_people={clean[0].originator_id: (UUID(int=7),)})

        assert "R02" not in found
