"""Who may do what (DOMAIN.md, "Who may cause what"): one table, `AUTHORISATION`, for every act.

Every act a caller can ask for is an `Act` — each lifecycle command, reading and unmasking a
file, erasing its personal data, spot-checking, reconciling a paper ledger, matching a
civil-affairs list, reading and setting regional parameters, reading and managing the union tree,
minting tokens, reading the sync feed and its status. Its `Rule` states:

- `roles`: the roles that may perform it;
- `levels`: the levels of the acting unit that may (a decision needs a district union or above,
  or a non-geographic union registered as approving: the level is the registry's, `Units`);
- `scope`: whether the target unit must lie in the acting unit's subtree (`SUBTREE`: if not, the
  target does not exist for the actor — 404 at the edge) or the act is not about a unit (`NONE`);
- `first`: which question comes first. For files and the records of a checking unit the scope
  does (`SCOPE_FIRST`): a 404 never tells a role that may not act whether the target exists
  elsewhere. For an admin's acts on the tree, its parameters and its tokens the role does
  (`ROLE_FIRST`): anyone else is told "only an admin", whatever the target;
- the words of each refusal, in English and Chinese.

Every caller — the aggregates, the services, the HTTP and CLI edges — asks `authorise(actor,
act, target, units=...)` (`units`: the registry the composition root loaded; without it, a
level is what the code implies); `may(role, level, act)` answers the role and level questions
alone (for tests and documents). docs/authorisation.md shows the table in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import NotPermitted, OutOfScope
from domain.units import GEOGRAPHIC, UnitCode, Units
from domain.values import Actor, Level, Role, UnitKind, label


class Act(StrEnum):
    # lifecycle commands on a file
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
    # reading a file (and the ledger, statistics and lists built from files)
    READ = "read"
    UNMASK = "unmask"
    ERASE = "erase"  # erase a household's personal data on request (crypto-shredding)
    CHECK_FINDING = "check_finding"  # record the check of a civil-affairs finding
    FOLLOW_UP = "follow_up"  # 回头看: a follow-up visit to an exited household
    CONFIRM_CATEGORY = "confirm_category"  # confirm the category a re-check found
    KEEP = "keep"  # keep a file due to exit, with the reason
    PRINT = "print"  # print a form: a disclosure on paper (domain/printing.py)
    ATTACH = "attach"  # attach a scan of a proof material (附件)
    # a union's own records (domain/unit_records.py)
    RECORD_MEETING = "record_meeting"  # 民主评议会议记录
    RECORD_ASSESSMENT = "record_assessment"  # 解困脱困考核表
    CANCEL_DUPLICATE = "cancel_duplicate"  # 注销 a file as 重复建档, naming the file kept
    # the acts of a checking unit, recorded in its own streams
    SPOT_CHECK = "spot_check"
    READ_SPOT_CHECK = "read_spot_check"
    RECONCILE = "reconcile"
    READ_RECONCILIATION = "read_reconciliation"
    MATCH_CIVIL_AFFAIRS = "match_civil_affairs"
    # regional parameters, the union tree, tokens, the sync feed
    SET_POLICY = "set_policy"
    READ_POLICY = "read_policy"
    READ_UNITS = "read_units"
    MANAGE_UNITS = "manage_units"
    MINT_TOKEN = "mint_token"  # noqa: S105 — the act's name, not a secret
    MANAGE_ACCOUNTS = "manage_accounts"  # accounts of the subtree (domain/accounts.py)
    READ_SYNC_FEED = "read_sync_feed"
    READ_SYNC_STATUS = "read_sync_status"


class Scope(StrEnum):
    SUBTREE = "subtree"  # the target unit lies in the acting unit's subtree
    NONE = "none"  # not about a unit of the tree


class Order(StrEnum):
    SCOPE_FIRST = "scope_first"
    ROLE_FIRST = "role_first"


@dataclass(frozen=True, slots=True)
class Words:
    """A refusal in English and Chinese, with `{role}` (`{role_zh}`: its Chinese label), `{act}`
    (`{act_zh}`), `{acting}`, `{level}` and `{target}` filled in."""

    en: str
    zh: str


# The words of a refusal unless a rule says otherwise.
ROLE_REFUSED = Words("role '{role}' may not {act}", "「{role_zh}」无权办理「{act_zh}」")
UNIT_OUT_OF_SCOPE = Words("unit {target} is not within {acting}", "单位不在本单位管辖范围内")
# seed 003: "县级或县级以上工会（省有关产业工会）对困难职工档案进行审批" — an industry or system
# union registered as approving (`Units`, docs/decisions/0014) decides as a region does
LEVEL_REFUSED = Words(
    "only a district (county) union or above, or an industry or system union registered as"
    " approving, may {act}; {acting} is a {level} union",
    "审批、退回、审核不予建档、删除和销毁个人信息须由区县级及以上工会"
    "或登记为审批单位的产业、系统工会办理",
)
FILE_OUT_OF_SCOPE = Words("file is not within unit {acting}", "档案不在本单位管辖范围内")


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may perform one act, where, and what a refusal says."""

    zh: str  # the act's name, as a clerk knows it
    roles: frozenset[Role]
    levels: frozenset[Level]
    scope: Scope
    first: Order
    role_refused: Words = ROLE_REFUSED
    out_of_scope: Words = UNIT_OUT_OF_SCOPE  # for `Scope.SUBTREE`
    level_refused: Words = LEVEL_REFUSED  # when `levels` is not every level


EVERY_ROLE = frozenset(Role)
EVERY_LEVEL = frozenset(Level)
DISTRICT_OR_ABOVE = frozenset({Level.NATION, Level.PROVINCE, Level.CITY, Level.DISTRICT})


def _file_act(zh: str, roles: frozenset[Role], levels: frozenset[Level] = EVERY_LEVEL) -> Rule:
    """An act on one file: scope first (outside the subtree the file does not exist)."""
    return Rule(zh, roles, levels, Scope.SUBTREE, Order.SCOPE_FIRST, out_of_scope=FILE_OUT_OF_SCOPE)


_BASE_WORK = frozenset({Role.CLERK, Role.APPROVER})
_READERS = frozenset({Role.CLERK, Role.APPROVER, Role.INSPECTOR, Role.ADMIN})
_APPROVER = frozenset({Role.APPROVER})
_ADMIN = frozenset({Role.ADMIN})

AUTHORISATION: dict[Act, Rule] = {
    Act.APPLY: _file_act("申请建档", _BASE_WORK),
    Act.VERIFY: _file_act("入户核实", _BASE_WORK),
    Act.APPRAISE: _file_act("民主评议", _BASE_WORK),
    Act.APPROVE: _file_act("审核认定", _APPROVER, DISTRICT_OR_ABOVE),
    Act.SEND_BACK: _file_act("退回", _APPROVER, DISTRICT_OR_ABOVE),
    Act.REJECT: _file_act("不予建档", _BASE_WORK),
    Act.REJECT_AT_REVIEW: _file_act("审核不予建档", _APPROVER, DISTRICT_OR_ABOVE),
    Act.ASSIST: _file_act("帮扶", _BASE_WORK),
    Act.PLAN: _file_act("帮扶计划", _BASE_WORK),
    Act.VISIT: _file_act("走访", _BASE_WORK),
    Act.REVISE: _file_act("动态调整", _BASE_WORK),
    Act.RECHECK: _file_act("年度复核", _BASE_WORK),
    Act.EXIT: _file_act("脱困/解困/注销", _BASE_WORK),
    Act.DELETE: _file_act("删除", _APPROVER, DISTRICT_OR_ABOVE),
    Act.RETURN: _file_act("返困", _BASE_WORK),
    Act.TRANSFER: _file_act("移交", _BASE_WORK),
    Act.READ: _file_act("查看档案、台账、统计", _READERS),
    Act.UNMASK: _file_act("查看未脱敏个人信息", frozenset({Role.APPROVER, Role.INSPECTOR})),
    Act.ERASE: _file_act("销毁个人信息", _ADMIN, DISTRICT_OR_ABOVE),
    Act.CHECK_FINDING: _file_act("民政比对核实", _BASE_WORK),
    Act.FOLLOW_UP: _file_act("回头看", _BASE_WORK),
    Act.CONFIRM_CATEGORY: _file_act("确认困难类别变化", _APPROVER, DISTRICT_OR_ABOVE),
    Act.KEEP: _file_act("保留应退出档案", _APPROVER, DISTRICT_OR_ABOVE),
    Act.CANCEL_DUPLICATE: _file_act("注销重复档案", _APPROVER, DISTRICT_OR_ABOVE),
    # a clerk (of a base-level union) prints its own union's files, approvers and inspectors
    # their subtree's; each print is recorded like an unmasked read
    Act.PRINT: _file_act("打印档案表单", frozenset({Role.CLERK, Role.APPROVER, Role.INSPECTOR})),
    Act.ATTACH: _file_act("上传附件", _BASE_WORK),
    # a base union records its own 民主评议 meetings (the aggregate refuses any other level), a
    # unit its 考核表; scope first, as for files
    Act.RECORD_MEETING: Rule(
        "记录民主评议会议", _BASE_WORK, EVERY_LEVEL, Scope.SUBTREE, Order.SCOPE_FIRST
    ),
    Act.RECORD_ASSESSMENT: Rule(
        "记录解困脱困考核表", _BASE_WORK, EVERY_LEVEL, Scope.SUBTREE, Order.SCOPE_FIRST
    ),
    Act.SPOT_CHECK: Rule(
        "抽查",
        frozenset({Role.INSPECTOR, Role.APPROVER}),
        DISTRICT_OR_ABOVE,
        Scope.SUBTREE,
        Order.SCOPE_FIRST,
        Words("role '{role}' may not spot-check files", "「{role_zh}」无权抽查档案"),
        Words("unit {target} is not within {acting}", "抽查范围不在本单位管辖范围内"),
        Words(
            "only a district (county) union or above spot-checks; {acting} is a {level} union",
            "抽查须由区县级及以上工会组织",
        ),
    ),
    # a spot-check is read by its checking unit and the units above it (the target: that unit)
    Act.READ_SPOT_CHECK: Rule(
        "查看抽查报告",
        _READERS,
        EVERY_LEVEL,
        Scope.SUBTREE,
        Order.SCOPE_FIRST,
        Words("a sync account may not read spot-checks", "无权查看"),
        Words("spot-check of {target}", "抽查记录不在本单位管辖范围内"),
    ),
    Act.RECONCILE: Rule(
        "台账核对",
        frozenset({Role.CLERK, Role.APPROVER, Role.INSPECTOR}),
        EVERY_LEVEL,
        Scope.SUBTREE,
        Order.SCOPE_FIRST,
        Words("role '{role}' may not reconcile", "无权核对台账"),
        Words("unit {target} is not within {acting}", "核对范围不在本单位管辖范围内"),
    ),
    # a reconciliation is read by its unit and the units above it, in any role
    Act.READ_RECONCILIATION: Rule(
        "查看核对报告",
        EVERY_ROLE,
        EVERY_LEVEL,
        Scope.SUBTREE,
        Order.SCOPE_FIRST,
        out_of_scope=Words("reconciliation", "核对记录不在本单位管辖范围内"),
    ),
    Act.MATCH_CIVIL_AFFAIRS: Rule(
        "民政比对",
        frozenset({Role.CLERK, Role.APPROVER, Role.INSPECTOR}),
        EVERY_LEVEL,
        Scope.SUBTREE,
        Order.SCOPE_FIRST,
        Words("role '{role}' may not match", "无权进行民政比对"),
        Words("unit {target} is not within {acting}", "比对范围不在本单位管辖范围内"),
    ),
    # the target: the unit that holds the region (a province, city or district)
    Act.SET_POLICY: Rule(
        "设置地区参数",
        _ADMIN,
        EVERY_LEVEL,
        Scope.SUBTREE,
        Order.ROLE_FIRST,
        Words("only an admin sets regional parameters", "只有管理员可以设置地区参数"),
        Words("region {target} is not within {acting}", "地区不在本单位管辖范围内"),
    ),
    # every region's parameters are read by any role that reads files
    Act.READ_POLICY: Rule(
        "查看地区参数",
        _READERS,
        EVERY_LEVEL,
        Scope.NONE,
        Order.ROLE_FIRST,
        Words("role '{role}' may not read", "「{role_zh}」无权查看"),
    ),
    Act.READ_UNITS: Rule(
        "查看工会组织",
        EVERY_ROLE,
        EVERY_LEVEL,
        Scope.SUBTREE,
        Order.SCOPE_FIRST,
    ),
    Act.MANAGE_UNITS: Rule(
        "维护工会组织",
        _ADMIN,
        EVERY_LEVEL,
        Scope.SUBTREE,
        Order.ROLE_FIRST,
        Words("only an admin may change the union tree", "只有管理员可以维护工会组织"),
    ),
    Act.MINT_TOKEN: Rule(
        "签发令牌",
        _ADMIN,
        EVERY_LEVEL,
        Scope.SUBTREE,
        Order.ROLE_FIRST,
        Words("only an admin may mint tokens", "只有管理员可以签发令牌"),
    ),
    Act.MANAGE_ACCOUNTS: Rule(
        "管理账户",
        _ADMIN,
        EVERY_LEVEL,
        Scope.SUBTREE,
        Order.ROLE_FIRST,
        Words("only an admin may manage accounts", "只有管理员可以管理账户"),
    ),
    # the feed is clipped to the node's subtree instead (`sync_feed_scope`)
    Act.READ_SYNC_FEED: Rule(
        "读取同步数据流",
        frozenset({Role.SYNC}),
        EVERY_LEVEL,
        Scope.NONE,
        Order.ROLE_FIRST,
        Words("only a sync account reads the feed", "仅同步账号可读取数据流"),
    ),
    Act.READ_SYNC_STATUS: Rule(
        "查看同步状态",
        frozenset({Role.ADMIN, Role.INSPECTOR, Role.SYNC}),
        EVERY_LEVEL,
        Scope.NONE,
        Order.ROLE_FIRST,
        Words("sync status is for admins and inspectors", "无权查看同步状态"),
    ),
}

# The acts as a clerk calls them (DOMAIN.md glossary): how a refusal names the act.
ACT_LABELS_ZH: dict[Act, str] = {act: rule.zh for act, rule in AUTHORISATION.items()}

# The lifecycle commands, and those of them only a district (county) union or above decides.
LIFECYCLE = frozenset(
    {
        Act.APPLY,
        Act.VERIFY,
        Act.APPRAISE,
        Act.APPROVE,
        Act.SEND_BACK,
        Act.REJECT,
        Act.REJECT_AT_REVIEW,
        Act.ASSIST,
        Act.PLAN,
        Act.VISIT,
        Act.REVISE,
        Act.RECHECK,
        Act.EXIT,
        Act.DELETE,
        Act.RETURN,
        Act.TRANSFER,
        Act.READ,
        Act.CHECK_FINDING,
        Act.FOLLOW_UP,
        Act.CONFIRM_CATEGORY,
        Act.KEEP,
        Act.CANCEL_DUPLICATE,
    }
)
DISTRICT_ACTS = frozenset(a for a in LIFECYCLE if AUTHORISATION[a].levels == DISTRICT_OR_ABOVE)


def may(role: Role, level: Level, act: Act) -> bool:
    """True when the table lets `role` of a unit at `level` perform `act` (scope aside)."""
    rule = AUTHORISATION[act]
    return role in rule.roles and level in rule.levels


def authorise(
    actor: Actor, act: Act, target: UnitCode | str | None = None, *, units: Units = GEOGRAPHIC
) -> None:
    """Raise `NotPermitted` or `OutOfScope` unless `actor` may perform `act` on `target`.

    `target` is the unit the act is about — a file's unit, the root of a checked subtree, the
    unit holding a region, the unit a token is for — as a `UnitCode` or its text (parsed where
    the rule's order reaches the scope: an invalid code is `InvalidValue` then, not before a
    role refusal); `None` for an act not about a unit. The acting unit's level is the one
    `units` stores (its acting level: a non-geographic union that does not approve acts as a
    base-level union), asked only when the rule does not admit every level.
    """
    rule = AUTHORISATION[act]
    acting = UnitCode(actor.unit)
    fill = {
        "role": actor.role,
        "role_zh": label(actor.role),
        "act_zh": rule.zh,
        "acting": acting,
        "act": _words(act),
    }
    if rule.first is Order.ROLE_FIRST:
        _role_and_level(rule, actor, acting, fill, units)
    if rule.scope is Scope.SUBTREE:
        if target is None:
            raise TypeError(f"the act {act.value} is about a unit: name the target")
        unit = target if isinstance(target, UnitCode) else UnitCode(target)
        if not unit.is_within(acting):
            words = rule.out_of_scope
            raise OutOfScope(
                words.en.format(**fill, target=unit), zh=words.zh.format(**fill, target=unit)
            )
    if rule.first is Order.SCOPE_FIRST:
        _role_and_level(rule, actor, acting, fill, units)


def _role_and_level(
    rule: Rule, actor: Actor, acting: UnitCode, fill: dict[str, object], units: Units
) -> None:
    if actor.role not in rule.roles:
        raise NotPermitted(
            "role", rule.role_refused.en.format(**fill), zh=rule.role_refused.zh.format(**fill)
        )
    if rule.levels == EVERY_LEVEL:
        return
    entry = units.entry(acting)
    level = entry.acting_level
    # a non-geographic union not registered as approving acts as a base-level union: say so
    geographic = entry.kind in (UnitKind.REGIONAL, UnitKind.BASE)
    fill["level"] = level if entry.approves or geographic else f"non-approving {entry.kind}"
    if level not in rule.levels:
        words = rule.level_refused
        raise NotPermitted("district_or_above", words.en.format(**fill), zh=words.zh.format(**fill))


def _words(act: Act) -> str:
    return act.value.replace("_", " ")


def sync_feed_scope(actor: Actor, served: UnitCode | None) -> UnitCode:
    """The subtree a sync account reads of a node serving `served` (every unit when None).

    The token's unit if it lies inside the node's subtree; the node's subtree if the token's unit
    holds it; otherwise refused (`sync_scope`): the token is for another node.
    """
    authorise(actor, Act.READ_SYNC_FEED)
    mine = UnitCode(actor.unit)
    if served is None or mine.is_within(served):
        return mine
    if served.is_within(mine):
        return served
    raise NotPermitted(
        "sync_scope",
        f"this node serves {served.value}; the token is for {mine.value}",
        zh="令牌单位不在本节点的范围内",
    )
