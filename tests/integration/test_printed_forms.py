"""Forms printed from the events: every field's value is on the paper, every page carries a code,
and the code proves whether the paper still matches the electronic file."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from pypdf import PdfReader

from adapters.forms import fonts
from adapters.forms.codes import FormKey, read_token
from adapters.forms.household import day, yuan
from adapters.forms.pdf import Paper
from adapters.forms.unit import FROM_RECORDS, PAPER, period_bounds
from adapters.pg.codec import EventCodec
from adapters.pg.repository import PgFileRepository
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.pii.keyring import Keyring
from adapters.runtime.secrets import load_pii_keys
from adapters.services import demo
from adapters.services import forms as printing
from adapters.sync.node import NodeSettings
from domain import usecases
from domain.commands import Visit
from domain.errors import InvalidValue, NotFound, OutOfScope
from domain.household import HouseholdFile
from domain.printing import HouseholdForm, UnitForm, shown
from domain.values import Actor, Role, Status, label
from tests.builders import FixedClock, ProvincePolicies, approved_file

KEY = FormKey.from_secret("forms-test-secret-" + "y" * 40)
INSPECTOR = Actor("inspector-zhao", "13", Role.INSPECTOR)
A4 = (595, 842)


def printable(text: str) -> bool:
    common = fonts.common_characters()
    return all(ord(c) in common for c in text)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def text_of(pdf: bytes) -> tuple[str, list[Any]]:
    reader = PdfReader(io.BytesIO(pdf))
    return flat("".join(p.extract_text() for p in reader.pages)), list(reader.pages)


def size(page: Any) -> tuple[int, int]:
    return round(float(page.mediabox.width)), round(float(page.mediabox.height))


# Tests that only read (prints go to their own streams and leave the files' versions alone) share
# one demo province built once for the module, on the module's event loop; tests that write to a
# file or count its prints get their own database holding one file built by hand.
SHARED = pytest.mark.asyncio(loop_scope="module")


async def runtime_of(
    pool: asyncpg.Pool, store: PostgresEventStore, files: PgFileRepository
) -> SimpleNamespace:
    units = PgUnitDirectory(pool)
    await units.load(demo.units())
    return SimpleNamespace(
        store=store,
        codec=files.codec,
        files=files,
        units=units,
        clock=FixedClock(),
        pool=pool,
        node=NodeSettings(code="13"),
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rt(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Any]:
    """A demo province, built once for the module's read-only tests."""
    pool = await asyncpg.create_pool(module_database_url, min_size=1, max_size=8)
    assert pool is not None
    try:
        keyring = Keyring(pool, load_pii_keys(None, Path(tmp_path_factory.mktemp("forms"))))
        store = PostgresEventStore(pool, keyring=keyring)
        files = PgFileRepository(store, EventCodec(keyring=keyring))
        shared = await runtime_of(pool, store, files)
        await demo.build(files=files, clock=FixedClock(), count=40, seed=3)
        yield shared
    finally:
        await pool.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def household(rt: Any) -> HouseholdFile:
    return await rich_file(rt)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def printed_file(rt: Any, household: HouseholdFile) -> printing.Printed:
    """The 档案表 of the rich file, printed once for the tests that only inspect its code."""
    return await printing.print_household(
        rt,
        KEY,
        actor=INSPECTOR,
        file_id=household.id,
        form=HouseholdForm.FILE,
        version=None,
        purpose="核对",
    )


@pytest.fixture
async def own(pool: asyncpg.Pool, store: PostgresEventStore, files: PgFileRepository) -> Any:
    """This test's own database with one approved file built by hand (`own.household`)."""
    runtime = await runtime_of(pool, store, files)
    built = approved_file()
    await files.save(built)
    runtime.household = await files.get(built.id)
    return runtime


async def rich_file(rt: Any) -> HouseholdFile:
    """An approved demo file with assistance, a plan and a visit, whose names the font holds."""
    for household in await rt.files.every_file():
        names = [household.head.name, *(m.name for m in household.members)]
        if (
            household.status is Status.APPROVED
            and household.assistance_count
            and household.helper
            and household.last_visited_on
            and household.members
            and all(printable(n) for n in names)
        ):
            return household
    raise AssertionError("the demo has no such file")


async def events_of(rt: Any, household: HouseholdFile) -> list[Any]:
    rows = await rt.store.read_stream(household.id)
    return [
        rt.codec.decode(
            r.type, r.payload, stream_id=r.stream_id, version=r.version, recorded_at=r.recorded_at
        )
        for r in rows
    ]


def expected_values(form: HouseholdForm, h: HouseholdFile, events: list[Any]) -> list[str]:
    head = [h.head.name, h.head.id_number]
    members = [v for m in h.members for v in (m.name, m.id_number, label(m.relation))]
    if form is HouseholdForm.AUTHORISATION:
        return [*head, *members, day(h.applied_on)]
    if form is HouseholdForm.APPLICATION:
        return [
            *head,
            h.head.employer,
            h.head.address,
            *members,
            label(h.primary_cause),
            yuan(h.means.annual_income),
        ]
    if form is HouseholdForm.FILE:
        return [
            *head,
            h.head.phone,
            h.head.employer,
            h.head.address,
            *members,
            label(h.category),
            label(h.file_level),
            day(h.approved_on),
            yuan(h.means.annual_income),
            yuan(h.means.rigid_expenses),
            yuan(h.poverty_line),
            h.helper,
            "家庭成员信息",
            # the forms' own fields the demo records (issue 14)
            label(h.head.political_status),
            label(h.head.education),
            h.head.wishes,
            *(label(m.education) for m in h.members if m.education),
            *(i.value for m in h.members for i in m.insurance),
        ]
    if form is HouseholdForm.PLAN:
        plans = [e for e in events if isinstance(e, HouseholdFile.PlanAgreed)]
        return [
            h.head.name,
            *(m for p in plans for m in p.measures),
            *(p.goals for p in plans),
            *(p.helper for p in plans),
            *(v for p in plans for i in p.tasks for v in (i.department, i.lead_leader)),
            *(p.pairing.cadre_phone for p in plans if p.pairing),
        ]
    if form is HouseholdForm.VISITS:
        visits = [e for e in events if isinstance(e, HouseholdFile.Visited)]
        return [
            *head,
            *(v.content for v in visits),
            *(day(v.visited_on) for v in visits),
            *(v.cadre for v in visits),
            *(v.helper_opinion for v in visits),
            *(yuan(v.costs.living) for v in visits if v.costs),
        ]
    if form is HouseholdForm.NEEDS:
        needs = [n for e in events if isinstance(e, HouseholdFile.Visited) for n in e.needs]
        return [
            *head,
            h.head.employer,
            *("就业创业", "技能培训", "子女助学", "医保", "社保", "住房", "低保", "其它困难"),
            *(v for n in needs for v in (n.problem, n.policies, n.suggestion)),
        ]
    if form is HouseholdForm.AID:
        aid = [e for e in events if isinstance(e, HouseholdFile.Assisted)]
        return [
            *head,
            *(yuan(a.amount) for a in aid),
            *(label(a.kind) for a in aid),
            *(label(a.department) for a in aid),
        ]
    return [h.head.name, h.head.employer, label(h.category), h.helper]


@SHARED
class TestEachHouseholdForm:
    @pytest.mark.parametrize("form", list(HouseholdForm))
    async def test_prints_every_fields_value_on_pages_of_the_right_size(
        self, rt: Any, household: HouseholdFile, form: HouseholdForm
    ):
        events = await events_of(rt, household)

        printed = await printing.print_household(
            rt,
            KEY,
            actor=INSPECTOR,
            file_id=household.id,
            form=form,
            version=None,
            purpose="抽查核对",
        )

        text, pages = text_of(printed.pdf)
        assert [v for v in expected_values(form, household, events) if flat(v) not in text] == []
        assert flat(f"核验码{printed.code}") in text
        assert len(pages) >= 1
        assert {size(p) for p in pages} == ({(243, 153)} if form is HouseholdForm.CARD else {A4})
        assert all(flat(printed.code) in flat(p.extract_text()) for p in pages)


@SHARED
class TestAnOlderVersion:
    async def test_prints_the_file_as_it_was(self, rt: Any, household: HouseholdFile):
        printed = await printing.print_household(
            rt,
            KEY,
            actor=INSPECTOR,
            file_id=household.id,
            form=HouseholdForm.FILE,
            version=1,
            purpose="核对",
        )

        text, _ = text_of(printed.pdf)
        assert "档案版本1" in text
        assert label(Status.APPLIED) in text


class TestThePrintIsADisclosure:
    async def test_is_on_the_files_trail_with_its_purpose(self, own: Any):
        household = own.household

        printed = await printing.print_household(
            own,
            KEY,
            actor=INSPECTOR,
            file_id=household.id,
            form=HouseholdForm.AID,
            version=None,
            purpose="年度审计",
        )

        trail = await own.files.trail(household.id)
        prints = [e for e in trail if e.type == "access.file_printed"]
        assert len(prints) == 1
        assert "年度审计".encode() in prints[0].payload
        assert printed.code.replace("-", "").encode() in prints[0].payload

    @SHARED
    async def test_is_refused_without_a_purpose(self, rt: Any, household: HouseholdFile):
        with pytest.raises(InvalidValue):
            await printing.print_household(
                rt,
                KEY,
                actor=INSPECTOR,
                file_id=household.id,
                form=HouseholdForm.FILE,
                version=None,
                purpose=" ",
            )

    @SHARED
    async def test_is_refused_to_a_clerk_of_another_union(self, rt: Any, household: HouseholdFile):
        other = "130306999" if household.establishing_unit != "130306999" else "130306998"

        with pytest.raises(OutOfScope):
            await printing.print_household(
                rt,
                KEY,
                actor=Actor("clerk", other, Role.CLERK),
                file_id=household.id,
                form=HouseholdForm.FILE,
                version=None,
                purpose="核对",
            )


class TestTheVerificationCode:
    async def test_a_printed_code_verifies_and_later_says_changed_since_naming_the_events(
        self, own: Any
    ):
        household = own.household
        printed = await printing.print_household(
            own,
            KEY,
            actor=INSPECTOR,
            file_id=household.id,
            form=HouseholdForm.FILE,
            version=None,
            purpose="核对",
        )

        fresh = await printing.verify(own, actor=INSPECTOR, code=printed.code.lower())
        await usecases.act_on_file(
            files=own.files,
            policies=ProvincePolicies(),
            clock=FixedClock(FixedClock().day),
            actor=demo.actor_for(Role.CLERK, household.establishing_unit),
            file_id=household.id,
            command=Visit(visited_on=FixedClock().day, cadre="王干部", content="回访"),
            expected_version=None,
        )
        later = await printing.verify(own, actor=INSPECTOR, code=printed.code)

        assert fresh.matches
        assert not fresh.changed_since
        assert fresh.files[0].version == household.version
        assert later.matches
        assert later.changed_since
        assert [(c.version, c.type) for c in later.files[0].changes] == [
            (household.version + 1, "household.visited")
        ]

    @SHARED
    async def test_a_scanned_token_verifies(self, rt: Any, household: HouseholdFile):
        printed = await printing.print_household(
            rt,
            KEY,
            actor=INSPECTOR,
            file_id=household.id,
            form=HouseholdForm.CARD,
            version=None,
            purpose="发卡",
        )
        token = await token_of(rt, printed.code, household)

        checked = await printing.verify(rt, actor=INSPECTOR, token=token)

        assert checked.token_checked
        assert checked.matches

    @SHARED
    async def test_a_forged_token_is_refused(
        self, rt: Any, household: HouseholdFile, printed_file: printing.Printed
    ):
        token = await token_of(rt, printed_file.code, household)
        forger = FormKey.from_secret("someone-else-" + "z" * 40)
        payload = read_token(token)

        with pytest.raises(InvalidValue):
            await printing.verify(rt, actor=INSPECTOR, token=forger.sign(payload))
        with pytest.raises(InvalidValue):
            await printing.verify(
                rt,
                actor=INSPECTOR,
                token=KEY.sign({**payload, "v": payload["v"] - 1}),
            )

    @SHARED
    async def test_a_mistyped_short_code_is_refused(self, rt: Any, printed_file: printing.Printed):
        code = printed_file.code.replace("-", "")
        typo = code[:3] + ("A" if code[3] != "A" else "B") + code[4:]
        swapped = code[:5] + code[6] + code[5] + code[7:]

        with pytest.raises(InvalidValue):
            await printing.verify(rt, actor=INSPECTOR, code=typo)
        if swapped != code:
            with pytest.raises(InvalidValue):
                await printing.verify(rt, actor=INSPECTOR, code=swapped)
        with pytest.raises(NotFound):
            await printing.verify(rt, actor=INSPECTOR, code=shown("0" * 12))


async def token_of(rt: Any, code: str, household: HouseholdFile) -> str:
    """The token the page's QR code holds, as the node signed it (rebuilt from the record)."""
    result = await printing.verify(rt, actor=INSPECTOR, code=code)
    f = result.files[0]
    rows = await rt.store.read_stream(household.id)
    event_hash = next(r.hash.hex() for r in rows if r.version == f.version)
    return KEY.sign(
        {
            "c": code.replace("-", ""),
            "k": result.form,
            "n": result.node,
            "f": str(f.file_id),
            "v": f.version,
            "h": event_hash,
        }
    )


@SHARED
class TestTheUnitForms:
    # the forms of a unit's own records (minutes, assessment): tests/integration/test_unit_forms.py
    @pytest.mark.parametrize("form", [f for f in UnitForm if f not in FROM_RECORDS])
    async def test_list_every_file_of_the_period_with_one_disclosure_each(
        self, rt: Any, form: UnitForm
    ):
        everything = await rt.files.every_file()
        period = str(FixedClock().day.year - (0 if form is UnitForm.LEDGER else 1))

        printed = await printing.print_unit(
            rt, KEY, actor=INSPECTOR, unit="13", form=form, period=period, purpose="年度检查"
        )

        text, pages = text_of(printed.pdf)
        checked = await printing.verify(rt, actor=INSPECTOR, code=printed.code)
        listed = {f.file_id for f in checked.files}
        assert printed.files == len(listed) > 0
        on_paper = [h for h in everything if h.id in listed]
        assert [
            h.head.id_number
            for h in on_paper
            if form is UnitForm.LEDGER and h.head.id_number not in text
        ] == []
        assert [
            h.head.name
            for h in on_paper
            if printable(h.head.name) and flat(h.head.name) not in text
        ] == []
        landscape = PAPER[form] is Paper.A4_LANDSCAPE
        assert {size(p) for p in pages} == ({(842, 595)} if landscape else {A4})
        assert checked.matches


def test_a_period_is_a_year_quarter_or_month():
    assert period_bounds("2026-Q2")[1] - period_bounds("2026-Q2")[0] == timedelta(days=90)
    with pytest.raises(InvalidValue):
        period_bounds("2026-Q5")
