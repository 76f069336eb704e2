"""The registry of stored event names: the schema of the log.

Events are stored under these names, never under a Python module path, so code can move
without breaking stored history. A renamed class keeps its old name here (or gains an alias);
`tests/unit/test_event_names.py` pins the table.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate

from domain.civil_affairs import CivilAffairsMatch
from domain.disclosure import Disclosure
from domain.household import HouseholdFile
from domain.policy import RegionalPolicy
from domain.printing import FormPrint
from domain.reconciliation import Reconciliation
from domain.spotcheck import SpotCheck
from domain.unit_records import UnitRecords

EVENT_NAMES: dict[str, type[Aggregate.Event]] = {
    "household.applied": HouseholdFile.Applied,
    "household.verified": HouseholdFile.Verified,
    "household.appraised": HouseholdFile.Appraised,
    "household.approved": HouseholdFile.Approved,
    "household.sent_back": HouseholdFile.SentBack,
    "household.rejected": HouseholdFile.Rejected,
    "household.assisted": HouseholdFile.Assisted,
    "household.plan_agreed": HouseholdFile.PlanAgreed,
    "household.visited": HouseholdFile.Visited,
    "household.revised": HouseholdFile.Revised,
    "household.rechecked": HouseholdFile.Rechecked,
    "household.exited": HouseholdFile.Exited,
    "household.returned": HouseholdFile.Returned,
    "household.transferred": HouseholdFile.Transferred,
    "household.personal_data_erased": HouseholdFile.PersonalDataErased,
    "household.finding_checked": HouseholdFile.FindingChecked,
    "household.followed_up": HouseholdFile.FollowedUp,
    "household.category_confirmed": HouseholdFile.CategoryConfirmed,
    "household.kept_on_record": HouseholdFile.KeptOnRecord,
    "household.attachment_added": HouseholdFile.AttachmentAdded,
    "access.unmasked": Disclosure.Recorded,
    "access.form_printed": FormPrint.Printed,
    "access.file_printed": FormPrint.FilePrinted,
    "policy.opened": RegionalPolicy.Opened,
    "policy.parameters_set": RegionalPolicy.ParametersSet,
    "spotcheck.started": SpotCheck.Started,
    "spotcheck.file_checked": SpotCheck.FileChecked,
    "spotcheck.completed": SpotCheck.Completed,
    "reconciliation.started": Reconciliation.Started,
    "reconciliation.finding_recorded": Reconciliation.FindingRecorded,
    "reconciliation.completed": Reconciliation.Completed,
    "civil_affairs.started": CivilAffairsMatch.Started,
    "civil_affairs.matched": CivilAffairsMatch.Matched,
    "civil_affairs.completed": CivilAffairsMatch.Completed,
    "unit.opened": UnitRecords.Opened,
    "unit.meeting_held": UnitRecords.MeetingHeld,
    "unit.file_voted": UnitRecords.FileVoted,
    "unit.assessment_recorded": UnitRecords.AssessmentRecorded,
}

# Old stored names that still decode into today's classes: {"old.name": "current.name"}.
ALIASES: dict[str, str] = {}

# The aggregate class each created-event builds (stored without its module path).
CREATES: dict[type[Aggregate.Event], type[Aggregate]] = {
    HouseholdFile.Applied: HouseholdFile,
    Disclosure.Recorded: Disclosure,
    FormPrint.Printed: FormPrint,
    RegionalPolicy.Opened: RegionalPolicy,
    SpotCheck.Started: SpotCheck,
    Reconciliation.Started: Reconciliation,
    CivilAffairsMatch.Started: CivilAffairsMatch,
    UnitRecords.Opened: UnitRecords,
}
