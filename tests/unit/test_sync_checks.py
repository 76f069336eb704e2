"""The pull's pure checks: which events of a page are new, held, or quarantined; which held rows
were altered here; which events lie outside the downstream's subtree; when a downstream was
restored; how a streamed page is framed; how downstreams are configured."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import msgspec
import pytest

from adapters.pg.integrity import GENESIS
from adapters.pg.store import START, Cursor, chain
from adapters.sync.feed import (
    MSGPACK,
    FeedEvent,
    Page,
    Plan,
    decode_page,
    encode,
    encode_events,
    frame,
)
from adapters.sync.node import NodeSettings, parse_downstreams
from adapters.sync.pull import (
    State,
    judge,
    outside,
    quarantine_content,
    recorded,
    restored,
    verify_held,
)
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

    def test_chains_nothing_onto_a_held_head_that_was_altered_here(self) -> None:
        events = stream(3)
        head = (events[1].stream_id, 2)
        held = {(events[0].stream_id, 1): events[0].hash, head: events[1].hash}

        verdict = judge(events[2:], held, altered={head})

        assert verdict.accepted == []
        assert verdict.altered == [head]
        assert "version 2 was altered" in verdict.quarantined[0].reason

    def test_does_not_skip_a_held_event_that_was_altered_here_even_with_the_same_hash(
        self,
    ) -> None:
        events = stream(2)
        held = {(e.stream_id, e.version): e.hash for e in events}
        altered = {(events[0].stream_id, 1)}

        verdict = judge(events, held, altered)

        assert verdict.altered == [(events[0].stream_id, 1)]
        assert [q.event.version for q in verdict.quarantined] == [1]
        assert verdict.skipped == 1  # version 2 only: held as served


class TestAnAttachmentWhoseContentMayNotBeStored:
    def test_is_quarantined_with_the_later_events_of_its_stream_only(self) -> None:
        mine, other = stream(4), stream(2)
        verdict = judge([*mine, *other], {})

        spoiled = quarantine_content(verdict, {(mine[1].stream_id, 2): "altered downstream"})

        assert spoiled.accepted == [mine[0], *other]
        assert [(q.event.version, q.reason) for q in spoiled.quarantined] == [
            (2, "altered downstream"),
            (3, "follows a quarantined event"),
            (4, "follows a quarantined event"),
        ]

    def test_nothing_to_refuse_leaves_the_verdict_alone(self) -> None:
        verdict = judge(stream(2), {})

        assert quarantine_content(verdict, {}) is verdict

    def test_its_event_names_the_content_it_records(self) -> None:
        [event] = stream(1)
        fields = {"attachment_id": str(uuid4()), "size": 12, "sha256": "ab" * 32, "name": "x"}
        attached = msgspec.structs.replace(
            event, type="household.attachment_added", payload=msgspec.json.encode(fields)
        )

        found = recorded(attached)

        assert found is not None
        assert (str(found.attachment_id), found.size, found.sha256) == (
            fields["attachment_id"],
            12,
            "ab" * 32,
        )
        assert recorded(event) is None


def rows_of(events: list[FeedEvent]) -> list[tuple[object, ...]]:
    """Events as `held_rows` reads them from the log."""
    return [
        (e.stream_id, e.version, e.type, e.payload, e.recorded_at, e.unit, e.refers_to, e.hash)
        for e in events
    ]


class TestVerifyHeld:
    def test_finds_nothing_in_rows_that_hash_as_stored(self) -> None:
        events = stream(3)
        hashes = {(e.stream_id, e.version): e.hash for e in events}

        assert verify_held(rows_of(events), hashes, {events[0].stream_id: 1}) == set()

    def test_finds_the_held_head_whose_content_changed_under_its_hash(self) -> None:
        events = stream(3)
        rows = rows_of(events)
        rows[2] = (*rows[2][:3], b'{"n": 99}', *rows[2][4:])
        hashes = {(e.stream_id, e.version): e.hash for e in events}

        assert verify_held(rows, hashes, {events[0].stream_id: 3}) == {(events[0].stream_id, 3)}

    def test_leaves_the_witness_below_the_head_unjudged(self) -> None:
        events = stream(3)
        rows = rows_of(events)
        rows[0] = (*rows[0][:3], b'{"n": 99}', *rows[0][4:])  # version 1: only a witness
        hashes = {(e.stream_id, e.version): e.hash for e in events}

        assert verify_held(rows[1:], hashes, {events[0].stream_id: 3}) == set()


def page(**fields: object) -> Page:
    given = {"node": "130306", "epoch": "e1", "subtree": "130306", "after": "10.5",
             "cursor": "12.9", "more": False, "head": "12.9", "events": []}  # fmt: skip
    return Page(**{**given, **fields})  # type: ignore[arg-type]


class TestRestored:
    def test_a_new_epoch_restarts(self) -> None:
        assert "epoch changed" in str(restored(State(Cursor(10, 5), "e0", "10.5"), page()))

    def test_a_log_that_ends_before_the_cursor_restarts(self) -> None:
        why = restored(State(Cursor(10, 5), "e1", "10.5"), page(head="9.4"))

        assert "before our cursor" in str(why)

    def test_a_log_that_lost_the_event_at_the_cursor_restarts(self) -> None:
        why = restored(State(Cursor(10, 5), "e1", "10.5"), page(after_in_log=False, head="40.3"))

        assert "no longer in its log" in str(why)

    @pytest.mark.parametrize(
        ("state", "served"),
        [
            (State(Cursor(10, 5), "e1", "10.5"), page()),
            (State(START, None, ""), page(after="", head="0.0")),
        ],
    )
    def test_a_log_that_goes_on_from_the_cursor_does_not(self, state: State, served: Page) -> None:
        assert restored(state, served) is None


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
        whole = page(events=stream(2))

        assert decode_page(encode(whole, media), media) == whole

    @pytest.mark.parametrize("media", [MSGPACK, "application/json"])
    @pytest.mark.parametrize("count", [0, 1, 15, 16, 65_535, 65_536])
    def test_streamed_in_chunks_are_the_bytes_of_the_whole_page(
        self, media: str, count: int
    ) -> None:
        # every length of MessagePack array header: fixarray, array 16, array 32
        [event] = stream(1)
        events = [event] * count
        whole = page(events=events)
        plan = Plan(page(), Cursor(10, 5), Cursor(12, 9), count)
        opening, closing = frame(plan, media)
        chunks = [events[i : i + 1000] for i in range(0, count, 1000)]

        streamed = b"".join(
            [opening, *(encode_events(c, media, first=i == 0) for i, c in enumerate(chunks)),
             closing]
        )  # fmt: skip

        assert streamed == encode(whole, media)

    def test_from_a_node_that_does_not_say_whether_the_cursor_is_in_its_log_are_read(
        self,
    ) -> None:
        older = {"node": "130306", "epoch": "e1", "subtree": "130306", "after": "1.1",
                 "cursor": "2.2", "more": False, "head": "2.2", "events": []}  # fmt: skip

        assert decode_page(msgspec.json.encode(older), "application/json").after_in_log


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


class TestNodeSettings:
    def test_ask_for_pages_of_the_configured_size(self) -> None:
        assert NodeSettings.from_env({"BANGFU_SYNC_PAGE": "40"}).page == 40
        assert NodeSettings.from_env({}).page == 2000

    @pytest.mark.parametrize("text", ["0", "-5", "many", "10001"])
    def test_refuse_a_page_size_the_feed_does_not_serve(self, text: str) -> None:
        with pytest.raises(InvalidValue, match="BANGFU_SYNC_PAGE"):
            NodeSettings.from_env({"BANGFU_SYNC_PAGE": text})

    def test_read_eight_attachments_at_a_time_unless_told(self) -> None:
        given = {"BANGFU_SYNC_ATTACHMENTS_IN_FLIGHT": "3"}
        assert NodeSettings.from_env(given).attachments_in_flight == 3
        assert NodeSettings.from_env({}).attachments_in_flight == 8

    @pytest.mark.parametrize("text", ["0", "-1", "several", "65"])
    def test_refuse_attachments_in_flight_out_of_bounds(self, text: str) -> None:
        with pytest.raises(InvalidValue, match="BANGFU_SYNC_ATTACHMENTS_IN_FLIGHT"):
            NodeSettings.from_env({"BANGFU_SYNC_ATTACHMENTS_IN_FLIGHT": text})
