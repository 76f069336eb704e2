"""A stateful property test of the API: random sequences of lifecycle commands, by random callers
of random roles and units (in and out of the file's subtree), over loopback HTTP, against a model.

The model is the lifecycle of DOMAIN.md: the statuses each command starts from are the domain's
own table (`domain.household.ALLOWED_FROM`); who may act, the scope, and the status a command
leads to are written out here, independently. After every step:

- the answer is 2xx or the 4xx the model predicts (404 outside the subtree, 403 for a role or level
  that may not, 409 for a status the command does not start from) — never a 5xx;
- a refused command wrote nothing (the events table holds exactly what it held);
- the file's status, version, ETag and unit read over HTTP are the model's;
- its trail replays to that state: versions 1..n without a gap, the statuses its events lead to
  end in the current one, and the file read at version n − 1 is the state the trail had then.

Every body is valid on its own, with business dates that only move forward, so that the server
refuses a command only for the reasons the model knows. Sizes: `BANGFU_STATEFUL_EXAMPLES` runs of
`BANGFU_STATEFUL_STEPS` steps (40 × 40 in the normal suite; `make fuzz` runs 150 × 60).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from domain.household import ALLOWED_FROM
from domain.values import Status
from tests.conftest import Api
from tests.e2e.http_helpers import (
    API,
    BASE,
    BODIES,
    CITY,
    DISTRICT,
    OTHER_BASE,
    OTHER_DISTRICT,
    PREFIX_SIBLING,
    PROVINCE,
    application,
    verification,
)

EXAMPLES = int(os.environ.get("BANGFU_STATEFUL_EXAMPLES", "40"))
STEPS = int(os.environ.get("BANGFU_STATEFUL_STEPS", "40"))
RANDOM = os.environ.get("BANGFU_FUZZ_RANDOM") == "1"
MAX_FILES = 3  # per run: enough to mix files in different states and units


@dataclass(frozen=True)
class Caller:
    role: str
    unit: str

    @property
    def name(self) -> str:
        return f"{self.role}-{self.unit}"


CALLERS = [
    Caller("clerk", BASE),
    Caller("clerk", OTHER_BASE),
    Caller("clerk", PREFIX_SIBLING),  # its code starts with BASE's: never in BASE's scope
    Caller("approver", DISTRICT),
    Caller("approver", OTHER_DISTRICT),
    Caller("approver", CITY),
    Caller("inspector", CITY),
    Caller("admin", PROVINCE),
    Caller("sync", DISTRICT),
]
# How each exit is sent: kind, reason, and whether it records months above the line.
EXITS = {
    "out_of_hardship": ("income_above_line", None),  # the months are the recorded means
    "relieved": ("safety_net", None),
    "cancelled": ("moved", None),  # a file cancelled for death has no return
    "deleted": ("erroneous_record", None),
}
# 脱困 rests on a revision recording income above the line six months before (docs/rules.md):
# an exit from hardship is dated at least this many days after that revision (six months at most
# span 184 days)
SIX_MONTHS = timedelta(days=186)
# The key of ALLOWED_FROM each command is checked against.
ALLOWED_KEY = {
    "verification": "verify",
    "appraisal": "appraise",
    "approval": "approve",
    "send-back": "send_back",
    "rejection": "reject",
    "assistance": "assist",
    "plan": "agree_plan",
    "visits": "visit",
    "revisions": "revise",
    "rechecks": "recheck",
    "exit": "exit",
    "return": "return_",
    "transfer": "transfer",
}
# The status a command leads to (None: it stays as it was); an exit leads to its kind.
LEADS_TO = {
    "verification": "verified",
    "appraisal": "appraised",
    "approval": "approved",
    "send-back": "sent_back",
    "rejection": "rejected",
    "return": "returned",
}
# The same, by stored event type, for replaying a trail.
EVENT_LEADS_TO = {
    "household.applied": "applied",
    "household.verified": "verified",
    "household.appraised": "appraised",
    "household.approved": "approved",
    "household.sent_back": "sent_back",
    "household.rejected": "rejected",
    "household.returned": "returned",
}


def within(unit: str, caller: Caller) -> bool:
    """A file of `unit` is in `caller`'s subtree: its own base-level union, or a region above."""
    if len(caller.unit) > 6:  # a base-level union sees only its own files
        return unit == caller.unit
    return unit.startswith(caller.unit)


@dataclass
class File:
    """The model of one file: what the API must answer about it."""

    id: str
    unit: str
    status: str = "applied"
    version: int = 1
    day: date = field(default_factory=lambda: date(2020, 1, 1))
    raised_on: date | None = None  # a revision since the last approval recorded income above

    def next_day(self, days: int = 1) -> str:
        self.day += timedelta(days=days)
        return self.day.isoformat()


def expected(file: File, command: str, caller: Caller, exit_kind: str) -> int:
    """The status the API must answer `caller`'s `command` on `file` with."""
    if not within(file.unit, caller):
        return 404
    if caller.role not in {"clerk", "approver"}:
        return 403  # inspectors, admins and machine accounts run no lifecycle command
    review = (
        command in {"approval", "send-back"}
        or (command == "rejection" and file.status == "appraised")
        or (command == "exit" and exit_kind == "deleted")
    )
    if review and (caller.role != "approver" or len(caller.unit) > 6):
        return 403  # a district union or above, by its approver
    key = "delete" if command == "exit" and exit_kind == "deleted" else ALLOWED_KEY[command]
    if Status(file.status) not in ALLOWED_FROM[key]:
        return 409
    if command == "exit" and exit_kind == "relieved" and file.status == "relieved":
        return 409
    if command == "exit" and exit_kind == "out_of_hardship" and file.raised_on is None:
        return 422  # no recorded means above the line (the exit is dated six months after)
    return 200


def doer(file: File, command: str, exit_kind: str) -> Caller:
    """Who may run `command` on `file`: its clerk, or for review its district's approver."""
    review = (
        command in {"approval", "send-back"}
        or (command == "rejection" and file.status == "appraised")
        or (command == "exit" and exit_kind == "deleted")
    )
    return Caller("approver", DISTRICT) if review else Caller("clerk", file.unit)


def body(file: File, command: str, exit_kind: str) -> dict[str, Any]:
    """A valid body for `command` on `file`, dated after everything the file has recorded."""
    day = file.next_day()
    if command == "verification":
        return verification(verified_on=day)
    if command == "appraisal":
        return {
            "appraised_on": day,
            "minutes_on_file": True,
            "publicity_start": day,
            "publicity_end": file.next_day(7),
        }
    if command == "plan":
        return {**BODIES["plan"], "agreed_on": day, "deadline": file.next_day(365)}
    if command == "exit":
        reason, months = EXITS[exit_kind]
        if exit_kind == "out_of_hardship" and file.raised_on is not None:
            file.day = max(file.day, file.raised_on + SIX_MONTHS)
            day = file.day.isoformat()
        sent = {
            "exited_on": day,
            "kind": exit_kind,
            "reason": reason,
            "explanation": "核查属实",
            "evidence": ["核查记录"],
        }
        return sent if months is None else {**sent, "months_above_line": months}
    if command == "transfer":
        target = OTHER_BASE if file.unit == BASE else BASE
        return {"transferred_on": day, "to_unit": target, "reason": "职工调动"}
    dated = {
        "approval": "approved_on",
        "send-back": "sent_back_on",
        "rejection": "rejected_on",
        "assistance": "assisted_on",
        "visits": "visited_on",
        "revisions": "effective_on",
        "rechecks": "rechecked_on",
        "return": "returned_on",
    }[command]
    return {**BODIES[command], dated: day}


class Lifecycle(RuleBasedStateMachine):
    """Set `http`, `token` and `count_events` on a subclass before running (see the test)."""

    http: httpx.Client
    token: Callable[[Caller], dict[str, str]]
    count_events: Callable[[], int]
    tally: Counter[str]  # answers and statuses seen, over all runs

    files = Bundle("files")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, File] = {}
        self.events = self.count_events()

    # ------------------------------------------------------------------ the steps

    @precondition(lambda self: len(self.model) < MAX_FILES)
    @rule(target=files, caller=st.sampled_from(CALLERS), unit=st.sampled_from([BASE, OTHER_BASE]))
    def apply(self, caller: Caller, unit: str) -> Any:
        answer = self.http.post(
            f"{API}/files",
            json=application(unit, applied_on="2020-01-01"),
            headers=self.token(caller),
        )

        if not within(unit, caller):
            want = 404
        elif caller.role not in {"clerk", "approver"}:
            want = 403
        else:
            want = 201
        assert answer.status_code == want, (caller, unit, answer.text)
        if want != 201:
            self.check_nothing_written()
            return multiple()
        file = File(answer.json()["id"], unit)
        self.model[file.id] = file
        self.events += 1
        self.check(file)
        return file.id

    @rule(
        file_id=files,
        command=st.sampled_from(list(ALLOWED_KEY)),
        caller=st.sampled_from(CALLERS),
        exit_kind=st.sampled_from(list(EXITS)),
    )
    def act(self, file_id: str, command: str, caller: Caller, exit_kind: str) -> None:
        """Any command by anyone: mostly refused, and the refusal must be the model's."""
        self.send(self.model[file_id], command, caller, exit_kind)

    @rule(file_id=files, data=st.data())
    def advance(self, file_id: str, data: st.DataObject) -> None:
        """A command the file's status allows, by the caller who may: the lifecycle moves on —
        mostly to another status, one time in ten possibly to its end (rejection, deletion)."""
        file = self.model[file_id]
        ending = data.draw(st.integers(0, 9), label="may end") == 0
        allowed = [
            (command, kind)
            for command in ALLOWED_KEY
            for kind in (EXITS if command == "exit" else ["out_of_hardship"])
            if expected(file, command, doer(file, command, kind), kind) == 200
            and (ending or not (command == "rejection" or kind == "deleted"))
        ]
        moving = [(c, k) for c, k in allowed if c in LEADS_TO or c == "exit"]
        if moving and data.draw(st.integers(0, 9), label="moves on") < 7:
            allowed = moving
        if allowed:
            command, kind = data.draw(st.sampled_from(allowed), label="command")
            self.send(file, command, doer(file, command, kind), kind)

    def send(self, file: File, command: str, caller: Caller, exit_kind: str) -> None:
        want = expected(file, command, caller, exit_kind)
        sent = body(file, command, exit_kind)

        answer = self.http.post(
            f"{API}/files/{file.id}/{command}", json=sent, headers=self.token(caller)
        )

        assert answer.status_code == want, (command, caller, file, answer.text)
        self.tally[f"answered {want}"] += 1
        if want != 200:
            assert answer.headers["content-type"].startswith("application/problem+json")
            self.check_nothing_written()
            self.check(file)
            return
        file.version += 1
        if command == "approval":
            file.raised_on = None
        elif command == "revisions" and file.raised_on is None:
            file.raised_on = date.fromisoformat(sent["effective_on"])
        if command == "exit":
            file.status = exit_kind
        elif command == "transfer":
            file.unit = sent["to_unit"]
        else:
            file.status = LEADS_TO.get(command, file.status)
        self.tally[f"reached {file.status}"] += 1
        self.events += 1
        self.check(file)

    @rule(file_id=files, caller=st.sampled_from(CALLERS))
    def read(self, file_id: str, caller: Caller) -> None:
        file = self.model[file_id]

        answer = self.http.get(f"{API}/files/{file_id}", headers=self.token(caller))

        want = 404 if not within(file.unit, caller) else 403 if caller.role == "sync" else 200
        assert answer.status_code == want, (caller, file, answer.text)
        if want == 200:
            assert (answer.json()["status"], answer.json()["version"]) == (
                file.status,
                file.version,
            )

    # ------------------------------------------------------------------ the checks

    def check_nothing_written(self) -> None:
        assert self.count_events() == self.events

    def check(self, file: File) -> None:
        """The file as read over HTTP is the model's, and its trail replays to it."""
        assert self.count_events() == self.events
        reader = self.token(Caller("approver", DISTRICT))  # both base unions are in its subtree
        current = self.http.get(f"{API}/files/{file.id}", headers=reader)
        assert current.status_code == 200, current.text
        state = current.json()
        assert (state["status"], state["version"], state["establishing_unit"]) == (
            file.status,
            file.version,
            file.unit,
        )
        assert current.headers["etag"] == f'"{file.version}"'

        trail = self.http.get(f"{API}/files/{file.id}/events", headers=reader).json()
        own = [e for e in trail["events"] if e["stream_id"] == file.id]
        assert [e["version"] for e in own] == list(range(1, file.version + 1))
        statuses, unit = [], None
        for event in own:
            if event["type"] == "household.exited":
                statuses.append(event["fields"]["kind"])
            else:
                statuses.append(
                    EVENT_LEADS_TO.get(event["type"], statuses[-1] if statuses else None)
                )
            if event["type"] == "household.applied":
                unit = event["fields"]["establishing_unit"]
            if event["type"] == "household.transferred":
                unit = event["fields"]["to_unit"]
        assert (statuses[-1], unit) == (file.status, file.unit), statuses
        if file.version > 1:
            before = self.http.get(
                f"{API}/files/{file.id}?version={file.version - 1}", headers=reader
            ).json()
            assert (before["version"], before["status"]) == (file.version - 1, statuses[-2])

    def teardown(self) -> None:
        for file in self.model.values():
            self.check(file)


async def test_random_lifecycles_by_random_callers_match_the_model(
    api: Api, database_url: str, capsys: pytest.CaptureFixture[str]
):
    loop = asyncio.get_running_loop()
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    tokens: dict[Caller, dict[str, str]] = {}
    tally: Counter[str] = Counter()

    def on_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=60)

    def token(caller: Caller) -> dict[str, str]:
        if caller not in tokens:
            tokens[caller] = api.auth(caller.unit, caller.role, caller.name)
        return tokens[caller]

    def run() -> None:
        with httpx.Client(base_url=str(api.client.base_url), timeout=30) as http:

            class Machine(Lifecycle):
                pass

            Machine.http = http
            Machine.tally = tally
            Machine.token = staticmethod(token)  # type: ignore[assignment]
            Machine.count_events = staticmethod(  # type: ignore[assignment]
                lambda: on_loop(pool.fetchval("SELECT count(*) FROM events"))
            )
            run_state_machine_as_test(
                Machine,
                settings=settings(
                    max_examples=EXAMPLES,
                    stateful_step_count=STEPS,
                    deadline=None,
                    database=None,
                    derandomize=not RANDOM,
                    suppress_health_check=list(HealthCheck),
                ),
            )

    try:
        await asyncio.to_thread(run)
    finally:
        await pool.close()
    with capsys.disabled():  # the figures `make fuzz` reports, shown whatever the capture
        print(f"\nstateful: {EXAMPLES} runs of up to {STEPS} steps; {dict(sorted(tally.items()))}")
    reached = {key.split()[1] for key in tally if key.startswith("reached")}
    assert {"verified", "appraised", "approved", "sent_back"} <= reached, reached
