"""Citizen ID numbers under GB 11643-1999: normalised, checked (MOD 11-2) and decoded."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import InvalidIdNumber
from domain.idnumber import check_character, make_id_number, normalise, parse_id_number
from domain.values import Sex

VALID = ["11010519491231002X", "440524188001010014"]
TODAY = date(2026, 11, 21)


class TestAValidIdNumber:
    @pytest.mark.parametrize("number", VALID)
    def test_is_accepted(self, number):
        assert parse_id_number(number).value == number

    def test_gives_its_region(self):
        assert parse_id_number("11010519491231002X").region == "110105"

    def test_gives_its_birth_date(self):
        assert parse_id_number("11010519491231002X").birth_date == date(1949, 12, 31)

    def test_with_an_even_sequence_digit_is_a_woman(self):
        assert parse_id_number("11010519491231002X").sex is Sex.FEMALE

    def test_with_an_odd_sequence_digit_is_a_man(self):
        assert parse_id_number("440524188001010014").sex is Sex.MALE

    def test_masks_all_but_the_region_and_the_last_four(self):
        assert parse_id_number("11010519491231002X").masked() == "110105********002X"

    def test_is_accepted_when_born_today(self):
        number = make_id_number("130306", TODAY, 11).value

        assert parse_id_number(number, today=TODAY).birth_date == TODAY


class TestNormalising:
    def test_turns_full_width_digits_and_letters_into_ascii(self):
        assert parse_id_number("１１０１０５１９４９１２３１００２Ｘ").value == "11010519491231002X"

    def test_drops_spaces(self):
        assert parse_id_number("110105 19491231 002X").value == "11010519491231002X"

    def test_drops_an_ideographic_space(self):
        assert parse_id_number("110105\u300019491231002X").value == "11010519491231002X"

    def test_drops_hyphens(self):
        assert parse_id_number("110105-19491231-002X").value == "11010519491231002X"

    def test_upper_cases_the_check_letter(self):
        assert parse_id_number("11010519491231002x").value == "11010519491231002X"


class TestAnInvalidIdNumber:
    def test_with_a_wrong_check_character_is_refused(self):
        with pytest.raises(InvalidIdNumber, match="check character"):
            parse_id_number("110105194912310021")

    def test_with_an_impossible_birth_date_is_refused(self):
        first17 = "11010519490230002"

        with pytest.raises(InvalidIdNumber, match="does not exist"):
            parse_id_number(first17 + check_character(first17))

    def test_with_a_birth_date_after_today_is_refused(self):
        number = make_id_number("130306", date(2026, 11, 22), 11).value

        with pytest.raises(InvalidIdNumber, match="impossible"):
            parse_id_number(number, today=TODAY)

    def test_with_a_birth_year_before_1850_is_refused(self):
        number = make_id_number("130306", date(1849, 12, 31), 11).value

        with pytest.raises(InvalidIdNumber, match="impossible"):
            parse_id_number(number)

    @pytest.mark.parametrize("number", ["11010519491231002", "11010519491231002X1", "", "X"])
    def test_of_the_wrong_length_is_refused(self, number):
        with pytest.raises(InvalidIdNumber, match="18 characters"):
            parse_id_number(number)

    @pytest.mark.parametrize(
        "number",
        ["1101051949123100AX", "A1010519491231002X", "11010519491231002Y", "110105194912310X2X"],
    )
    def test_with_letters_is_refused(self, number):
        with pytest.raises(InvalidIdNumber, match="only digits"):
            parse_id_number(number)

    def test_that_is_not_text_is_refused(self):
        with pytest.raises(InvalidIdNumber):
            parse_id_number(110105194912310021)

    def test_names_the_field_in_its_refusal(self):
        with pytest.raises(InvalidIdNumber) as refused:
            parse_id_number("123", field="members[2].id_number")

        assert refused.value.field == "members[2].id_number"

    def test_with_a_superscript_digit_is_refused(self):
        with pytest.raises(InvalidIdNumber):
            parse_id_number("11010²19491231002X")

    def test_in_other_scripts_digits_is_never_stored_as_such(self):
        arabic_indic = "11010519491231002X".translate(
            {ord(d): 0x0660 + int(d) for d in "0123456789"}
        )

        try:
            number = parse_id_number(arabic_indic).value
        except InvalidIdNumber:
            return

        assert number.isascii()


class TestALegacyNumber:
    def test_is_refused_unless_allowed(self):
        with pytest.raises(InvalidIdNumber, match="18 characters"):
            parse_id_number("110105491231002")

    def test_is_converted_with_the_century_and_check_character_when_allowed(self):
        assert parse_id_number("110105491231002", allow_legacy=True).value == "11010519491231002X"

    def test_with_letters_is_refused_even_when_allowed(self):
        with pytest.raises(InvalidIdNumber, match="digits only"):
            parse_id_number("11010549123100X", allow_legacy=True)


# ---------------------------------------------------------------------- properties

regions = st.from_regex(r"[1-8][0-9]{5}", fullmatch=True)
births = st.dates(min_value=date(1850, 1, 1), max_value=TODAY)
sequences = st.integers(0, 999)


class TestEveryMadeIdNumber:
    @settings(max_examples=200, deadline=None)
    @given(region=regions, born=births, sequence=sequences)
    def test_parses_back_to_its_region_birth_date_and_sex(self, region, born, sequence):
        made = make_id_number(region, born, sequence)

        parsed = parse_id_number(made.value, today=TODAY)

        assert (parsed.region, parsed.birth_date, parsed.sex) == (
            region,
            born,
            Sex.MALE if sequence % 2 else Sex.FEMALE,
        )

    @settings(max_examples=200, deadline=None)
    @given(
        region=regions,
        born=births,
        sequence=sequences,
        position=st.integers(0, 16),
        shift=st.integers(1, 9),
    )
    def test_becomes_invalid_when_any_one_of_its_first_17_digits_changes(
        self, region, born, sequence, position, shift
    ):
        value = make_id_number(region, born, sequence).value
        changed = str((int(value[position]) + shift) % 10)
        altered = value[:position] + changed + value[position + 1 :]

        with pytest.raises(InvalidIdNumber):
            parse_id_number(altered)


class TestNormalise:
    @settings(max_examples=200, deadline=None)
    @given(st.text())
    def test_is_idempotent(self, raw):
        once = normalise(raw)

        assert normalise(once) == once

    @settings(max_examples=200, deadline=None)
    @given(st.text(alphabet="0123456789xX -\u3000０１２３４５６７８９ｘＸ"))
    def test_leads_to_an_ascii_number_or_a_refusal(self, raw):
        try:
            number = parse_id_number(raw)
        except InvalidIdNumber:
            return

        assert number.value.isascii()
        assert len(number.value) == 18
