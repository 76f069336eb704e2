"""Who may do what to a file (DOMAIN.md, "Who may cause what").

Two questions, in this order: may this role perform this act at all; and does the file lie in the
acting unit's subtree (if not, the file does not exist for the actor). Then the level rule:
approval, send-back, rejection at review and deletion need a district (county) union or above.
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import NotPermitted, OutOfScope
from domain.units import UnitCode
from domain.values import Actor, Role, label


class Act(StrEnum):
    APPLY = "apply"
    VERIFY = "verify"
    APPRAISE = "appraise"
    APPROVE = "approve"
    SEND_BACK = "send_back"
    REJECT = "reject"
    REJECT_AT_REVIEW = "reject_at_review"
    ASSIST = "assist"
    PLAN = "plan"
    VISIT = "visit"
    REVISE = "revise"
    RECHECK = "recheck"
    EXIT = "exit"
    DELETE = "delete"
    RETURN = "return"
    TRANSFER = "transfer"
    READ = "read"
    UNMASK = "unmask"
    ERASE = "erase"  # erase a household's personal data on request (crypto-shredding)
    ATTACH = "attach"  # attach a scan of a proof material (附件)


# The acts as a clerk calls them (DOMAIN.md glossary): how a refusal names the act.
ACT_LABELS_ZH: dict[Act, str] = {
    Act.APPLY: "申请",
    Act.VERIFY: "入户调查",
    Act.APPRAISE: "民主评议和公示",
    Act.APPROVE: "审核认定",
    Act.SEND_BACK: "退回",
    Act.REJECT: "不予建档",
    Act.REJECT_AT_REVIEW: "审核不予建档",
    Act.ASSIST: "帮扶",
    Act.PLAN: "制定帮扶计划",
    Act.VISIT: "走访",
    Act.REVISE: "动态调整",
    Act.RECHECK: "复核",
    Act.EXIT: "退出",
    Act.DELETE: "删除",
    Act.RETURN: "返困",
    Act.TRANSFER: "移交",
    Act.READ: "查阅",
    Act.UNMASK: "查看完整个人信息",
    Act.ERASE: "销毁个人信息",
    Act.ATTACH: "上传附件",
}


BASE_ACTS = frozenset(
    {
        Act.APPLY,
        Act.VERIFY,
        Act.APPRAISE,
        Act.REJECT,
        Act.ASSIST,
        Act.PLAN,
        Act.VISIT,
        Act.REVISE,
        Act.RECHECK,
        Act.EXIT,
        Act.RETURN,
        Act.TRANSFER,
        Act.READ,
        Act.ATTACH,
    }
)
DISTRICT_ACTS = frozenset({Act.APPROVE, Act.SEND_BACK, Act.REJECT_AT_REVIEW, Act.DELETE})
# Acts only a district (county) union or above performs: its decisions, and the erasure of a
# household's personal data on request (an admin's act).
DISTRICT_OR_ABOVE = DISTRICT_ACTS | {Act.ERASE}

ROLE_ACTS: dict[Role, frozenset[Act]] = {
    Role.CLERK: BASE_ACTS,
    Role.APPROVER: BASE_ACTS | DISTRICT_ACTS | {Act.UNMASK},
    Role.INSPECTOR: frozenset({Act.READ, Act.UNMASK}),
    Role.ADMIN: frozenset({Act.READ, Act.ERASE}),
    Role.SYNC: frozenset(),
}


def authorise(actor: Actor, act: Act, file_unit: UnitCode) -> None:
    """Raise `NotPermitted` or `OutOfScope` unless `actor` may `act` on a file of `file_unit`."""
    acting_unit = UnitCode(actor.unit)
    if not file_unit.is_within(acting_unit):
        raise OutOfScope(f"file is not within unit {acting_unit}", zh="档案不在本单位管辖范围内")
    if act not in ROLE_ACTS[actor.role]:
        raise NotPermitted(
            "role",
            f"role '{actor.role}' may not {act.value.replace('_', ' ')}",
            zh=f"「{label(actor.role)}」无权办理「{ACT_LABELS_ZH.get(act, '此操作')}」",
        )
    if act in DISTRICT_OR_ABOVE and not acting_unit.level.is_district_or_above():
        raise NotPermitted(
            "district_or_above",
            f"only a district (county) union or above may {act.value.replace('_', ' ')};"
            f" {acting_unit} is a {acting_unit.level} union",
            zh="审批、退回、审核不予建档、删除和销毁个人信息须由区县级及以上工会办理",
        )
