"""Printing a form: a disclosure of personal data on paper, recorded as an act (DESIGN.md, 7).

A print is a stream of its own, like an unmasked read (`domain.disclosure`): the file's stream
is written only by the node that owns the file, and an upstream inspector prints pulled files.
It starts with `Printed` (who, which form, why, the short code, the printing node and its public
key) and holds one `FilePrinted` per file on the paper, which refers to that file — so a unit's
list printed for 200 households is 200 disclosures on 200 trails. The stream's id follows from
the short code (`print_id`), so any node holding the act finds it from the code a person types.

The short code: 11 random characters of Crockford's base 32 and a Luhn mod 32 check character,
shown as `XXXX-XXXX-XXXX`. The check catches every single mistyped character and every swap of
two neighbours before anything is looked up (`parse_code`).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.authorization import Act, authorise
from domain.errors import InvalidValue
from domain.units import UnitCode
from domain.values import Actor

MAX_PURPOSE = 200
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
CODE_BODY = 11
_READS_AS = {"O": "0", "I": "1", "L": "1"}  # Crockford: letters read as the digits they resemble
_NAMESPACE = UUID("6d1c5a3e-8f1b-4b7e-9a51-0c2f4f6a9b10")


class Form(StrEnum):
    """The printable forms: `{form}` in the API's paths."""

    AUTHORISATION = "authorisation"
    APPLICATION = "application"
    FILE = "file"
    PLAN = "plan"
    NEEDS = "needs"
    VISITS = "visits"
    AID = "aid"
    CARD = "card"
    PUBLICITY = "publicity"
    MINUTES = "minutes"
    TASKS = "tasks"
    ASSESSMENT = "assessment"
    LEDGER = "ledger"


class HouseholdForm(StrEnum):
    """The forms of one household: `GET /files/{id}/forms/{form}`."""

    AUTHORISATION = "authorisation"
    APPLICATION = "application"
    FILE = "file"
    PLAN = "plan"
    NEEDS = "needs"
    VISITS = "visits"
    AID = "aid"
    CARD = "card"


class UnitForm(StrEnum):
    """The forms of one unit and period: `GET /units/{code}/forms/{form}`."""

    PUBLICITY = "publicity"
    MINUTES = "minutes"
    TASKS = "tasks"
    ASSESSMENT = "assessment"
    LEDGER = "ledger"


FORM_TITLES: dict[str, str] = {
    "authorisation": "授权书（声明书）",
    "application": "困难职工申报表",
    "file": "困难职工档案表",
    "plan": "解困脱困方案",
    "needs": "困难职工当前存在问题困难清单和帮扶建议",
    "visits": "困难职工结对帮扶走访记录表",
    "aid": "困难职工帮扶台账",
    "card": "困难职工解困脱困联系卡",
    "publicity": "困难职工名单公示",
    "minutes": "民主评议会议记录",
    "tasks": "困难职工精准帮扶任务清单",
    "assessment": "困难职工解困脱困考核表",
    "ledger": "困难职工台账",
}


def authorise_print(actor: Actor, unit: UnitCode | str) -> None:
    """Raise unless `actor` may print the files of `unit` (scope first: 404 outside): a clerk
    (of a base-level union) its own union's, approvers and inspectors their subtree's."""
    authorise(actor, Act.PRINT, unit)


def _luhn32(body: str) -> str:
    """The Luhn mod N check character of `body` over `ALPHABET`."""
    total, factor = 0, 2
    for char in reversed(body):
        addend = factor * ALPHABET.index(char)
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def new_code(random_bytes: bytes) -> str:
    """A short code from `CODE_BODY` random bytes (the edge draws them), with its check."""
    if len(random_bytes) < CODE_BODY:
        raise ValueError(f"need {CODE_BODY} random bytes")
    body = "".join(ALPHABET[b % 32] for b in random_bytes[:CODE_BODY])
    return body + _luhn32(body)


def shown(code: str) -> str:
    """`XXXX-XXXX-XXXX`: how a code is printed."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def parse_code(text: str) -> str:
    """The code a person typed, normalised (case, hyphens, spaces, O/I/L); `InvalidValue` when it
    cannot be a printed code — a mistyped one."""
    raw = "".join(text.split()).replace("-", "").upper() if isinstance(text, str) else ""
    code = "".join(_READS_AS.get(c, c) for c in raw)
    if len(code) != CODE_BODY + 1 or any(c not in ALPHABET for c in code):
        raise InvalidValue(
            "code", "a verification code has 12 characters", zh="核验码应为12位字母或数字"
        )
    if _luhn32(code[:-1]) != code[-1]:
        raise InvalidValue(
            "code",
            "the verification code is mistyped (its check fails)",
            zh="核验码有误，请核对后重新输入",
        )
    return code


def print_id(code: str) -> UUID:
    """The stream of the print with this short code."""
    return uuid5(_NAMESPACE, code)


def checked_purpose(purpose: str) -> str:
    stated = purpose.strip() if isinstance(purpose, str) else ""
    if not stated:
        raise InvalidValue(
            "purpose", "state the purpose of printing personal data", zh="打印表单须说明用途"
        )
    if len(stated) > MAX_PURPOSE or "\x00" in stated:
        raise InvalidValue(
            "purpose", f"at most {MAX_PURPOSE} characters", zh=f"用途不能超过{MAX_PURPOSE}个字符"
        )
    return stated


class FormPrint(Aggregate):
    """One print of one form: the paper's record, found again by its short code."""

    class Printed(Aggregate.Created):
        actor: Actor
        code: str
        form: str
        unit: str  # the file's unit, or the unit a unit form is for
        period: str  # a unit form's period ("" for a household's)
        purpose: str
        printed_on: date
        node: str
        public_key: str  # the printing node's Ed25519 key (hex): verifies the token anywhere

    class FilePrinted(Aggregate.Event):
        file_id: UUID
        file_unit: str
        version: int
        event_hash: str  # hex: the hash of the file's event at `version`
        form: str
        code: str
        purpose: str

    @classmethod
    def record(
        cls,
        *,
        actor: Actor,
        code: str,
        form: Form,
        unit: str,
        period: str,
        purpose: str,
        printed_on: date,
        node: str,
        public_key: str,
    ) -> FormPrint:
        """Record that `actor` prints `form` of `unit`'s files for `purpose`."""
        authorise_print(actor, UnitCode(unit))
        if not isinstance(form, Form):
            raise InvalidValue("form", "unknown form", zh="表单无效")
        return cls._create(
            cls.Printed,
            id=print_id(parse_code(code)),
            actor=actor,
            code=code,
            form=form.value,
            unit=unit,
            period=period,
            purpose=checked_purpose(purpose),
            printed_on=printed_on,
            node=node,
            public_key=public_key,
        )

    @event(Printed)
    def __init__(
        self,
        *,
        actor: Actor,
        code: str,
        form: str,
        unit: str,
        period: str,
        purpose: str,
        printed_on: date,
        node: str,
        public_key: str,
    ) -> None:
        self.actor = actor
        self.code = code
        self.form = form
        self.unit = unit
        self.period = period
        self.purpose = purpose
        self.printed_on = printed_on
        self.node = node
        self.public_key = public_key
        self.files: tuple[tuple[UUID, str, int, str], ...] = ()

    def include(self, *, file_id: UUID, file_unit: str, version: int, event_hash: str) -> None:
        """A file on the paper, at `version` (whose event has `event_hash`)."""
        authorise_print(self.actor, UnitCode(file_unit))
        self._file_printed(
            file_id=file_id,
            file_unit=file_unit,
            version=version,
            event_hash=event_hash,
            form=self.form,
            code=self.code,
            purpose=self.purpose,
        )

    @event(FilePrinted)
    def _file_printed(
        self,
        *,
        file_id: UUID,
        file_unit: str,
        version: int,
        event_hash: str,
        form: str,
        code: str,
        purpose: str,
    ) -> None:
        self.files = (*self.files, (file_id, file_unit, version, event_hash))
