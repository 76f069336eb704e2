"""Disclosures: every read of a file's unmasked personal data is itself recorded (DESIGN.md, 7).

A disclosure is an act of the reading unit, so it lives in a stream of its own — the file's stream
is written only by the node that owns the file (decision 6) — and refers to the file, so the
file's trail shows who saw what, when and why.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.authorization import Act, authorise
from domain.errors import InvalidValue
from domain.units import UnitCode
from domain.values import Actor

MAX_PURPOSE = 200
VIEWS = frozenset({"file", "events", "attachment"})  # attachment: a scan's content or preview


class Disclosure(Aggregate):
    class Recorded(Aggregate.Created):
        actor: Actor
        file_id: UUID
        file_unit: str
        purpose: str
        view: str

    @classmethod
    def record(
        cls, *, actor: Actor, file_id: UUID, file_unit: str, purpose: str, view: str
    ) -> Disclosure:
        """Record that `actor` reads the unmasked `view` of a file, for a stated purpose."""
        authorise(actor, Act.UNMASK, UnitCode(file_unit))
        stated = purpose.strip() if isinstance(purpose, str) else ""
        if not stated:
            raise InvalidValue(
                "purpose",
                "state the purpose of reading unmasked personal data",
                zh="查看未脱敏个人信息须说明用途",
            )
        if len(stated) > MAX_PURPOSE or "\x00" in stated:
            raise InvalidValue(
                "purpose",
                f"at most {MAX_PURPOSE} characters",
                zh=f"用途不能超过{MAX_PURPOSE}个字符",
            )
        if view not in VIEWS:
            raise InvalidValue("view", f"one of {sorted(VIEWS)}", zh="查看内容无效")
        return cls(actor=actor, file_id=file_id, file_unit=file_unit, purpose=stated, view=view)

    @event(Recorded)
    def __init__(
        self, *, actor: Actor, file_id: UUID, file_unit: str, purpose: str, view: str
    ) -> None:
        self.actor = actor
        self.file_id = file_id
        self.purpose = purpose
        self.view = view
