"""The stored event names are a schema: renaming a class without an alias must fail here."""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from domain.civil_affairs import CivilAffairsMatch
from domain.disclosure import Disclosure
from domain.events import ALIASES, CREATES, EVENT_NAMES
from domain.household import HouseholdFile
from domain.policy import RegionalPolicy
from domain.printing import FormPrint
from domain.reconciliation import Reconciliation
from domain.spotcheck import SpotCheck
from domain.unit_records import UnitRecords
from domain.values import Status

from .given import history

# Stored name -> the class's qualified name. Changing either side breaks stored history.
PINNED = {
    "household.applied": "HouseholdFile.Applied",
    "household.verified": "HouseholdFile.Verified",
    "household.appraised": "HouseholdFile.Appraised",
    "household.approved": "HouseholdFile.Approved",
    "household.sent_back": "HouseholdFile.SentBack",
    "household.rejected": "HouseholdFile.Rejected",
    "household.assisted": "HouseholdFile.Assisted",
    "household.plan_agreed": "HouseholdFile.PlanAgreed",
    "household.visited": "HouseholdFile.Visited",
    "household.revised": "HouseholdFile.Revised",
    "household.rechecked": "HouseholdFile.Rechecked",
    "household.exited": "HouseholdFile.Exited",
    "household.returned": "HouseholdFile.Returned",
    "household.transferred": "HouseholdFile.Transferred",
    "household.personal_data_erased": "HouseholdFile.PersonalDataErased",
    "household.finding_checked": "HouseholdFile.FindingChecked",
    "household.followed_up": "HouseholdFile.FollowedUp",
    "household.category_confirmed": "HouseholdFile.CategoryConfirmed",
    "household.kept_on_record": "HouseholdFile.KeptOnRecord",
    "household.attachment_added": "HouseholdFile.AttachmentAdded",
    "access.unmasked": "Disclosure.Recorded",
    "access.form_printed": "FormPrint.Printed",
    "access.file_printed": "FormPrint.FilePrinted",
    "policy.opened": "RegionalPolicy.Opened",
    "policy.parameters_set": "RegionalPolicy.ParametersSet",
    "spotcheck.started": "SpotCheck.Started",
    "spotcheck.file_checked": "SpotCheck.FileChecked",
    "spotcheck.completed": "SpotCheck.Completed",
    "reconciliation.started": "Reconciliation.Started",
    "reconciliation.finding_recorded": "Reconciliation.FindingRecorded",
    "reconciliation.completed": "Reconciliation.Completed",
    "civil_affairs.started": "CivilAffairsMatch.Started",
    "civil_affairs.matched": "CivilAffairsMatch.Matched",
    "civil_affairs.completed": "CivilAffairsMatch.Completed",
    "unit.opened": "UnitRecords.Opened",
    "unit.meeting_held": "UnitRecords.MeetingHeld",
    "unit.file_voted": "UnitRecords.FileVoted",
    "unit.assessment_recorded": "UnitRecords.AssessmentRecorded",
}

AGGREGATES: list[type[Aggregate]] = [
    HouseholdFile,
    Disclosure,
    FormPrint,
    RegionalPolicy,
    SpotCheck,
    Reconciliation,
    CivilAffairsMatch,
    UnitRecords,
]

# Defined by the library or as a base, never triggered: `Event` is the common base and `Created`
# the library's default created-event, replaced by the aggregate's own through `@event(...)`.
NEVER_STORED = {"Event", "Created"}


def event_classes(aggregate: type[Aggregate]) -> set[type]:
    return {
        value
        for name, value in vars(aggregate).items()
        if isinstance(value, type)
        and issubclass(value, Aggregate.Event)
        and name not in NEVER_STORED
    }


class TestTheEventNames:
    def test_are_exactly_the_pinned_names(self):
        assert {name: cls.__qualname__ for name, cls in EVENT_NAMES.items()} == PINNED

    def test_name_the_classes_the_aggregates_trigger(self):
        aggregates = {a.__name__: a for a in AGGREGATES}

        for name, qualname in PINNED.items():
            owner, event = qualname.split(".")
            assert EVENT_NAMES[name] is getattr(aggregates[owner], event), name

    def test_register_every_event_class_of_every_aggregate(self):
        assert set().union(*map(event_classes, AGGREGATES)) == set(EVENT_NAMES.values())

    def test_give_each_class_one_name(self):
        assert len(set(EVENT_NAMES.values())) == len(EVENT_NAMES)


class TestTheAliases:
    def test_lead_only_to_registered_names(self):
        assert set(ALIASES.values()) <= set(EVENT_NAMES)

    def test_never_shadow_a_current_name(self):
        assert not set(ALIASES) & set(EVENT_NAMES)


class TestTheCreatedEvents:
    def test_build_their_aggregates(self):
        assert {
            HouseholdFile.Applied: HouseholdFile,
            Disclosure.Recorded: Disclosure,
            FormPrint.Printed: FormPrint,
            RegionalPolicy.Opened: RegionalPolicy,
            SpotCheck.Started: SpotCheck,
            Reconciliation.Started: Reconciliation,
            CivilAffairsMatch.Started: CivilAffairsMatch,
            UnitRecords.Opened: UnitRecords,
        } == CREATES

    def test_include_the_one_a_new_household_file_records(self):
        (applied,) = history(Status.APPLIED)

        assert type(applied) is HouseholdFile.Applied
