"""The pull's pure checks: which events of a page are new, held, or quarantined; which lie
outside the downstream's subtree; how downstreams are configured."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from adapters.integrity import GENESIS
from adapters.pg.store import chain
from adapters.sync.feed import MSGPACK, FeedEvent, Page, decode_page, encode
from adapters.sync.node import parse_downstreams
from adapters.sync.pull import judge, outside
from domain.errors import InvalidValue

WHEN = datetime(2024, 5, 6, 12, tzinfo=UTC)


def stream(length: int, unit: str = "130306001") -> list[FeedEvent]:
    sid, previous, events = uuid4(), GENESIS, []
    for version in range(1, length + 1):
        e = chain(previous, sid, version, "household.visited", b'{"n": %d}' % version, WHEN, unit)
        previous = e.hash
        events.append(
            FeedEvent(
                stream_id=sid,
                version=version,
                type=e.type,
                payload=e.payload,
                recorded_at=WHEN,
                unit=unit,
                refers_to=None,
                hash=e.hash,
                origin_node="130306",
                origin_epoch="e1",
            )
        )
    return events


class TestJudge:
    def test_accepts_a_new_stream_that_chains_from_genesis(self) -> None:
        events = stream(3)

        verdict = judge(events, {})

        assert verdict.accepted == events

    def test_skips_what_is_held_with_the_same_hash_and_accepts_the_rest(self) -> None:
        events = stream(3)
        held = {(events[0].stream_id, 1): events[0].hash}

        verdict = judge(events, held)

        assert (verdict.skipped, verdict.accepted) == (1, events[1:])

    def test_quarantines_the_same_version_with_another_hash_and_what_follows(self) -> None:
        events = stream(3)
        held = {(events[0].stream_id, 1): bytes(32)}

        verdict = judge(events, held)

        assert verdict.accepted == []
        assert [q.event.version for q in verdict.quarantined] == [1, 2, 3]
        assert verdict.quarantined[0].held_hash == bytes(32)

    def test_quarantines_an_event_whose_content_no_longer_matches_its_hash(self) -> None:
        first, second = stream(2)
        altered = FeedEvent(**{**{f: getattr(second, f) for f in second.__struct_fields__},
                               "payload": b'{"n": 99}'})  # fmt: skip

        verdict = judge([first, altered], {})

        assert verdict.accepted == [first]
        assert "does not chain" in verdict.quarantined[0].reason

    def test_quarantines_an_event_whose_predecessor_is_not_held(self) -> None:
        events = stream(3)

        verdict = judge(events[2:], {})

        assert "version 2" in verdict.quarantined[0].reason


class TestOutside:
    @pytest.mark.parametrize(
        ("unit", "subtree", "inside"),
        [
            ("130306001", "130306", True),
            ("130302001", "130306", False),
            ("1303060011", "130306001", False),
            ("not-a-unit", "130306", False),
        ],
    )
    def test_finds_events_outside_the_subtree(self, unit: str, subtree: str, inside: bool) -> None:
        [event] = stream(1, unit=unit)

        assert outside([event], subtree) == ([] if inside else [event])


class TestPages:
    @pytest.mark.parametrize("media", [MSGPACK, "application/json"])
    def test_round_trip_byte_for_byte(self, media: str) -> None:
        page = Page(node="130306", epoch="e1", subtree="130306", after="0.0", cursor="9.9",
                    more=False, head="9.9", events=stream(2))  # fmt: skip

        assert decode_page(encode(page, media), media) == page


class TestDownstreams:
    def test_are_read_from_a_json_list(self) -> None:
        [d] = parse_downstreams('[{"code": "130306", "url": "http://d:8000/", "token": "t"}]')

        assert (d.code, d.url, d.token) == ("130306", "http://d:8000", "t")

    @pytest.mark.parametrize(
        "text",
        [
            "{}",
            "[1]",
            '[{"code": "13x", "url": "http://d", "token": "t"}]',
            '[{"code": "130306", "url": "ftp://d", "token": "t"}]',
            '[{"code": "130306", "url": "http://a", "token": "t"},'
            ' {"code": "130306", "url": "http://b", "token": "t"}]',
        ],
    )
    def test_refuse_a_bad_configuration(self, text: str) -> None:
        with pytest.raises(InvalidValue):
            parse_downstreams(text)
