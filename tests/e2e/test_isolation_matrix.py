"""Isolation, table-driven: every operation of the API's own OpenAPI document, asked by a caller
of every role from a unit outside the target's subtree.

The target is a base-level union (BASE) with files in every status, a spot-check and a
reconciliation of its district. Each caller's own subtree holds one file of its own.

- Aimed at the target (its file, unit, subtree, report): the answer is 404, or 403 naming the
  rule — and exactly the answer the same caller gets for the like of it that does not exist (a
  random file id, an unregistered unit code), so no answer tells the caller that the target
  exists. Nothing is written.
- Lists, asked without a unit (the caller's own subtree): the caller's own file, nothing of the
  target.
- Operations with no household data (health, this node's configuration, published regional
  parameters) are named with the reason.

The operations come from `GET /schema/openapi.json`: a route added without a row here fails
`test_every_operation_of_the_api_has_a_row`. The console's routes are not in the document (HTML
pages and form posts of the caller's own session); they are named in `CONSOLE` with the reason,
and `test_every_route_outside_the_document_is_the_consoles` fails for any other route missing.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from adapters.http.app import create_app
from adapters.pg.accounts import PgAccounts
from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies, seed_demo_policies
from adapters.pg.store import PostgresEventStore
from adapters.pg.units import PgUnitDirectory
from adapters.runtime.settings import Settings
from adapters.services.accounts import AccountService
from adapters.services.scans import scan
from adapters.sync import feed
from domain.policy import Parameters
from domain.units import UnitCode
from domain.values import Actor, Role
from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    BODIES,
    COMMANDS,
    DISTRICT,
    JSON,
    OTHER_BASE,
    OTHER_CITY,
    OTHER_DISTRICT,
    PREFIX_SIBLING,
    PROBLEM,
    PROVINCE,
    STARTS_FROM,
    STEPS_TO,
    application,
    file_in,
)
from tests.e2e.read_model_helpers import projected, workbook_rows

pytestmark = pytest.mark.slow

NOWHERE = "130306099"  # a base-level union's code beside BASE's, never registered
NOWHERE_DISTRICT = "130399"  # a district code in the target's city, never registered
NOWHERE_CITY_UNIT = "130399001"  # a base-level code under that unregistered district
NATION = "00"
INDUSTRY = "13C01"  # a provincial industry union registered as approving (河北省教育工会)
NATIONAL = "00C01"  # a national industry union registered as approving (中国教育工会)

# role → (the caller's unit: outside the target's subtree, role); each holds a file of its own
CALLERS: dict[str, tuple[str, str]] = {
    "clerk of another base-level union": (OTHER_BASE, "clerk"),
    "clerk of a union whose code extends the target's": (PREFIX_SIBLING, "clerk"),
    "approver of another district": (OTHER_DISTRICT, "approver"),
    "inspector of another city": (OTHER_CITY, "inspector"),
    "admin of another city": (OTHER_CITY, "admin"),
    "sync account of another city": (OTHER_CITY, "sync"),
    # non-geographic unions (decision 14): the target lies in their province, or in none of them
    "approver of a provincial industry union": (INDUSTRY, "approver"),
    "inspector of a national industry union": (NATIONAL, "inspector"),
}
OWN_FILE_UNIT = {
    OTHER_BASE: OTHER_BASE,
    PREFIX_SIBLING: PREFIX_SIBLING,
    OTHER_DISTRICT: "130302001",
    OTHER_CITY: "130102001",
    INDUSTRY: "13C01001",
    NATIONAL: "00C01001",
}
POLICY = {"effective_on": "2026-07-01", "poverty_line": "760.00", "reason": "低保标准调整"}
PAPER_LEDGER = "户主姓名,身份证号码,状态\n张一,130306197504040011,在档\n".encode("gb18030")
IMPORT_SHEET = (
    "户主姓名,身份证号码,申请时间,入户调查时间,调查人,家庭年收入,刚性支出,致困原因,"
    "评议时间,公示开始,公示结束,审批时间\n"
    "张一,130306197504040011,2023-03-02,2023-03-09,赵一、钱二,9600,1200,因病,"
    "2023-03-12,2023-03-13,2023-03-20,2023-03-25\n"
).encode("gb18030")
CIVIL_AFFAIRS_LIST = (
    "民政比对名单\n身份证号码,比对类型,日期\n130306197504040011,车辆,2026-09-01\n".encode("gb18030")
)
WIDE_DUE = "kind=visits&as_of=2030-01-01&visit_days=1"
CONSOLE_PASSWORD = "晴天-Harbour-47"


@dataclass
class World:
    """What the target holds, what each caller holds, and ids that exist nowhere."""

    files: dict[str, str]  # status → a file of BASE in it
    spot_check: str
    reconciliation: str
    own: dict[str, str]  # caller's unit → its own file
    account: str  # an account of BASE
    job: str = ""  # a background spot-check of DISTRICT's inspector
    printed: str = ""  # the verification code of a form printed of BASE's approved file
    attachment: str = ""  # a scan attached to the approved file
    missing: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def secrets(self) -> set[str]:
        """Identifiers of the target's things: none may appear in an outside caller's answer."""
        things = {*self.files.values(), self.spot_check, self.reconciliation, self.account}
        return things | {self.job, self.printed, self.attachment}


@dataclass(frozen=True)
class Call:
    """One request; `names` are the identifiers it aims at, blanked when answers are compared."""

    method: str
    url: str
    json: Any = None
    form: dict[str, str] | None = None
    upload: tuple[str, bytes] | None = None
    names: tuple[str, ...] = ()
    raw: tuple[str, bytes] | None = None  # (media type, body): an attachment's content


# An aimed row: (world, at the target?) → the request at the target's thing, or at its missing like.
Aim = Callable[[World, bool], Call]


def _file_command(command: str) -> Aim:
    def aim(w: World, there: bool) -> Call:
        file_id = w.files[STARTS_FROM[command]] if there else w.missing
        return Call("POST", f"{API}/files/{file_id}/{command}", BODIES[command], names=(file_id,))

    return aim


def _file_read(suffix: str) -> Aim:
    def aim(w: World, there: bool) -> Call:
        file_id = w.files["approved"] if there else w.missing
        return Call("GET", f"{API}/files/{file_id}{suffix}", names=(file_id,))

    return aim


def _unit_query(path: str, query: str = "", parameter: str = "unit") -> Aim:
    def aim(w: World, there: bool) -> Call:
        unit = BASE if there else NOWHERE
        return Call(
            "GET", f"{API}{path}?{query}{'&' if query else ''}{parameter}={unit}", names=(unit,)
        )

    return aim


def _upload(path: str, name: str, content: bytes, target: str, nowhere: str) -> Aim:
    def aim(w: World, there: bool) -> Call:
        unit = target if there else nowhere
        return Call(
            "POST", f"{API}{path}", form={"unit": unit}, upload=(name, content), names=(unit,)
        )

    return aim


def _report(path: str, attribute: str) -> Aim:
    def aim(w: World, there: bool) -> Call:
        name = getattr(w, attribute) if there else w.missing
        return Call("GET", f"{API}{path}/{name}", names=(name,))

    return aim


def _apply(w: World, there: bool) -> Call:
    unit = BASE if there else NOWHERE
    return Call("POST", f"{API}/files", application(unit), names=(unit,))


def _unit(method: str, body: dict[str, Any] | None = None) -> Aim:
    def aim(w: World, there: bool) -> Call:
        unit = BASE if there else NOWHERE
        return Call(method, f"{API}/units/{unit}", body, names=(unit,))

    return aim


def _new_unit(w: World, there: bool) -> Call:
    code = "130306098" if there else NOWHERE_CITY_UNIT  # under DISTRICT, or under no district
    return Call("POST", f"{API}/units", {"code": code, "name": "新工会"}, names=(code, code[:6]))


def _spot_check(w: World, there: bool, path: str = "/spot-checks") -> Call:
    unit = DISTRICT if there else NOWHERE_DISTRICT
    body = {"unit": unit, "sample": 1, "seed": 1, "as_of": "2026-11-21"}
    return Call("POST", f"{API}{path}", body, names=(unit,))


def _spot_check_job(w: World, there: bool) -> Call:
    return _spot_check(w, there, "/spot-check-jobs")


def _set_policy(w: World, there: bool) -> Call:
    region = DISTRICT if there else NOWHERE_DISTRICT
    return Call("POST", f"{API}/policies/{region}", POLICY, names=(region,))


def _mint(w: World, there: bool) -> Call:
    unit = BASE if there else NOWHERE
    body = {"user": "clerk-new", "unit": unit, "role": "clerk", "ttl_seconds": 3600}
    return Call("POST", f"{API}/tokens", body, names=(unit,))


def _erase(w: World, there: bool) -> Call:
    file_id = w.files["approved"] if there else w.missing
    return Call(
        "POST", f"{API}/files/{file_id}/erasure", {"reason": "本人申请删除"}, names=(file_id,)
    )


def _print_file(w: World, there: bool) -> Call:
    file_id = w.files["approved"] if there else w.missing
    return Call("GET", f"{API}/files/{file_id}/forms/file", names=(file_id,))


def _print_unit(w: World, there: bool) -> Call:
    unit = BASE if there else NOWHERE
    return Call("GET", f"{API}/units/{unit}/forms/ledger?period=2026", names=(unit,))


def _unit_records(method: str, suffix: str, body: Callable[[World], Any] | None = None) -> Aim:
    """A union's own records (its meetings, its 考核表), at BASE or at the unregistered NOWHERE."""

    def aim(w: World, there: bool) -> Call:
        unit = BASE if there else NOWHERE
        payload = body(w) if body is not None else None
        return Call(method, f"{API}/units/{unit}/{suffix}", payload, names=(unit,))

    return aim


def _meeting(w: World) -> dict[str, Any]:
    return {
        "held_on": "2026-11-20",
        "place": "会议室",
        "chair": "刘建国",
        "recorder": "陈丽",
        "attendees": ["刘建国", "陈丽", "王海燕"],
        "expected": 3,
        "summary": "评议",
        "votes": [{"file_id": w.files["verified"], "in_favour": 3}],
    }


def _assessment(w: World) -> dict[str, Any]:
    return {
        "period": "2026",
        "recorded_on": "2026-11-20",
        "items": [{"goal": "解困脱困两户", "measures": "一户一策"}],
    }


def _verify_print(w: World, there: bool) -> Call:
    code = w.printed if there else "0000-0000-0000"  # a well-formed code no print has
    return Call("POST", f"{API}/forms/verification", {"code": code}, names=(code,))


def _attach(w: World, there: bool) -> Call:
    file_id = w.files["approved"] if there else w.missing
    return Call(
        "POST",
        f"{API}/files/{file_id}/attachments?kind=id_copy&name=scan.png",
        raw=("image/png", scan(1)),
        names=(file_id,),
    )


def _attachment(suffix: str) -> Aim:
    def aim(w: World, there: bool) -> Call:
        file_id = w.files["approved"] if there else w.missing
        attachment_id = w.attachment if there else str(uuid.UUID(int=17))
        return Call(
            "GET",
            f"{API}/files/{file_id}/attachments/{attachment_id}/{suffix}",
            names=(file_id, attachment_id),
        )

    return aim


def _sync_chunk(w: World, there: bool) -> Call:
    attachment_id = w.attachment if there else w.missing
    return Call("GET", f"{API}/sync/attachments/{attachment_id}/chunks/0", names=(attachment_id,))


def _account(method: str, suffix: str = "", body: dict[str, Any] | None = None) -> Aim:
    def aim(w: World, there: bool) -> Call:
        account = w.account if there else w.missing
        return Call(method, f"{API}/users/{account}{suffix}", body, names=(account,))

    return aim


def _new_account(w: World, there: bool) -> Call:
    unit = BASE if there else NOWHERE
    body = {"user": "clerk-new", "unit": unit, "role": "clerk"}
    return Call("POST", f"{API}/users", body, names=(unit,))


FILE = f"{API}/files/{{file_id}}"
USER = f"{API}/users/{{user_id}}"
AIMED: dict[tuple[str, str], Aim] = {
    ("POST", f"{API}/files"): _apply,
    **{("POST", f"{FILE}/{c}"): _file_command(c) for c in COMMANDS},
    ("GET", FILE): _file_read(""),
    ("GET", f"{FILE}/events"): _file_read("/events"),
    ("GET", f"{API}/units"): _unit_query("/units", parameter="root"),
    ("POST", f"{API}/units"): _new_unit,
    ("GET", f"{API}/units/{{code}}"): _unit("GET"),
    ("PATCH", f"{API}/units/{{code}}"): _unit("PATCH", {"name": "新名称"}),
    ("GET", f"{API}/ledger"): _unit_query("/ledger"),
    ("GET", f"{API}/ledger.xlsx"): _unit_query("/ledger.xlsx"),
    ("GET", f"{API}/stats"): _unit_query("/stats"),
    ("GET", f"{API}/queues/approvals"): _unit_query("/queues/approvals"),
    ("GET", f"{API}/due"): _unit_query("/due", WIDE_DUE),
    ("GET", f"{API}/duplicates"): _unit_query("/duplicates"),
    ("POST", f"{API}/spot-checks"): _spot_check,
    ("POST", f"{API}/spot-check-jobs"): _spot_check_job,
    ("GET", f"{API}/jobs/{{job_id}}"): _report("/jobs", "job"),
    ("GET", f"{API}/spot-checks/{{name}}"): _report("/spot-checks", "spot_check"),
    ("POST", f"{API}/policies/{{region}}"): _set_policy,
    ("POST", f"{API}/reconciliations"): _upload(
        "/reconciliations", "ledger.csv", PAPER_LEDGER, BASE, NOWHERE
    ),
    ("GET", f"{API}/reconciliations/{{name}}"): _report("/reconciliations", "reconciliation"),
    ("POST", f"{API}/imports"): _upload("/imports", "files.csv", IMPORT_SHEET, BASE, NOWHERE),
    ("POST", f"{API}/civil-affairs-matches"): _upload(
        "/civil-affairs-matches", "list.csv", CIVIL_AFFAIRS_LIST, DISTRICT, NOWHERE_DISTRICT
    ),
    ("POST", f"{API}/tokens"): _mint,
    ("POST", f"{FILE}/erasure"): _erase,
    ("POST", f"{FILE}/attachments"): _attach,
    ("GET", f"{FILE}/attachments"): _file_read("/attachments"),
    ("GET", f"{FILE}/attachments/{{attachment_id}}/content"): _attachment("content"),
    ("GET", f"{FILE}/attachments/{{attachment_id}}/preview"): _attachment("preview"),
    ("GET", f"{API}/sync/attachments/{{attachment_id}}/chunks/{{seq}}"): _sync_chunk,
    ("GET", f"{API}/users"): _unit_query("/users"),
    ("POST", f"{API}/users"): _new_account,
    ("GET", USER): _account("GET"),
    ("PATCH", USER): _account("PATCH", "", {"disabled": True}),
    ("POST", f"{USER}/password-reset"): _account("POST", "/password-reset", {}),
    ("GET", f"{USER}/events"): _account("GET", "/events"),
    ("GET", f"{FILE}/forms/{{form}}"): _print_file,
    ("GET", f"{API}/units/{{code}}/forms/{{form}}"): _print_unit,
    ("POST", f"{API}/forms/verification"): _verify_print,
    ("POST", f"{API}/units/{{code}}/meetings"): _unit_records("POST", "meetings", _meeting),
    ("GET", f"{API}/units/{{code}}/meetings"): _unit_records("GET", "meetings"),
    ("POST", f"{API}/units/{{code}}/assessments"): _unit_records(
        "POST", "assessments", _assessment
    ),
    ("GET", f"{API}/units/{{code}}/assessments/{{period}}"): _unit_records(
        "GET", "assessments/2026"
    ),
}

# Lists asked with no unit: the caller's own subtree. name → (operation, query, what it holds
# when the caller may read it: only the caller's own file, or nothing).
LISTED: dict[str, tuple[tuple[str, str], str]] = {
    "ledger": (("GET", f"{API}/ledger"), ""),
    "ledger export": (("GET", f"{API}/ledger.xlsx"), ""),
    "statistics": (("GET", f"{API}/stats"), ""),
    "approval queue": (("GET", f"{API}/queues/approvals"), ""),
    "visits due": (("GET", f"{API}/due"), WIDE_DUE),
    "duplicates": (("GET", f"{API}/duplicates"), ""),
    "units": (("GET", f"{API}/units"), ""),
    "sync feed": (("GET", f"{API}/sync/feed"), ""),
    "sync feed count": (("GET", f"{API}/sync/feed/count"), ""),
    "accounts": (("GET", f"{API}/users"), ""),
}

# Routes outside the OpenAPI document: the console's pages and form posts. Each acts on the
# session of the caller's own cookie (and the personal tokens of that session's account) and
# shows nothing but that account, its unit's name and its tokens; a bearer token opens none.
CONSOLE: dict[str, str] = {
    "/": "redirects to the console",
    "/console/sign-in": "the sign-in form; the caller's own credentials",
    "/console": "the signed-in account's own user, unit, role and tokens",
    "/console/sign-out": "ends the caller's own session",
    "/console/password": "the signed-in account's own password",
    "/console/tokens": "mints a token for the signed-in account itself",
    "/console/tokens/{token_id}/revoke": "revokes a token of the signed-in account only "
    "(another account's token is 'no such live token', as a missing one)",
    "/static/{file_path}": "the style sheet and Redoc's script: files of the repository, no data",
    "/console/work/{kind}": "the caller's own subtree only (`CONSOLE_LISTED`)",
    "/console/duplicates": "the caller's own subtree only (`CONSOLE_LISTED`)",
    "/console/files/new": "an empty form for the caller's own unit",
    "/console/ledger": "aimed (`CONSOLE_AIMED`); without a unit, the caller's own subtree",
    "/console/ledger.xlsx": "aimed (`CONSOLE_AIMED`); without a unit, the caller's own subtree",
    "/console/stats": "aimed (`CONSOLE_AIMED`); without a unit, the caller's own unit",
    "/console/files/{file_id}": "aimed (`CONSOLE_AIMED`)",
    "/console/files/{file_id}/{slug}": "aimed (`CONSOLE_AIMED`)",
    "/console/files": "aimed (`CONSOLE_AIMED`): a new file of a unit outside the subtree",
    "/console/spot-checks": "aimed (`CONSOLE_AIMED`): a spot-check of a unit outside the subtree",
    "/console/spot-checks/{check_id}": "aimed (`CONSOLE_AIMED`)",
    "/console/spot-checks/{check_id}/xlsx": "aimed (`CONSOLE_AIMED`)",
    "/console/accounts": "aimed (`CONSOLE_AIMED`): the accounts of a unit, a new account there",
    "/console/accounts/{account_id}/{change}": "aimed (`CONSOLE_AIMED`)",
    "/console/jobs/{job_id}": "aimed (`CONSOLE_AIMED`)",
    "/console/sync": "per downstream node: cursor and errors, no events (as GET /sync/status)",
    "/console/paper": "three empty upload forms for the caller's own unit",
    "/console/paper/{kind}": "aimed (`CONSOLE_AIMED`): an upload for a unit outside the subtree",
    "/console/files/{file_id}/attachments": "aimed (`CONSOLE_AIMED`): a scan for a file outside",
    "/console/files/{file_id}/attachments/{attachment_id}": "aimed (`CONSOLE_AIMED`)",
    "/console/files/{file_id}/unmasked": "aimed (`CONSOLE_AIMED`)",
    "/console/files/{file_id}/print": "aimed (`CONSOLE_AIMED`)",
    "/console/forms": "two forms; the unit and period in the query only fill their fields",
    "/console/forms/unit": "aimed (`CONSOLE_AIMED`): a unit's form of a unit outside the subtree",
    "/console/forms/verification": "aimed (`CONSOLE_AIMED`): the code of a print outside",
}


def _console_upload(w: World, there: bool) -> Call:
    unit = DISTRICT if there else NOWHERE_DISTRICT
    return Call(
        "POST",
        "/console/paper/civil-affairs",
        form={"unit": unit},
        upload=("list.csv", CIVIL_AFFAIRS_LIST),
        names=(unit,),
    )


def _console_accounts(w: World, there: bool) -> Call:
    unit = BASE if there else NOWHERE
    return Call("GET", f"/console/accounts?unit={unit}", names=(unit,))


def _console_change_account(w: World, there: bool) -> Call:
    account = w.account if there else w.missing
    return Call("POST", f"/console/accounts/{account}/disable", form={}, names=(account,))


def _console_check(suffix: str = "") -> Aim:
    def aim(w: World, there: bool) -> Call:
        check_id = w.spot_check if there else w.missing
        return Call("GET", f"/console/spot-checks/{check_id}{suffix}", names=(check_id,))

    return aim


def _console_start_check(w: World, there: bool) -> Call:
    unit = DISTRICT if there else NOWHERE_DISTRICT
    form = {"unit": unit, "sample": "2", "seed": "3", "as_of": "2026-11-21"}
    return Call("POST", "/console/spot-checks", form=form, names=(unit,))


def _console_file(suffix: str = "", method: str = "GET", **form: str) -> Aim:
    def aim(w: World, there: bool) -> Call:
        file_id = w.files["approved"] if there else w.missing
        return Call(method, f"/console/files/{file_id}{suffix}", form=form, names=(file_id,))

    return aim


def _console_unit(path: str) -> Aim:
    def aim(w: World, there: bool) -> Call:
        unit = BASE if there else NOWHERE
        return Call("GET", f"{path}?unit={unit}", names=(unit,))

    return aim


def _console_new_file(w: World, there: bool) -> Call:
    unit = BASE if there else NOWHERE
    form = {
        "establishing_unit": unit,
        "worker_kind": "urban",
        "head.name": "李四",
        "head.id_number": "130306197805060111",
        "applied_on": "2026-01-05",
        "authorisation_signed": "on",
        "file_id": "00000000-0000-4000-8000-00000000000a",
    }
    return Call("POST", "/console/files", form=form, names=(unit,))


def _console_attach(w: World, there: bool) -> Call:
    file_id = w.files["approved"] if there else w.missing
    return Call(
        "POST",
        f"/console/files/{file_id}/attachments",
        form={"kind": "id_copy"},
        upload=("scan.png", scan(1)),
        names=(file_id,),
    )


def _console_open_scan(w: World, there: bool) -> Call:
    file_id = w.files["approved"] if there else w.missing
    attachment_id = w.attachment if there else str(uuid.UUID(int=17))
    return Call(
        "POST",
        f"/console/files/{file_id}/attachments/{attachment_id}",
        form={"purpose": "核对身份证复印件", "as": "download"},
        names=(file_id, attachment_id),
    )


def _console_unit_form(w: World, there: bool) -> Call:
    unit = BASE if there else NOWHERE
    form = {"unit": unit, "form": "ledger", "period": "2026", "purpose": "核对台账"}
    return Call("POST", "/console/forms/unit", form=form, names=(unit,))


def _console_verify(w: World, there: bool) -> Call:
    code = w.printed if there else "0000-0000-0000"  # a well-formed code no print has
    return Call("POST", "/console/forms/verification", form={"code": code}, names=(code,))


# The console's pages aimed at the target (its file, its unit) by a signed-in account outside
# its subtree: the same page as for the like that does not exist, and nothing written.
CONSOLE_AIMED: dict[str, Aim] = {
    "/console/files/{file_id}": _console_file(),
    "/console/files/{file_id}/{slug}": _console_file(
        "/visits", "POST", visited_on="2026-04-10", cadre="周五", content="走访", version="4"
    ),
    "/console/ledger": _console_unit("/console/ledger"),
    "/console/ledger.xlsx": _console_unit("/console/ledger.xlsx"),
    "/console/stats": _console_unit("/console/stats"),
    "/console/files": _console_new_file,
    "/console/spot-checks": _console_start_check,
    "/console/spot-checks/{check_id}": _console_check(),
    "/console/spot-checks/{check_id}/xlsx": _console_check("/xlsx"),
    "/console/accounts": _console_accounts,
    "/console/accounts/{account_id}/{change}": _console_change_account,
    "/console/paper/{kind}": _console_upload,
    "/console/files/{file_id}/attachments": _console_attach,
    "/console/files/{file_id}/attachments/{attachment_id}": _console_open_scan,
    "/console/files/{file_id}/unmasked": _console_file("/unmasked", "POST", purpose="核对"),
    "/console/files/{file_id}/print": _console_file("/print", "POST", form="card", purpose="核对"),
    "/console/forms/unit": _console_unit_form,
    "/console/forms/verification": _console_verify,
    "/console/jobs/{job_id}": lambda w, there: Call(
        "GET", f"/console/jobs/{w.job if there else w.missing}", names=(w.job, w.missing)
    ),
}
# The console's lists of the caller's own subtree: nothing of the target on them.
CONSOLE_LISTED = (
    "/console/",
    "/console/ledger",
    "/console/stats",
    "/console/duplicates",
    *(
        f"/console/work/{kind}"
        for kind in (
            "approvals",
            "visits",
            "rechecks",
            "follow_up",
            "civil_affairs",
            "unchanged",
            "never_assisted",
        )
    ),
)

# Operations that hold no household data of any unit, and why.
UNSCOPED: dict[tuple[str, str], str] = {
    ("GET", f"{API}/policies/{{region}}"): "regional parameters are published policy (the "
    "poverty line of a government notice): every reader of every unit may read them",
    ("GET", f"{API}/node"): "this node's own code, subtree, epoch and peers",
    ("GET", f"{API}/sync/status"): "per downstream node: cursor and errors, no events",
    ("GET", "/health/live"): "the process is up",
    ("GET", "/health/ready"): "the database answers; projection lag as counts",
    ("GET", "/metrics"): "projection lag and sync counters as numbers",
}

# Operations that answer many things at once, each "not found" inside a 200 answer: asked for
# the target's thing and for a missing one, an outside caller gets the same answer.
BATCHED: dict[tuple[str, str], str] = {
    ("POST", f"{API}/sync/attachments/chunks"): "a chunk of a file outside the caller's "
    "subtree is `found: false`, as a missing one (`test_the_chunk_batch_answers_...`)",
}


# ------------------------------------------------------------------------------ the world


@pytest.fixture
async def world(api: Api, pool: asyncpg.Pool) -> World:
    await seed_demo_policies(PgPolicies(PostgresEventStore(pool), EventCodec()))
    created = await api.client.post(
        f"{API}/units",
        json={"code": PREFIX_SIBLING, "name": "抚宁区某某公司工会"},
        headers=api.auth(DISTRICT, "admin", **JSON),
    )
    assert created.status_code == 201, created.text
    await register_non_geographic_unions(api, pool)
    files = {status: await file_in(api, status, BASE) for status in STEPS_TO}
    own = {caller: await file_in(api, "approved", unit) for caller, unit in OWN_FILE_UNIT.items()}
    account = await api.client.post(
        f"{API}/users",
        json={"user": "clerk-target", "unit": BASE, "role": "clerk"},
        headers=api.auth(DISTRICT, "admin", **JSON),
    )
    assert account.status_code == 201, account.text
    attached = await api.client.post(
        f"{API}/files/{files['approved']}/attachments",
        params={"kind": "id_copy", "name": "身份证.png"},
        content=scan(5),
        headers=api.auth(BASE, "clerk", **{"Content-Type": "image/png"}),
    )
    assert attached.status_code == 201, attached.text
    await projected(api)
    district_inspector = api.auth(DISTRICT, "inspector", **JSON)
    checked = await api.client.post(
        f"{API}/spot-checks",
        json={"unit": DISTRICT, "sample": 2, "seed": 3, "as_of": "2026-11-21"},
        headers=district_inspector,
    )
    assert checked.status_code == 201, checked.text
    reconciled = await api.client.post(
        f"{API}/reconciliations",
        files={"file": ("ledger.csv", PAPER_LEDGER, "text/csv")},
        data={"unit": DISTRICT},
        headers=api.auth(DISTRICT, "inspector"),
    )
    assert reconciled.status_code == 201, reconciled.text
    job = await api.client.post(
        f"{API}/spot-check-jobs",
        json={"unit": DISTRICT, "sample": 2, "seed": 4, "as_of": "2026-11-21"},
        headers=district_inspector,
    )
    assert job.status_code == 202, job.text
    for _ in range(300):  # the job writes its spot-check: done before anything is counted
        polled = await api.client.get(f"{API}/jobs/{job.json()['id']}", headers=district_inspector)
        if polled.json()["state"] != "running":
            break
        await asyncio.sleep(0.05)
    assert polled.json()["state"] == "done", polled.text
    printed = await api.client.get(
        f"{API}/files/{files['approved']}/forms/card",
        headers=api.auth(DISTRICT, "approver", **{"X-Bangfu-Purpose": "isolation"}),
    )
    assert printed.status_code == 200, printed.text
    return World(
        files,
        checked.json()["id"],
        reconciled.json()["id"],
        own,
        account.json()["account"]["id"],
        job=job.json()["id"],
        printed=printed.headers["X-Bangfu-Verification-Code"],
        attachment=attached.json()["id"],
    )


async def register_non_geographic_unions(api: Api, pool: asyncpg.Pool) -> None:
    """13C01 below the province and, on this node made national, 00C01 below the nation, each
    approving, with a base-level union each; the nation's parameters for 00C01001's files."""
    await PgUnitDirectory(pool).load({NATION: "中华全国总工会"})
    await PgPolicies(PostgresEventStore(pool), EventCodec()).set_parameters(
        actor=Actor("admin", NATION, Role.ADMIN),
        region="000000",
        parameters=Parameters(date(2015, 1, 1), Decimal("550")),
        reason="全国参数",
    )
    for parent, union, name in (
        (PROVINCE, INDUSTRY, "河北省教育工会"),
        (NATION, NATIONAL, "中国教育工会"),
    ):
        for body in (
            {"code": union, "name": name, "approves": True},
            {"code": f"{union}001", "name": "某学校工会"},
        ):
            response = await api.client.post(
                f"{API}/units", json=body, headers=api.auth(parent, "admin", **JSON)
            )
            assert response.status_code == 201, response.text


async def send(api: Api, call: Call, headers: dict[str, str]) -> httpx.Response:
    if call.raw is not None:
        media_type, content = call.raw
        return await api.client.request(
            call.method, call.url, content=content, headers={**headers, "Content-Type": media_type}
        )
    if call.upload is not None:
        name, content = call.upload
        return await api.client.request(
            call.method,
            call.url,
            files={"file": (name, content, "text/csv")},
            data=call.form,
            headers=headers,
        )
    if call.json is not None:
        headers = {**headers, **JSON}
    return await api.client.request(call.method, call.url, json=call.json, headers=headers)


def answer(response: httpx.Response, names: tuple[str, ...]) -> tuple[int, str, Any]:
    """Status, media type and body, without what names the request (its path, its id, the
    identifiers it aimed at)."""
    text = response.text
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "<aimed at>")
    try:
        body = json.loads(text)
    except ValueError:
        body = text
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in {"instance", "request_id"}}
    return response.status_code, response.headers.get("content-type", ""), body


async def count_events(pool: asyncpg.Pool) -> int:
    """Events of files and of accounts: an outside caller's request writes neither."""
    return int(
        await pool.fetchval(
            "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM account_events)"
        )
    )


# ------------------------------------------------------------------------------ the matrix


async def test_every_operation_of_the_api_has_a_row(api: Api):
    document = (await api.client.get("/schema/openapi.json")).json()
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    listed = {operation for operation, _ in LISTED.values()}

    covered = set(AIMED) | listed | set(UNSCOPED) | set(BATCHED)

    assert sorted(operations - covered) == []  # a new route needs a row here
    assert sorted(covered - operations) == []  # a row for a route that is gone
    assert not set(UNSCOPED) & (set(AIMED) | listed)


async def test_every_operation_aimed_outside_the_callers_subtree_answers_as_for_nothing(
    api: Api, world: World, pool: asyncpg.Pool
):
    wrong: dict[tuple[str, str], Any] = {}
    checked = 0
    for caller, (unit, role) in CALLERS.items():
        headers = api.auth(unit, role)
        for (method, path), aim in AIMED.items():
            before = await count_events(pool)
            target, missing = aim(world, True), aim(world, False)
            aimed = await send(api, target, headers)
            like = await send(api, missing, headers)
            written = await count_events(pool) - before
            got, expected = answer(aimed, target.names), answer(like, missing.names)
            status, media, body = got
            problem = isinstance(body, dict) and (status == 404 or bool(body.get("rule")))
            if got != expected or status not in {403, 404} or media != PROBLEM or not problem:
                wrong[caller, f"{method} {path}"] = {"target": got, "missing": expected}
            if written:
                wrong[caller, f"{method} {path} wrote"] = written
            checked += 1

    assert wrong == {}, "\n".join(f"{k}: {v}" for k, v in wrong.items())
    assert checked == len(CALLERS) * len(AIMED)


async def _chunk_batch(api: Api, attachment: str, headers: dict[str, str]) -> Any:
    wanted = feed.ChunksWanted(chunks=[feed.ChunkRef(uuid.UUID(attachment), 0)])
    response = await api.client.post(
        f"{API}/sync/attachments/chunks",
        content=feed.encode(wanted, feed.MSGPACK),
        headers={**headers, "Content-Type": feed.MSGPACK},
    )
    if response.status_code != 200:
        return answer(response, (attachment,))
    answers = feed.ANSWERED.decode(response.content).answers
    return [(a.found, a.seq, a.sealed, a.chunks) for a in answers]


async def test_the_chunk_batch_answers_a_chunk_outside_the_callers_subtree_as_a_missing_one(
    api: Api, world: World
):
    wrong: dict[str, Any] = {}
    for caller, (unit, role) in CALLERS.items():
        headers = api.auth(unit, role)
        aimed = await _chunk_batch(api, world.attachment, headers)
        like = await _chunk_batch(api, world.missing, headers)
        status, media, body = aimed if isinstance(aimed, tuple) else (200, "", None)
        refused = status == 403 and media == PROBLEM and bool(body.get("rule"))
        if aimed != like or not (refused or aimed == [(False, 0, b"", 0)]):
            wrong[caller] = {"target": aimed, "missing": like}
    own = await _chunk_batch(api, world.attachment, api.auth(DISTRICT, "sync"))

    assert wrong == {}, "\n".join(f"{k}: {v}" for k, v in wrong.items())
    assert [(found, seq) for found, seq, _, _ in own] == [(True, 0)]  # the district's own sync
    assert len(own[0][2]) > 0


def test_every_route_outside_the_document_is_the_consoles(tmp_path: Path):
    app = create_app(Settings(database_url="postgresql://unused", data_dir=tmp_path, log_json=True))
    documented = set(app.openapi_schema.paths or {})
    undocumented = {
        path
        for path in (re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path) for route in app.routes)
        if path not in documented and not path.startswith("/schema")
    }

    assert sorted(undocumented ^ set(CONSOLE)) == []


def test_every_aimed_console_route_has_a_row():
    aimed = {path for path, reason in CONSOLE.items() if reason.startswith("aimed")}

    assert sorted(aimed ^ set(CONSOLE_AIMED)) == []


HUMAN_CALLERS = {k: v for k, v in CALLERS.items() if v[1] != "sync"}


async def _signed_in(api: Api, pool: asyncpg.Pool, tmp_path: Path, unit: str, role: str) -> None:
    """The API's client signed in to the console as a new account of `unit` with `role`."""
    user = f"console-{role}-{unit}"
    service = AccountService.from_settings(
        Settings(database_url="postgresql://unused", data_dir=tmp_path, log_json=True),
        PgAccounts(pool),
        PgUnitDirectory(pool),
    )
    await service.create(
        None, user=user, unit=unit, role=Role(role), password=CONSOLE_PASSWORD, must_change=False
    )
    page = await api.client.get("/console/sign-in")
    signed = await api.client.post(
        "/console/sign-in",
        data={"csrf": _csrf(page.text), "user": user, "password": CONSOLE_PASSWORD},
    )
    assert signed.status_code == 303, signed.text


def _page_answer(response: httpx.Response, names: tuple[str, ...], caller_unit: str) -> Any:
    """Status, media type and page, the caller's own unit (in its user name, on every page)
    set apart before what the request aimed at is blanked (a caller's code may extend the
    target's)."""
    text = response.text.replace(caller_unit, "<caller's unit>")
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "<aimed at>")
    return response.status_code, response.headers.get("content-type", ""), text


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found[1]


async def test_every_console_page_aimed_outside_the_callers_subtree_answers_as_for_nothing(
    api: Api, world: World, pool: asyncpg.Pool, tmp_path: Path
):
    wrong: dict[tuple[str, str], Any] = {}
    for caller, (unit, role) in HUMAN_CALLERS.items():
        api.client.cookies.clear()
        await _signed_in(api, pool, tmp_path, unit, role)
        home = await api.client.get("/console/")
        csrf = _csrf(home.text)
        for path, aim in CONSOLE_AIMED.items():
            before = await count_events(pool)
            answers = []
            for there in (True, False):
                call = aim(world, there)
                form = {**(call.form or {}), "csrf": csrf} if call.method == "POST" else None
                files = None
                if call.upload is not None:
                    files = {"file": (call.upload[0], call.upload[1], "text/csv")}
                response = await api.client.request(call.method, call.url, data=form, files=files)
                answers.append(_page_answer(response, call.names, unit))
            written = await count_events(pool) - before
            status = answers[0][0]
            if answers[0] != answers[1] or status not in {403, 404, 422} or written:
                wrong[caller, path] = {"target": answers[0][:2], "missing": answers[1][:2]}
            if any(secret in str(answers[0][2]) for secret in world.secrets):
                wrong[caller, f"{path} names the target"] = True
        for path in CONSOLE_LISTED:
            page = await api.client.get(path)
            if page.status_code != 200 or any(secret in page.text for secret in world.secrets):
                wrong[caller, path] = page.status_code

    api.client.cookies.clear()
    assert wrong == {}, "\n".join(f"{k}: {v}" for k, v in wrong.items())


async def test_a_bearer_token_opens_no_console_page(api: Api, world: World):
    for unit, role in CALLERS.values():
        page = await api.client.get("/console/", headers=api.auth(unit, role))

        assert (page.status_code, page.headers["location"]) == (303, "/console/sign-in")


def _within(unit: str, caller_unit: str) -> bool:
    return UnitCode(unit).is_within(UnitCode(caller_unit))


def _status_total(figures: dict[str, Any]) -> int:
    groups = [g for g in figures["stock"] if g["dimension"] == "status"]
    return sum(f["count"] for g in groups for f in g["figures"])


def holdings(name: str, response: httpx.Response, caller_unit: str) -> Any:
    """What a list shows: the files (or units, or counts) it holds, in comparable form."""
    if name == "ledger export":
        return len(workbook_rows(response.content)) - 1  # rows below the header
    body = response.json()
    if name == "statistics":
        return _status_total(body["figures"])
    if name in {"units", "accounts"}:
        key = "code" if name == "units" else "unit"
        return sorted(u[key] for u in body if not _within(u[key], caller_unit))
    if name == "sync feed":
        return sorted({e["stream_id"] for e in body["events"]})
    if name == "sync feed count":
        return body["behind"]
    if name == "duplicates":
        return [f["file_id"] for d in body["items"] for f in d["files"]]
    return [i["file_id"] for i in body["items"]]


async def test_lists_hold_the_callers_own_files_and_nothing_of_a_unit_outside(
    api: Api, world: World
):
    wrong: dict[tuple[str, str], Any] = {}
    read: set[str] = set()
    for caller, (unit, role) in CALLERS.items():
        headers = api.auth(unit, role)
        mine = world.own[next(u for u in OWN_FILE_UNIT if _within(OWN_FILE_UNIT[u], unit))]
        expected_lists = {
            "ledger": [mine],
            "ledger export": 1,
            "statistics": 1,
            "approval queue": [],
            "visits due": [mine],
            "duplicates": [],
            "units": [],  # no unit outside the caller's subtree
            "sync feed": [mine],  # the events of the caller's own file only
            "sync feed count": 1 + len(STEPS_TO["approved"]),  # and how many they are
            "accounts": [],  # no account outside the caller's subtree
        }
        for name, ((method, path), query) in LISTED.items():
            response = await api.client.request(
                method, f"{path}?{query}" if query else path, headers=headers
            )
            leaked = sorted(s for s in world.secrets if s in response.text)
            if response.status_code == 403 and response.json().get("rule"):
                continue  # this role may not read the list at all
            read.add(name)
            got = holdings(name, response, unit) if response.status_code == 200 else response.text
            if response.status_code != 200 or got != expected_lists[name] or leaked:
                wrong[caller, name] = {
                    "status": response.status_code,
                    "holds": got,
                    "leaked": leaked,
                }

    assert wrong == {}, "\n".join(f"{k}: {v}" for k, v in wrong.items())
    assert read == set(LISTED)  # each list was read by some caller


async def test_the_nation_lists_every_file_and_a_province_none_of_a_national_union(
    api: Api, world: World, pool: asyncpg.Pool
):
    every = {str(r["file_id"]) for r in await pool.fetch("SELECT file_id FROM ledger")}
    national = world.own[NATIONAL]
    listed: dict[str, set[str]] = {}
    counted: dict[str, int] = {}

    for unit in (NATION, PROVINCE):
        headers = api.auth(unit, "inspector")
        ledger = await api.client.get(f"{API}/ledger", params={"limit": 500}, headers=headers)
        stats = await api.client.get(f"{API}/stats", headers=headers)
        listed[unit] = {i["file_id"] for i in ledger.json()["items"]}
        counted[unit] = _status_total(stats.json()["figures"])

    assert listed == {NATION: every, PROVINCE: every - {national}}
    assert counted == {NATION: len(every), PROVINCE: len(every) - 1}
    assert {world.files["approved"], world.own[INDUSTRY], national} <= listed[NATION]


async def test_operations_without_household_data_show_nothing_of_the_target(api: Api, world: World):
    leaks: dict[tuple[str, str], list[str]] = {}
    for caller, (unit, role) in CALLERS.items():
        for method, path in UNSCOPED:
            url = path.replace("{region}", DISTRICT)
            response = await api.client.request(method, url, headers=api.auth(unit, role))
            leaked = sorted(s for s in world.secrets if s in response.text)
            if leaked or response.status_code >= 500:
                leaks[caller, f"{method} {path}"] = [str(response.status_code), *leaked]

    assert leaks == {}
