"""Routes for spot-checks (抽查) and the regional parameters they judge by.

    POST /api/v1/spot-checks              an inspector (city, province; a district for its own
                                          subtree) samples and checks files → 201 with the report
    GET  /api/v1/spot-checks/{id}         the report (JSON)
    GET  /api/v1/spot-checks/{id}.xlsx    the report as a workbook (the same handler: litestar
                                          path parameters are whole segments)
    GET  /api/v1/policies/{region}        a region's parameters over time, and those in force
    POST /api/v1/policies/{region}        set a region's parameters from a date (admins)

`routes(problems)` builds the handlers with the API's problem responses, as
`adapters.http.readmodels` does, so this module never imports `adapters.http.app` (which imports
it). Like `app.py`, it does not use `from __future__ import annotations`: litestar resolves the
handlers' parameter types when the routes are built.
"""

import asyncio
import io
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from uuid import UUID

import msgspec
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, PathParameter

from adapters.http.schemas import ActorOut
from adapters.pg.jobs import Job, PgJobs
from adapters.pg.policies import PgPolicies
from adapters.pg.rows import StoredEvent
from adapters.runtime.bootstrap import Runtime
from adapters.services import jobs
from adapters.services.spotcheck import Request, load_spot_check, run_spot_check
from adapters.sheets import spotcheck_report as report
from domain.authorization import Act, authorise
from domain.errors import NotFound
from domain.policy import Parameters, PolicyBook, region_code
from domain.spotcheck import MAX_SAMPLE, Rate, SpotCheck, Strata
from domain.values import Actor, CategoryScheme, Level, Status

API = "/api/v1"


# ------------------------------------------------------------------------------ bodies


class StrataIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """分层: which files form the frame, and the strata the sample is spread over."""

    statuses: Annotated[
        list[Status],
        msgspec.Meta(
            description="only files in these statuses, one stratum each (all when empty)",
            examples=[["approved", "out_of_hardship"]],
        ),
    ] = []
    units: Annotated[
        list[Annotated[str, msgspec.Meta(pattern=r"^\d{2}[0-9CQX]{0,28}$")]],
        msgspec.Meta(
            description="only files of these units' subtrees, one stratum each (the whole scope"
            " when empty)",
            examples=[["130302", "130306"]],
        ),
    ] = []
    level: Annotated[
        Level | None,
        msgspec.Meta(
            description="one stratum per unit at this level (e.g. each district)",
            examples=["district"],
        ),
    ] = None


class SpotCheckIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """抽查: the subtree to check, how many files, how they are drawn."""

    unit: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^\d{2}[0-9CQX]{0,28}$",
            description="the scope: a unit within the caller's subtree",
            examples=["1303"],
        ),
    ]
    sample: Annotated[
        int | None,
        msgspec.Meta(description="files to draw (or give `fraction`)", examples=[200]),
    ] = None
    fraction: Annotated[
        Decimal | None,
        msgspec.Meta(description="share of the frame to draw, above 0 and at most 1"),
    ] = None
    strata: StrataIn = msgspec.field(default_factory=StrataIn)
    seed: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=2**63 - 1,
            description="the random seed: the same seed over the same log position draws the"
            " same files",
            examples=[7],
        ),
    ] = 0
    as_of: Annotated[
        date | None,
        msgspec.Meta(description="the day the rules judge overdue visits and re-checks on"),
    ] = None


class ParametersIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """地区参数: every parameter, in force from `effective_on`."""

    effective_on: Annotated[date, msgspec.Meta(examples=["2026-01-01"])]
    poverty_line: Annotated[
        Decimal,
        msgspec.Meta(description="低保标准, yuan per person per month", examples=["760.00"]),
    ]
    publicity_days: int = 5
    visit_period_days: int = 90
    exit_months_above_line: int = 6
    accidental_loss_ratio: Decimal = Decimal("0.8")
    scheme: CategoryScheme = CategoryScheme.V2019
    reason: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=500,
            description="the notice or decision",
            examples=["市民政局关于调整城市低保标准的通知"],
        ),
    ]


EXAMPLES: dict[type[msgspec.Struct], dict[str, Any]] = {
    SpotCheckIn: {
        "unit": "1303",
        "sample": 200,
        "strata": {"statuses": ["approved", "out_of_hardship"], "level": "district"},
        "seed": 7,
        "as_of": "2026-11-21",
    },
    ParametersIn: {
        "effective_on": "2026-01-01",
        "poverty_line": "760.00",
        "publicity_days": 5,
        "visit_period_days": 90,
        "exit_months_above_line": 6,
        "accidental_loss_ratio": "0.8",
        "scheme": "v2019",
        "reason": "市民政局关于调整城市低保标准的通知",
    },
}


class _JsonBody:
    """`JsonBody[T]`: a JSON body of type T with its example (as `app.Documented` does for the
    bodies of `adapters.http.schemas`)."""

    def __class_getitem__(cls, body: Any) -> Any:
        return Annotated[
            body,
            Body(
                media_type=RequestEncodingType.JSON,
                examples=[Example(summary="example", value=EXAMPLES[body])],
            ),
        ]


_Body = TypeVar("_Body")

if TYPE_CHECKING:
    # to mypy a body is the struct itself; the example is for the API document only
    JsonBody = Annotated[_Body, "json body"]
else:
    JsonBody = _JsonBody


# ------------------------------------------------------------------------------ responses


class RateOut(msgspec.Struct, kw_only=True):
    numerator: int
    denominator: int
    rate: Decimal | None
    percent: str


class RatesOut(msgspec.Struct, kw_only=True):
    wrong_recognition: RateOut  # 错评率
    wrong_exit: RateOut  # 错退率
    pairing_coverage: RateOut  # 结对帮扶覆盖率


class StrataOut(msgspec.Struct, kw_only=True):
    statuses: list[str]
    units: list[str]
    level: str | None
    text: str


class SpotCheckParametersOut(msgspec.Struct, kw_only=True):
    scope: str
    scope_name: str | None
    sample: int | None
    fraction: Decimal | None
    strata: StrataOut
    seed: str  # as text: a seed may exceed what JavaScript numbers hold exactly
    log_position: str
    frame_size: int
    frame_digest: str
    sampled: int
    as_of: date


class SummaryOut(msgspec.Struct, kw_only=True):
    files_checked: int
    files_with_findings: int
    findings: int


class RuleCountOut(msgspec.Struct, kw_only=True):
    rule: str
    title: str
    title_en: str
    severity: str
    findings: int
    files: int


class UnitCountOut(msgspec.Struct, kw_only=True):
    unit: str
    name: str | None
    files: int
    files_with_findings: int
    findings: int


class FindingOut(msgspec.Struct, kw_only=True):
    file_id: UUID
    unit: str
    unit_name: str | None
    rule: str
    title: str
    severity: str
    zh: str
    en: str
    versions: list[int]


class CheckedFileOut(msgspec.Struct, kw_only=True):
    file_id: UUID
    unit: str
    version: int
    chain_intact: bool
    broken_at: int | None
    drift: list[str]
    findings: int


class SpotCheckOut(msgspec.Struct, kw_only=True):
    id: UUID
    unit: str
    unit_name: str | None
    checked_by: ActorOut
    started_at: datetime
    completed: bool
    parameters: SpotCheckParametersOut
    summary: SummaryOut | None
    rates: RatesOut | None
    by_rule: list[RuleCountOut]
    by_unit: list[UnitCountOut]
    findings: list[FindingOut]
    files: list[CheckedFileOut]
    xlsx: str


class JobOut(msgspec.Struct, kw_only=True):
    """A background job: `state` running, done or failed; `done` of `total` files checked; the
    spot-check's report once done (`spot_check`), or why it failed (`error`)."""

    id: UUID
    kind: str
    state: str
    done: int
    total: int
    spot_check: str | None
    error: str | None
    started_at: datetime
    updated_at: datetime


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        state=job.state,
        done=job.done,
        total=job.total,
        spot_check=f"{API}/spot-checks/{job.result}" if job.result else None,
        error=job.error,
        started_at=job.started_at,
        updated_at=job.updated_at,
    )


def check_request_of(body: SpotCheckIn, today: date) -> Request:
    """The service's request from the API's body."""
    return Request(
        scope=body.unit,
        as_of=body.as_of or today,
        seed=body.seed,
        sample=body.sample,
        fraction=body.fraction,
        strata=Strata(tuple(body.strata.statuses), tuple(body.strata.units), body.strata.level),
    )


class ParametersOut(msgspec.Struct, kw_only=True):
    effective_on: date
    poverty_line: Decimal
    publicity_days: int
    visit_period_days: int
    exit_months_above_line: int
    accidental_loss_ratio: Decimal
    scheme: str


class ParametersSetOut(ParametersOut, kw_only=True):
    version: int
    reason: str
    set_by: ActorOut
    recorded_at: datetime


class InForceOut(msgspec.Struct, kw_only=True):
    region: str  # the region whose parameters apply (this one, its city's or its province's)
    on: date
    parameters: ParametersOut


class PolicyOut(msgspec.Struct, kw_only=True):
    region: str
    version: int
    history: list[ParametersSetOut]
    in_force: InForceOut | None


def _rate(rate: Rate) -> RateOut:
    return RateOut(
        numerator=rate.numerator,
        denominator=rate.denominator,
        rate=rate.value,
        percent=rate.percent(),
    )


def spot_check_out(check: SpotCheck, names: dict[str, str]) -> SpotCheckOut:
    summary = check.summary
    strata = check.strata
    return SpotCheckOut(
        id=check.id,
        unit=check.unit.value,
        unit_name=names.get(check.unit.value),
        checked_by=ActorOut(check.actor.user, check.actor.unit, check.actor.role.value),
        started_at=check.created_on,
        completed=summary is not None,
        parameters=SpotCheckParametersOut(
            scope=check.scope,
            scope_name=names.get(check.scope),
            sample=check.requested_size,
            fraction=check.fraction,
            strata=StrataOut(
                statuses=[str(s) for s in strata.statuses],
                units=list(strata.units),
                level=str(strata.level) if strata.level is not None else None,
                text=report.strata_text(check),
            ),
            seed=str(check.seed),
            log_position=check.log_position,
            frame_size=check.frame_size,
            frame_digest=check.frame_digest,
            sampled=len(check.sample),
            as_of=check.as_of,
        ),
        summary=None
        if summary is None
        else SummaryOut(
            files_checked=summary.files_checked,
            files_with_findings=summary.files_with_findings,
            findings=summary.findings,
        ),
        rates=None
        if summary is None
        else RatesOut(
            wrong_recognition=_rate(summary.wrong_recognition),
            wrong_exit=_rate(summary.wrong_exit),
            pairing_coverage=_rate(summary.pairing_coverage),
        ),
        by_rule=[]
        if summary is None
        else [
            RuleCountOut(
                rule=r.rule,
                title=r.title,
                title_en=r.title_en,
                severity=r.severity,
                findings=r.findings,
                files=r.files,
            )
            for r in report.by_rule(summary)
        ],
        by_unit=[]
        if summary is None
        else [
            UnitCountOut(
                unit=u.unit,
                name=u.name,
                files=u.files,
                files_with_findings=u.files_with_findings,
                findings=u.findings,
            )
            for u in report.by_unit(summary, names)
        ],
        findings=[
            FindingOut(
                file_id=row.file_id,
                unit=row.unit,
                unit_name=row.unit_name,
                rule=row.finding.rule,
                title=row.title,
                severity=row.finding.severity,
                zh=row.finding.zh,
                en=row.finding.en,
                versions=list(row.finding.versions),
            )
            for row in report.findings(check, names)
        ],
        files=[
            CheckedFileOut(
                file_id=r.file_id,
                unit=r.unit,
                version=r.version,
                chain_intact=r.chain_intact,
                broken_at=r.broken_at,
                drift=list(r.drift),
                findings=len(r.findings),
            )
            for r in sorted(check.results, key=lambda r: r.file_id)
        ],
        xlsx=f"{API}/spot-checks/{check.id}.xlsx",
    )


def _parameters_out(p: Parameters) -> ParametersOut:
    return ParametersOut(
        effective_on=p.effective_on,
        poverty_line=p.poverty_line,
        publicity_days=p.publicity_days,
        visit_period_days=p.visit_period_days,
        exit_months_above_line=p.exit_months_above_line,
        accidental_loss_ratio=p.accidental_loss_ratio,
        scheme=p.scheme.value,
    )


def policy_out(
    rt: Runtime, region: str, events: list[StoredEvent], book: PolicyBook, today: date
) -> PolicyOut:
    history = []
    for stored in events:
        if stored.type != "policy.parameters_set":
            continue
        fields = rt.codec.decode_fields(stored.type, stored.payload)
        history.append(
            ParametersSetOut(
                **msgspec.structs.asdict(_parameters_out(fields.parameters)),
                version=stored.version,
                reason=fields.reason,
                set_by=ActorOut(fields.actor.user, fields.actor.unit, fields.actor.role.value),
                recorded_at=stored.recorded_at,
            )
        )
    source = book.source(region, today)
    in_force = (
        InForceOut(region=source[0], on=today, parameters=_parameters_out(source[1]))
        if source is not None
        else None
    )
    return PolicyOut(
        region=region,
        version=events[-1].version if events else 0,
        history=history,
        in_force=in_force,
    )


async def _report(rt: Runtime, actor: Actor, check_id: UUID) -> tuple[SpotCheck, dict[str, str]]:
    check = await load_spot_check(rt.store, rt.codec, check_id)
    check.readable_by(actor)
    return check, await report.unit_names(rt.pool, report.units_of(check))


# ------------------------------------------------------------------------------ routes

SPOT_CHECK_PROBLEMS = frozenset({400, 401, 403, 404, 409, 413, 415, 422, 429})


def routes(problems: dict[int, ResponseSpec]) -> list[Any]:
    """The spot-check and policy route handlers, documenting those of the API's `problems`
    they can answer with."""
    responses = {s: spec for s, spec in problems.items() if s in SPOT_CHECK_PROBLEMS}
    reads = {s: spec for s, spec in responses.items() if s in {400, 401, 403, 404, 422, 429}}

    @post(
        f"{API}/spot-checks",
        status_code=201,
        responses=responses,
        tags=["spot-checks"],
        summary="抽查 — sample files of a subtree and check each by replay",
        description="An inspector of a city or province (or an inspector or approver of a "
        "district, for its own subtree) draws `sample` files (or `fraction` of them) from the "
        "ledger rows of `unit`'s subtree that `strata` admit, spread over the strata in "
        "proportion, ranked by the `seed`. Each sampled file is replayed from its own events: its "
        f"hash chain verified, every rule evaluated, its ledger row compared. At most "
        f"{MAX_SAMPLE} files. The frame, seed, log position and every result are recorded as "
        "events of the checking unit's spot-check stream; each file's result shows in that "
        "file's trail. Returns the report.",
    )
    async def start_spot_check(
        data: JsonBody[SpotCheckIn],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> Response[SpotCheckOut]:
        body: SpotCheckIn = data
        check = await run_spot_check(
            store=rt.store,
            codec=rt.codec,
            actor=actor,
            request=check_request_of(body, rt.clock.today()),
        )
        names = await report.unit_names(rt.pool, report.units_of(check))
        return Response(
            spot_check_out(check, names),
            status_code=201,
            headers={"Location": f"{API}/spot-checks/{check.id}"},
        )

    @post(
        f"{API}/spot-check-jobs",
        status_code=202,
        responses=responses,
        tags=["spot-checks"],
        summary="抽查（后台）— start a spot-check as a background job, with progress",
        description="The same request as `POST /spot-checks`, checked the same way before "
        "anything runs (403, 404, 422 as there); the check then runs after the answer. Returns "
        "the job (202, `Location: /jobs/{id}`): poll `GET /jobs/{id}` for `done` of `total` "
        "files checked, and the report's address (`spot_check`) once `state` is `done`.",
    )
    async def start_spot_check_job(
        data: JsonBody[SpotCheckIn],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> Response[JobOut]:
        body: SpotCheckIn = data
        job = await jobs.start_spot_check(
            jobs=PgJobs(rt.pool),
            store=rt.store,
            codec=rt.codec,
            actor=actor,
            request=check_request_of(body, rt.clock.today()),
        )
        return Response(job_out(job), status_code=202, headers={"Location": f"{API}/jobs/{job.id}"})

    @get(
        f"{API}/jobs/{{job_id:uuid}}",
        responses=reads,
        tags=["spot-checks"],
        summary="后台任务 — a background job's progress (the caller's own jobs only)",
    )
    async def read_job(
        job_id: FromPath[UUID], actor: NamedDependency[Actor], rt: NamedDependency[Runtime]
    ) -> JobOut:
        return job_out(await jobs.read(PgJobs(rt.pool), actor, job_id))

    @get(
        f"{API}/spot-checks/{{name:str}}",
        responses=reads,
        tags=["spot-checks"],
        summary="抽查报告 — a spot-check's report, as JSON or (`{id}.xlsx`) as a workbook",
        description="`GET /spot-checks/{id}`: its parameters (scope, sample, strata, seed, log "
        "position, frame digest), the files checked, the findings by rule and by unit, the "
        "evaluators' rates (错评率, 错退率, 结对帮扶覆盖率) and every finding. "
        "`GET /spot-checks/{id}.xlsx`: the same as an xlsx workbook "
        f"(`{report.MEDIA_TYPE}`) with a summary sheet (抽查汇总) and a findings sheet (问题清单: "
        "file, unit, rule, severity, text, event versions). Readable by the checking unit and "
        "the units above it.",
    )
    async def read_spot_check(
        name: Annotated[
            str, PathParameter(description="the spot-check's id, with `.xlsx` for the workbook")
        ],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> Response[SpotCheckOut]:
        workbook = name.endswith(".xlsx")
        check, names = await _report(rt, actor, _check_id(name.removesuffix(".xlsx")))
        if not workbook:
            return Response(spot_check_out(check, names))
        buffer = io.BytesIO()
        await asyncio.to_thread(report.write_xlsx, check, buffer, names=names)
        return Response(
            buffer.getvalue(),  # type: ignore[arg-type]  # the workbook's bytes as they are; the route's annotation names the JSON report, the one the API document describes
            media_type=report.MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="spot-check-{check.id}.xlsx"'},
        )

    @get(
        f"{API}/policies/{{region:str}}",
        responses=reads,
        tags=["policies"],
        summary="地区参数 — a region's parameters over time",
        description="Every parameter set of the region's own stream (poverty line, publicity "
        "days, visit period, months above the line for an exit, the accidental-hardship loss "
        "ratio, the category scheme), with its reason, who set it and when; and the parameters "
        "in force today — the region's own, else its city's, else its province's.",
    )
    async def read_policy(
        region: FromPath[str], actor: NamedDependency[Actor], rt: NamedDependency[Runtime]
    ) -> PolicyOut:
        authorise(actor, Act.READ_POLICY)
        code = region_code(region)
        policies = PgPolicies(rt.store, rt.codec)
        events = await policies.events(code)
        out = policy_out(rt, code, events, await policies.book(), rt.clock.today())
        if not events and out.in_force is None:
            raise NotFound(f"no parameters for region {code}", zh=f"地区{code}尚未设置参数")
        return out

    @post(
        f"{API}/policies/{{region:str}}",
        status_code=201,
        responses=responses,
        tags=["policies"],
        summary="设置地区参数 — set a region's parameters from a date (admin)",
        description="An admin whose unit holds the region sets every parameter from "
        "`effective_on` on; decisions before that date keep being judged by the values then in "
        "force. One set per effective date.",
    )
    async def set_policy(
        region: FromPath[str],
        data: JsonBody[ParametersIn],
        actor: NamedDependency[Actor],
        rt: NamedDependency[Runtime],
    ) -> Response[PolicyOut]:
        body: ParametersIn = data
        code = region_code(region)
        policies = PgPolicies(rt.store, rt.codec)
        await policies.set_parameters(
            actor=actor,
            region=code,
            parameters=Parameters(
                effective_on=body.effective_on,
                poverty_line=body.poverty_line,
                publicity_days=body.publicity_days,
                visit_period_days=body.visit_period_days,
                exit_months_above_line=body.exit_months_above_line,
                accidental_loss_ratio=body.accidental_loss_ratio,
                scheme=body.scheme,
            ),
            reason=body.reason,
        )
        events = await policies.events(code)
        out = policy_out(rt, code, events, await policies.book(), rt.clock.today())
        return Response(out, status_code=201, headers={"Location": f"{API}/policies/{code}"})

    return [
        start_spot_check,
        start_spot_check_job,
        read_job,
        read_spot_check,
        read_policy,
        set_policy,
    ]


def _check_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise NotFound(f"no spot-check {text[:40]}", zh="抽查记录不存在") from None
