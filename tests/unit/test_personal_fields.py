"""Personal fields sealed in place (adapters.pii): only they are encrypted, each opens only in its
own stream and field, and where no key is held a marker stands in for the value."""

from __future__ import annotations

import base64
import os
from uuid import uuid4

import msgspec
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pg.codec import EventCodec
from adapters.pii import sealing as pii
from domain.household import HouseholdFile
from domain.privacy import ERASED, UNREADABLE
from domain.values import Status

from .given import head as a_head
from .given import history, record, spouse, verifying

CODEC = EventCodec()


def sealed(event: HouseholdFile.Event, key: AESGCM) -> bytes:
    return CODEC.encode(event, key)[1]


def applied(**head: str) -> HouseholdFile.Applied:
    event = record(head=a_head(**head))[0]
    assert isinstance(event, HouseholdFile.Applied)
    return event


class TestASealedPayload:
    def test_holds_none_of_the_personal_values(self):
        event = applied(health="尿毒症透析", bank_card="6222020200001234")
        payload = sealed(event, AESGCM(os.urandom(32)))

        for value in (
            event.head.name,
            event.head.id_number,
            event.head.phone,
            event.head.address,
            event.head.health,
            event.head.bank_card,
        ):
            assert value.encode() not in payload, value
        assert payload.count(b'"enc:1:') == 6

    def test_keeps_everything_else_readable(self):
        event = applied()
        payload = msgspec.json.decode(sealed(event, AESGCM(os.urandom(32))))

        assert payload["establishing_unit"] == event.establishing_unit
        assert payload["applied_on"] == event.applied_on.isoformat()
        assert payload["head"]["employer"] == event.head.employer
        assert payload["actor"]["user"] == event.actor.user

    def test_seals_every_member(self):
        verified = record(verifying())[1]
        payload = sealed(verified, AESGCM(os.urandom(32)))

        assert spouse().id_number.encode() not in payload
        assert spouse().name.encode() not in payload

    def test_leaves_an_empty_value_empty(self):
        event = applied(bank_card="")
        payload = msgspec.json.decode(sealed(event, AESGCM(os.urandom(32))))

        assert payload["head"]["bank_card"] == ""

    def test_differs_each_time_for_the_same_value(self):
        event, key = applied(), AESGCM(os.urandom(32))

        assert sealed(event, key) != sealed(event, key)

    def test_leaves_events_without_personal_fields_as_they_were(self):
        approved = history(Status.APPROVED)[3]
        assert isinstance(approved, HouseholdFile.Approved)

        assert sealed(approved, AESGCM(os.urandom(32))) == CODEC.encode(approved)[1]


class TestOpening:
    def test_gives_back_the_payload_written_in_clear(self):
        event, key = applied(health="高血压", bank_card="6222020200001234"), AESGCM(os.urandom(32))

        opened = pii.open_payload(sealed(event, key), event.originator_id, key)

        assert opened == CODEC.encode(event)[1]

    @given(st.text(min_size=1, max_size=40).filter(lambda t: "\x00" not in t))
    @settings(max_examples=60, deadline=None)
    def test_gives_back_any_text_exactly(self, text: str):
        key, stream = AESGCM(os.urandom(32)), uuid4()
        token = pii.seal_value(key, stream.bytes, "address", text)
        payload = msgspec.json.encode({"address": token, "note": text})

        opened = msgspec.json.decode(pii.open_payload(payload, stream, key))

        assert opened == {"address": text, "note": text}

    def test_of_a_token_in_another_stream_reads_unreadable(self):
        event, key = applied(), AESGCM(os.urandom(32))

        opened = pii.open_payload(sealed(event, key), uuid4(), key)

        assert msgspec.json.decode(opened)["head"]["id_number"] == UNREADABLE

    def test_of_a_token_moved_to_another_field_reads_unreadable(self):
        key, stream = AESGCM(os.urandom(32)), uuid4()
        token = pii.seal_value(key, stream.bytes, "phone", "13912345678")
        payload = msgspec.json.encode({"id_number": token})

        opened = pii.open_payload(payload, stream, key)

        assert msgspec.json.decode(opened) == {"id_number": UNREADABLE}

    def test_with_the_key_destroyed_reads_erased(self):
        event = applied()

        opened = pii.open_payload(
            sealed(event, AESGCM(os.urandom(32))), event.originator_id, pii.SHREDDED
        )

        head = msgspec.json.decode(opened)["head"]
        assert (head["name"], head["id_number"], head["phone"]) == (ERASED,) * 3
        assert head["employer"] == event.head.employer

    def test_without_a_key_reads_unreadable(self):
        event = applied()

        opened = pii.open_payload(
            sealed(event, AESGCM(os.urandom(32))), event.originator_id, pii.ABSENT
        )

        assert msgspec.json.decode(opened)["head"]["id_number"] == UNREADABLE

    def test_never_touches_a_look_alike_inside_free_text(self):
        key, stream = AESGCM(os.urandom(32)), uuid4()
        text = '"id_number":"enc:1:AAAA"'
        payload = msgspec.json.encode({"statement": text})

        assert pii.open_payload(payload, stream, key) == payload


class TestClearPersonalData:
    def test_is_found_in_a_payload_written_without_a_key(self):
        assert pii.holds_clear_personal_data(CODEC.encode(applied())[1])

    def test_is_not_found_in_a_sealed_payload(self):
        assert not pii.holds_clear_personal_data(sealed(applied(), AESGCM(os.urandom(32))))


class TestTheKeyEncryptionKeys:
    def test_wrap_a_data_key_under_the_highest_version(self):
        keks = pii.KeyEncryptionKeys.parse(f"1:{pii.new_key_text()},2:{pii.new_key_text()}")
        stream, key = uuid4(), os.urandom(32)

        version, wrapped = keks.wrap(stream, key)

        assert version == 2
        assert keks.unwrap(stream, version, wrapped) == key

    def test_refuse_a_wrapped_key_of_another_stream(self):
        keks = pii.KeyEncryptionKeys.generate()
        version, wrapped = keks.wrap(uuid4(), os.urandom(32))

        with pytest.raises(pii.KeyProblem):
            keks.unwrap(uuid4(), version, wrapped)

    def test_refuse_a_version_they_do_not_hold(self):
        keks = pii.KeyEncryptionKeys.generate()
        stream = uuid4()
        _, wrapped = keks.wrap(stream, os.urandom(32))

        with pytest.raises(pii.KeyProblem, match="version 7"):
            keks.unwrap(stream, 7, wrapped)

    @pytest.mark.parametrize(
        "text", ["", "1", "x:abc", "1:c2hvcnQ=", f"1:{'A' * 44},1:{'B' * 44}", "0:" + "A" * 44]
    )
    def test_refuse_settings_that_are_not_versioned_256_bit_keys(self, text: str):
        with pytest.raises(ValueError):  # noqa: PT011 — each message names its own problem
            pii.KeyEncryptionKeys.parse(text)

    def test_accept_url_safe_base64_without_padding(self):
        raw = os.urandom(32)
        text = base64.urlsafe_b64encode(raw).decode().rstrip("=")

        assert pii.KeyEncryptionKeys.parse(f"3:{text}").keys == {3: raw}


class TestTheSyncKey:
    def test_carries_a_data_key_between_two_nodes(self):
        shared, stream, key = os.urandom(32), uuid4(), os.urandom(32)

        wrapped = pii.wrap_for_transport(shared, stream, key)

        assert pii.unwrap_from_transport(shared, stream, wrapped) == key

    def test_that_differs_refuses_it(self):
        stream = uuid4()
        wrapped = pii.wrap_for_transport(os.urandom(32), stream, os.urandom(32))

        with pytest.raises(pii.KeyProblem, match="different keys"):
            pii.unwrap_from_transport(os.urandom(32), stream, wrapped)
