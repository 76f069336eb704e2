"""上传附件: a proof material is attached as its own event, its type judged by its content."""

from __future__ import annotations

from uuid import UUID, uuid4

import msgspec
import pytest

from adapters.pg.codec import EventCodec
from domain.attachments import MB, AttachmentLimits, MediaType, sniff
from domain.errors import InvalidValue, NotPermitted, RuleViolated, WrongState
from domain.household import HouseholdFile
from domain.privacy import ERASED
from domain.values import Actor, ExitKind, ExitReason, Material, Role, Status

from .given import (
    ADMIN,
    BASE,
    CLERK,
    OTHER_CLERK,
    TODAY,
    given,
    history,
    then,
    then_refused,
    when,
)

SHA = "ab" * 32
INSPECTOR = Actor("inspector-wu", BASE, Role.INSPECTOR)


def attaching(**overrides: object):  # type: ignore[no-untyped-def]
    fields = {
        "actor": CLERK,
        "attachment_id": uuid4(),
        "kind": Material.DIAGNOSIS,
        "name": "诊断证明.pdf",
        "media_type": MediaType.PDF,
        "size": 300_000,
        "sha256": SHA,
        "today": TODAY,
    } | overrides
    return lambda f: f.attach(**fields)


class TestAttaching:
    def test_records_kind_name_type_size_and_hash(self):
        file = given(*history(Status.APPLIED))
        attachment_id = UUID(int=7)

        outcome = when(file, attaching(attachment_id=attachment_id))

        then(
            outcome,
            HouseholdFile.AttachmentAdded,
            attachment_id=attachment_id,
            kind=Material.DIAGNOSIS,
            name="诊断证明.pdf",
            media_type=MediaType.PDF,
            size=300_000,
            sha256=SHA,
            attached_on=TODAY,
        )

    @pytest.mark.parametrize("status", [Status.APPLIED, Status.APPROVED, Status.RELIEVED])
    def test_is_allowed_while_open_relieved_or_under_follow_up(self, status):
        file = given(*history(status))

        when(file, attaching())

        assert [a.kind for a in file.attachments] == [Material.DIAGNOSIS]
        assert Material.DIAGNOSIS in file.scanned()

    @pytest.mark.parametrize("status", [Status.CANCELLED, Status.REJECTED, Status.DELETED])
    def test_is_refused_to_a_closed_file(self, status):
        file = given(*history(status))

        outcome = when(file, attaching())

        then_refused(outcome, WrongState)

    def test_is_refused_to_an_inspector(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, attaching(actor=INSPECTOR))

        then_refused(outcome, NotPermitted)

    def test_is_refused_outside_the_unit(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, attaching(actor=OTHER_CLERK))

        assert outcome.error is not None

    def test_keeps_only_the_file_name_of_a_path(self):
        file = given(*history(Status.APPLIED))

        when(file, attaching(name="C:\\扫描\\身份证.jpg", media_type=MediaType.JPEG))

        assert file.attachments[0].name == "身份证.jpg"

    def test_refuses_a_hash_that_is_not_sha256(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, attaching(sha256="xyz"))

        then_refused(outcome, InvalidValue, field="sha256")

    def test_refuses_a_media_type_other_than_jpeg_png_or_pdf(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, attaching(media_type="image/gif"))

        then_refused(outcome, InvalidValue, field="media_type")

    def test_refuses_an_attachment_over_the_limit(self):
        file = given(*history(Status.APPLIED))

        outcome = when(file, attaching(size=21 * MB))

        then_refused(outcome, RuleViolated, rule="attachment_size")

    def test_refuses_what_would_pass_the_households_total(self):
        file = given(*history(Status.APPLIED))
        limits = AttachmentLimits(per_file=10 * MB, per_household=15 * MB)
        when(file, attaching(size=8 * MB, limits=limits))

        outcome = when(file, attaching(size=8 * MB, limits=limits))

        then_refused(outcome, RuleViolated, rule="household_attachments_size")

    def test_refuses_the_same_id_twice(self):
        file = given(*history(Status.APPLIED))
        attachment_id = uuid4()
        when(file, attaching(attachment_id=attachment_id))

        outcome = when(file, attaching(attachment_id=attachment_id))

        then_refused(outcome, InvalidValue, field="attachment_id")

    def test_erasure_leaves_the_name_erased(self):
        file = given(*history(Status.APPROVED))
        when(file, attaching())
        when(
            file,
            lambda f: f.exit(
                actor=CLERK,
                exited_on=TODAY,
                kind=ExitKind.CANCELLED,
                reason=ExitReason.MOVED,
                explanation="迁出",
                evidence=("迁出证明",),
                today=TODAY,
            ),
        )

        when(
            file,
            lambda f: f.erase_personal_data(
                actor=ADMIN, erased_on=TODAY, reason="申请删除", today=TODAY
            ),
        )

        assert file.attachments[0].name == ERASED
        assert file.attachments[0].sha256 == SHA


class TestSniffing:
    @pytest.mark.parametrize(
        ("head", "media"),
        [
            (b"\xff\xd8\xff\xe0\x00\x10JFIF", MediaType.JPEG),
            (b"\x89PNG\r\n\x1a\n\x00\x00", MediaType.PNG),
            (b"%PDF-1.7\n", MediaType.PDF),
            (b"GIF89a", None),
            (b"PK\x03\x04", None),
            (b"", None),
        ],
    )
    def test_judges_content_by_its_first_bytes(self, head, media):
        assert sniff(head) is media


def exiting(**overrides: object):  # type: ignore[no-untyped-def]
    fields = {
        "actor": CLERK,
        "exited_on": TODAY,
        "kind": ExitKind.CANCELLED,
        "reason": ExitReason.MOVED,
        "explanation": "迁出",
        "evidence": ("迁出证明",),
        "today": TODAY,
    } | overrides
    return lambda f: f.exit(**fields)


class TestAStepCitingAttachments:
    def test_records_the_attachments_of_the_file_it_rests_on(self):
        file = given(*history(Status.APPROVED))
        proof = UUID(int=41)
        when(file, attaching(attachment_id=proof, kind=Material.OTHER, name="迁出证明.pdf"))

        outcome = when(file, exiting(cites=(proof, proof)))

        then(outcome, HouseholdFile.Exited, cites=(proof,))

    def test_refuses_an_id_that_is_no_attachment_of_the_file(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting(cites=(UUID(int=42),)))

        then_refused(outcome, InvalidValue, field="cites")

    def test_cites_nothing_unless_told(self):
        file = given(*history(Status.APPROVED))

        outcome = when(file, exiting())

        then(outcome, HouseholdFile.Exited, cites=())


class TestAStepRecordedBeforeCitations:
    def test_decodes_from_a_payload_without_them(self):
        codec = EventCodec()
        verified = next(e for e in history(Status.APPROVED) if type(e) is HouseholdFile.Verified)
        name, payload = codec.encode(verified)
        older = msgspec.json.encode(
            {k: v for k, v in msgspec.json.decode(payload).items() if k != "cites"}
        )

        decoded = codec.decode(
            name,
            older,
            stream_id=verified.originator_id,
            version=verified.originator_version,
            recorded_at=verified.timestamp,
        )

        assert b"cites" in payload
        assert b"cites" not in older
        assert decoded == verified
