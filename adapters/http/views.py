"""From domain objects and stored events to response bodies, masked unless asked otherwise."""

from __future__ import annotations

from typing import Any

from adapters.http.schemas import ActorOut, EventOut, FileOut, MeansOut, PersonOut
from adapters.pg.codec import EventCodec
from adapters.pg.rows import StoredEvent
from domain.household import HouseholdFile
from domain.privacy import mask_card, mask_id, mask_phone, mask_tree
from domain.values import Category, label


def _keep(value: str) -> str:
    return value


def file_out(household: HouseholdFile, *, masked: bool = True) -> FileOut:
    ids, phones, cards = (mask_id, mask_phone, mask_card) if masked else (_keep, _keep, _keep)
    head = household.head
    means = household.means
    category: Category | None = household.category
    return FileOut(
        id=household.id,
        version=household.version,
        status=household.status.value,
        status_label=label(household.status),
        establishing_unit=household.establishing_unit,
        region=household.region,
        scheme=household.scheme.value,
        worker_kind=household.worker_kind.value,
        head=PersonOut(
            name=head.name,
            id_number=ids(head.id_number),
            phone=phones(head.phone) or None,
            bank_card=cards(head.bank_card) or None,
        ),
        members=[
            PersonOut(
                name=m.name,
                id_number=ids(m.id_number),
                relation=m.relation.value,
                status=m.status.value,
                annual_income=m.annual_income,
            )
            for m in household.members
        ],
        means=None
        if means is None
        else MeansOut(
            annual_income=means.annual_income,
            rigid_expenses=means.rigid_expenses,
            members_living_together=means.members_living_together,
            hardship_losses=means.hardship_losses,
            adjusted_per_capita=means.adjusted_per_capita(),
        ),
        primary_cause=household.primary_cause.value if household.primary_cause else None,
        secondary_causes=[c.value for c in household.secondary_causes],
        category=category,
        category_label=label(category) if category else None,
        file_level=household.file_level,
        poverty_line=household.poverty_line,
        applied_on=household.applied_on,
        verified_on=household.verified_on,
        approved_on=household.approved_on,
        exited_on=household.exited_on,
        exit_kind=household.exit_kind.value if household.exit_kind else None,
        assistance_count=household.assistance_count,
        assistance_total=household.assistance_total,
        last_assisted_on=household.last_assisted_on,
        last_visited_on=household.last_visited_on,
        last_rechecked_on=household.last_rechecked_on,
        helper=household.helper,
        returns=household.returns,
        transfers=household.transfers,
        materials=sorted(m.value for m in household.materials),
        modified_at=household.modified_on,
        masked=masked,
    )


def event_out(codec: EventCodec, event: StoredEvent, *, masked: bool = True) -> EventOut:
    # personal fields opened (the store loaded the keys), then masked unless asked otherwise
    fields: dict[str, Any] = codec.fields(event.type, event.payload, event.stream_id)
    actor = fields.pop("actor", None)
    return EventOut(
        stream_id=event.stream_id,
        version=event.version,
        type=event.type,
        recorded_at=event.recorded_at,
        actor=ActorOut(actor["user"], actor["unit"], actor["role"]) if actor else None,
        fields=mask_tree(fields) if masked else fields,
        hash=event.hash.hex(),
        refers_to=event.refers_to,
    )
