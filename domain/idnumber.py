"""Citizen ID numbers (公民身份号码) under GB 11643-1999.

18 characters: a 6-digit address code (GB/T 2260), the birth date YYYYMMDD, a 3-digit sequence
(odd = male) and an ISO 7064 MOD 11-2 check character. Input is normalised first: full-width
digits and letters become ASCII, spaces and hyphens are dropped, a lower-case x becomes X.
A 15-digit legacy number (GB 11643-1989) is converted only where the caller allows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.errors import InvalidIdNumber
from domain.values import Sex

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

# Full-width forms (U+FF01..U+FF5E) map to ASCII by a fixed offset; the ideographic space too.
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_DROP = {ord(" "): None, ord("\t"): None, ord("-"): None, ord("\u00a0"): None}


def check_character(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalise(raw: str) -> str:
    """Full-width to ASCII, drop spaces and hyphens, upper-case the check letter."""
    return raw.translate(_FULL_WIDTH).translate(_DROP).upper()


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A valid 18-character citizen ID number, with what it encodes."""

    value: str

    @property
    def region(self) -> str:
        return self.value[:6]

    @property
    def birth_date(self) -> date:
        v = self.value
        return date(int(v[6:10]), int(v[10:12]), int(v[12:14]))

    @property
    def sex(self) -> Sex:
        return Sex.MALE if int(self.value[16]) % 2 == 1 else Sex.FEMALE

    def masked(self) -> str:
        """First 6 and last 4 characters shown, the rest as asterisks (DESIGN.md decision 7)."""
        return self.value[:6] + "*" * 8 + self.value[-4:]

    def __str__(self) -> str:
        return self.value


def parse_id_number(
    raw: str, *, field: str = "id_number", today: date | None = None, allow_legacy: bool = False
) -> IdNumber:
    """Normalise and validate an ID number; raise `InvalidIdNumber` naming what is wrong.

    `today`, when given, refuses a birth date in the future. `allow_legacy` converts a
    15-digit number by inserting the century "19" and computing the check character.
    """
    if not isinstance(raw, str):
        raise InvalidIdNumber(field, "an ID number must be text", zh="身份证号码须为文本")
    value = normalise(raw)
    if len(value) == 15 and allow_legacy:
        if not (value.isascii() and value.isdigit()):
            raise InvalidIdNumber(
                field, "a 15-digit ID number has digits only", zh="15位身份证号码只能包含数字"
            )
        first17 = value[:6] + "19" + value[6:]
        value = first17 + check_character(first17)
    if len(value) != 18:
        raise InvalidIdNumber(
            field,
            f"must have 18 characters, has {len(value)}",
            zh=f"身份证号码应为18位，实为{len(value)}位",
        )
    if not (value[:17].isascii() and value[:17].isdigit()) or value[17] not in "0123456789X":
        raise InvalidIdNumber(
            field,
            "only digits, with X allowed as the last character",
            zh="身份证号码只能为数字，末位可为X",
        )
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber(
            field, f"birth date {value[6:14]} does not exist", zh=f"出生日期{value[6:14]}不存在"
        ) from None
    if born.year < 1850 or (today is not None and born > today):
        raise InvalidIdNumber(
            field,
            f"birth date {born.isoformat()} is impossible",
            zh=f"出生日期{born.isoformat()}不合理",
        )
    expected = check_character(value[:17])
    if value[17] != expected:
        raise InvalidIdNumber(
            field,
            f"check character is {value[17]}, should be {expected}",
            zh=f"校验码错误：应为{expected}",
        )
    return IdNumber(value)


def make_id_number(region: str, born: date, sequence: int) -> IdNumber:
    """Build a valid ID number (demo data, tests): region code, birth date, sequence 0-999."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return IdNumber(first17 + check_character(first17))
