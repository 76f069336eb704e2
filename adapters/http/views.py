"""From domain objects and stored events to response bodies, masked unless asked otherwise."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from adapters.http.schemas import (
    ActorOut,
    EventOut,
    FileOut,
    HousingOut,
    MeansOut,
    PersonOut,
    ProfileOut,
)
from adapters.pg.codec import EventCodec
from adapters.pg.rows import StoredEvent
from domain.household import Head, HouseholdFile
from domain.privacy import SEALED, mask_card, mask_health, mask_id, mask_phone, mask_tree
from domain.profile import Housing
from domain.values import Category, DisabilityGrade, DisabilityKind, WorkerKind, label


def _keep(value: str) -> str:
    return value


def _code(value: StrEnum | None) -> str | None:
    return None if value is None else value.value


def _housing(housing: Housing | None) -> HousingOut | None:
    if housing is None:
        return None
    return HousingOut(
        kind=_code(housing.kind),
        structure=_code(housing.structure),
        area=housing.area,
        dilapidated=housing.dilapidated,
    )


def _housing_zh(housing: Housing | None) -> str:
    if housing is None:
        return ""
    parts = [
        label(housing.kind) if housing.kind else "",
        label(housing.structure) if housing.structure else "",
        f"{housing.area}㎡" if housing.area is not None else "",
        "" if housing.dilapidated is None else "危房" if housing.dilapidated else "非危房",
    ]
    return "，".join(p for p in parts if p)


def _sealed_zh(code: str, kind: type[StrEnum]) -> str:
    if not code or code in SEALED:
        return code
    try:
        return label(kind(code))
    except ValueError:
        return code


def _hidden(value: str, masked: bool) -> str:
    return mask_health(value) if masked and value else value


def profile_lines(head: Head, worker_kind: WorkerKind, *, masked: bool) -> list[list[str]]:
    """The head's profile in Chinese, (label, value) for each recorded field: the file page's
    summary. Personal parts are hidden whole when masked."""
    disability = " ".join(
        x
        for x in (
            _sealed_zh(head.disability, DisabilityKind),
            _sealed_zh(head.disability_grade, DisabilityGrade),
        )
        if x
    )
    land = head.land
    rows = [
        ("政治面貌", label(head.political_status) if head.political_status else ""),
        ("婚姻状况", label(head.marital_status) if head.marital_status else ""),
        ("文化程度", label(head.education) if head.education else ""),
        ("户口性质", label(head.hukou_type) if head.hukou_type else ""),
        ("户籍所在地", _hidden(head.hukou_place, masked)),
        ("住房情况", _housing_zh(head.housing)),
        ("就业状况", label(head.work_status) if head.work_status else ""),
        ("单位性质", label(head.employer_nature) if head.employer_nature else ""),
        ("劳模称号", label(head.model_worker) if head.model_worker else ""),
        ("残疾类别及等级", _hidden(disability, masked)),
        ("主要财产", _hidden(head.main_property, masked)),
        ("主要意愿", head.wishes),
        ("帮扶类型", "、".join(label(t) for t in head.aid_types)),
    ]
    if worker_kind is WorkerKind.MIGRANT:
        rows += [
            ("祖居地住房", _housing_zh(head.home_housing)),
            (
                "土地（亩）",
                "，".join(
                    f"{name}{value}"
                    for name, value in (
                        ("水田", land.paddy if land else None),
                        ("旱地", land.dry if land else None),
                        ("经济林", land.economic_forest if land else None),
                        ("用材林", land.timber_forest if land else None),
                        ("养殖水面", land.aquaculture if land else None),
                    )
                    if value is not None
                ),
            ),
        ]
    return [[k, v] for k, v in rows if v]


def profile_out(household: HouseholdFile, *, masked: bool = True) -> ProfileOut:
    head = household.head
    return ProfileOut(
        political_status=_code(head.political_status),
        marital_status=_code(head.marital_status),
        education=_code(head.education),
        hukou_type=_code(head.hukou_type),
        hukou_place=_hidden(head.hukou_place, masked),
        housing=_housing(head.housing),
        home_housing=_housing(head.home_housing),
        work_status=_code(head.work_status),
        employer_nature=_code(head.employer_nature),
        model_worker=_code(head.model_worker),
        disability=_hidden(head.disability, masked),
        disability_grade=_hidden(head.disability_grade, masked),
        main_property=_hidden(head.main_property, masked),
        wishes=head.wishes,
        aid_types=[t.value for t in head.aid_types],
        lines=profile_lines(head, household.worker_kind, masked=masked),
    )


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
                education=_code(m.education),
                insurance=[i.value for i in m.insurance],
                skills=m.skills or None,
                workplace=m.workplace or None,
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
        profile=profile_out(household, masked=masked),
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
