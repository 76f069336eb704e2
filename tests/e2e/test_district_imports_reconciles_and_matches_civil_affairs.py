"""A district brings its spreadsheets in over HTTP: imports its files, reconciles a paper ledger
and matches a civil-affairs list."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import asyncpg

from adapters.pg.codec import EventCodec
from adapters.pg.policies import PgPolicies
from adapters.pg.store import PostgresEventStore
from domain.idnumber import make_id_number
from domain.policy import Parameters
from domain.values import Actor, Role
from tests.conftest import Api

HEADERS = (
    "户主姓名,身份证号码,申请时间,入户调查时间,调查人,家庭年收入,刚性支出,致困原因,"
    "评议时间,公示开始,公示结束,审批时间"
)


async def _seed_policy(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        await PgPolicies(PostgresEventStore(pool), EventCodec()).set_parameters(
            actor=Actor("admin", "13", Role.ADMIN),
            region="130300",
            parameters=Parameters(date(2015, 1, 1), Decimal("550")),
            reason="test",
        )
    finally:
        await pool.close()


async def test_district_imports_reconciles_and_matches(api: Api, database_url: str) -> None:
    await _seed_policy(database_url)
    one = make_id_number("130306", date(1975, 4, 4), 11).value
    two = make_id_number("130306", date(1976, 5, 5), 13).value
    sheet = "\n".join(
        [
            "抚宁区困难职工档案",
            HEADERS,
            f"张一,{one},2023-03-02,2023-03-09,赵一、钱二,9600,1200,因病,2023-03-12,2023-03-13,2023-03-20,2023-03-25",
            f"张二,{two},2023-03-02,2023-03-09,赵一,9600,1200,因病,2023-03-12,2023-03-13,2023-03-20,2023-03-25",
        ]
    ).encode("gb18030")
    approver = api.auth("130306", "approver")

    imported = await api.client.post(
        "/api/v1/imports",
        files={"file": ("files.csv", sheet, "text/csv")},
        data={"unit": "130306001"},
        headers=approver,
    )
    again = await api.client.post(
        "/api/v1/imports",
        files={"file": ("files.csv", sheet, "text/csv")},
        data={"unit": "130306001"},
        headers=approver,
    )
    ledger = f"户主姓名,身份证号码,状态\n张一,{one},已脱困\n".encode("gb18030")
    reconciled = await api.client.post(
        "/api/v1/reconciliations",
        files={"file": ("ledger.csv", ledger, "text/csv")},
        data={"unit": "130306"},
        headers=api.auth("130306", "inspector"),
    )

    assert imported.status_code == 201, imported.text
    body = imported.json()
    assert (body["created"], [(e["row"], e["column"]) for e in body["refused"]]) == (
        1,
        [(4, "调查人")],
    )
    assert (again.json()["created"], again.json()["skipped"]) == (0, 1)
    assert reconciled.status_code == 201, reconciled.text
    found = [(f["kind"], f["paper"], f["electronic"]) for f in reconciled.json()["findings"]]
    assert found == [("status_mismatch", "已脱困", "在档")]
    workbook = await api.client.get(
        reconciled.headers["location"] + ".xlsx", headers=api.auth("130306", "inspector")
    )
    assert workbook.status_code == 200
    assert workbook.content[:2] == b"PK"
