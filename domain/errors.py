"""The domain's exceptions: a small hierarchy, mapped to HTTP statuses in one table at the edge.

Every error names what is wrong (`code`, a stable machine-readable identifier) and carries a
Chinese and an English message, so a clerk reads it in Chinese and a log reads it in English.
"""

from __future__ import annotations

import re


class DomainError(Exception):
    """Base of every refusal the domain makes. Nothing is stored when one is raised."""

    code: str = "domain_error"

    def __init__(self, message: str, *, zh: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.zh = zh or message
        self.field = field

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


# The fields a refusal names, as the forms head them: the Chinese message names the field by
# these words (the API keeps the code in `errors[].field`). `field_zh` reads paths such as
# `members[1].id_number` (第2名成员身份证号码) and `head.phone` (户主联系电话).
FIELDS_ZH: dict[str, str] = {
    "name": "姓名",
    "id_number": "身份证号码",
    "phone": "联系电话",
    "employer": "工作单位",
    "address": "家庭地址",
    "bank_card": "银行卡号",
    "health": "健康状况",
    "relation": "与户主关系",
    "status": "状态",
    "kept_file_id": "保留的档案编号",
    "annual_income": "年收入",
    "rigid_expenses": "刚性支出",
    "hardship_losses": "意外损失",
    "members_living_together": "共同生活人口",
    "establishing_unit": "建档工会",
    "unit": "工会",
    "to_unit": "接收工会",
    "region": "行政区划代码",
    "worker_kind": "职工类别",
    "authorisation_signed": "授权书（声明书）",
    "minutes_on_file": "民主评议会议记录",
    "meeting": "民主评议会议",
    "meeting_id": "会议编号",
    "held_on": "会议日期",
    "place": "会议地点",
    "chair": "主持人",
    "recorder": "记录人",
    "attendees": "参会人员",
    "expected": "应到人数",
    "summary": "会议内容",
    "votes": "表决结果",
    "items": "考核项目",
    "period": "期间",
    "recorded_on": "填表日期",
    "responsible": "负责人",
    "liaison": "联络人",
    "reviewer_opinion": "考核单位意见",
    "statement": "申请说明",
    "applied_on": "申请日期",
    "verified_on": "入户调查日期",
    "investigators": "调查人",
    "appraised_on": "评议日期",
    "publicity_start": "公示开始日期",
    "publicity_end": "公示结束日期",
    "objections": "异议",
    "approved_on": "审批日期",
    "file_level": "档案级别",
    "category": "困难类别",
    "poverty_line": "低保标准",
    "accidental_loss_ratio": "意外致困损失比例",
    "opinion": "审核意见",
    "sent_back_on": "退回日期",
    "rejected_on": "不予建档日期",
    "reason": "原因",
    "cause": "致困原因",
    "causes": "致困原因",
    "primary_cause": "主要致困原因",
    "secondary_causes": "次要致困原因",
    "narrative": "困难情况",
    "assisted_on": "帮扶日期",
    "kind": "类别",
    "amount": "金额",
    "department": "帮扶部门",
    "helper": "帮扶责任人",
    "note": "备注",
    "agreed_on": "计划日期",
    "measures": "帮扶措施",
    "goals": "预期目标",
    "deadline": "完成期限",
    "signed_by_worker": "职工签字",
    "visited_on": "走访日期",
    "cadre": "走访干部",
    "content": "走访内容",
    "quarter_income": "家庭季度收入",
    "quarter_costs": "家庭季度支出",
    "effective_on": "生效日期",
    "revision": "动态调整",
    "rechecked_on": "复核日期",
    "exited_on": "退出日期",
    "explanation": "退出说明",
    "evidence": "证明材料",
    "months_above_line": "连续高于标准月数",
    "returned_on": "返困日期",
    "transferred_on": "移交日期",
    "erased_on": "销毁日期",
    "confirmed_on": "确认日期",
    "kept_on": "保留日期",
    "checked_on": "核实日期",
    "followed_up_on": "回头看日期",
    "finding": "比对问题",
    "result": "结果",
    "purpose": "用途",
    "sample": "抽样数量",
    "seed": "抽样种子",
    "strata": "分层",
    "fraction": "抽样比例",
    "view": "视图",
    "command": "操作",
    "file": "文件",
    "role": "角色",
    "amount_total": "金额合计",
    "attachment_name": "附件名称",
    "attachment_content": "附件内容",
    "attachment_size": "附件大小",
    "sha256": "SHA-256摘要",
    "media_type": "附件类型",
    "material_kind": "材料类别",
    "attachment_id": "附件编号",
    "attachments": "附件",
    # the paper forms' fields (domain/profile.py; issue 14)
    "political_status": "政治面貌",
    "marital_status": "婚姻状况",
    "hukou_type": "户口性质",
    "hukou_place": "户籍所在地",
    "housing": "住房情况",
    "home_housing": "祖居地住房",
    "structure": "结构",
    "area": "面积",
    "dilapidated": "是否危房",
    "work_status": "就业状况",
    "employer_nature": "单位性质",
    "model_worker": "劳模称号",
    "disability": "残疾类别",
    "disability_grade": "残疾等级",
    "education": "文化程度",
    "wishes": "主要意愿",
    "aid_types": "帮扶类型",
    "land": "土地",
    "paddy": "水田",
    "dry": "旱地",
    "economic_forest": "经济林",
    "timber_forest": "用材林",
    "aquaculture": "养殖水面",
    "main_property": "主要财产",
    "insurance": "五险一金",
    "skills": "特长",
    "workplace": "单位（学校）",
    "tasks": "帮扶任务",
    "lead_unit": "牵头单位",
    "lead_leader": "牵头单位责任领导",
    "union_leader": "建档工会领导",
    "pairing_contact": "结对帮扶联系人",
    "union_contact": "工会联系人",
    "union_contact_phone": "工会联系人电话",
    "completion": "完成情况",
    "completed_on": "完成日期",
    "helping_unit": "帮扶单位",
    "pairing": "结对帮扶",
    "cadre_unit": "单位",
    "cadre_post": "职务",
    "cadre_phone": "联系电话",
    "needs": "困难清单",
    "problem": "存在问题及困难",
    "policies": "已享受政策",
    "suggestion": "帮扶建议",
    "costs": "季度支出",
    "farming": "农业生产经营成本",
    "medical": "医疗成本",
    "living": "生活及其他成本",
    "helper_opinion": "帮扶责任人意见",
    "head_opinion": "户主意见",
    "filed_by": "建档人",
    "entered_by": "录入人",
    "reviewed_by": "审核人",
    "base_opinion": "基层工会意见",
    "system_opinion": "系统工会意见",
    "system_opinion_on": "系统工会意见日期",
}
_PART = re.compile(r"^([a-z_]+)(?:\[(\d+)\])?$")


def _path_zh(field: str) -> str:
    """A nested path (`items[0].deadline`, `head.housing.area`) part by part, or ''."""
    words: list[str] = []
    for part in field.split("."):
        m = _PART.match(part)
        if m is None or m.group(1) not in FIELDS_ZH:
            return ""
        if m.group(1) == "head":
            words.append("户主")
            continue
        words.append(FIELDS_ZH[m.group(1)])
        if m.group(2) is not None:
            words.append(f"第{int(m.group(2)) + 1}项")
    return "".join(words)


_MEMBER = re.compile(r"^members\[(\d+)\]\.?(.*)$")


def field_zh(field: str) -> str:
    """The Chinese name of a field path ('' for a code this table does not know); a name that is
    already Chinese (a spreadsheet's column) is itself."""
    if not field.isascii():
        return field
    member = _MEMBER.match(field)
    if member is not None:
        rest = (
            (FIELDS_ZH.get(member.group(2), "") or _path_zh(member.group(2)))
            if member.group(2)
            else ""
        )
        return f"第{int(member.group(1)) + 1}名成员{rest}"
    if field.startswith("head."):
        part = FIELDS_ZH.get(field.removeprefix("head."), "") or _path_zh(
            field.removeprefix("head.")
        )
        return f"户主{part}" if part else ""
    return FIELDS_ZH.get(field, "") or _path_zh(field)


class InvalidValue(DomainError):
    """A value is malformed: a bad ID number, negative money, an unknown category, a future date.

    The English message starts with the field's code, the Chinese one with its name (`field_zh`);
    the code stays in `field` for the API's `errors[].field`."""

    code = "invalid_value"

    def __init__(self, field: str, message: str, *, zh: str = "") -> None:
        name = field_zh(field)
        super().__init__(
            f"{field}: {message}",
            zh=f"{name}：{zh or message}" if name else (zh or message),
            field=field,
        )


class InvalidIdNumber(InvalidValue):
    code = "invalid_id_number"


# The commands a `WrongState` names, as a clerk calls them (DOMAIN.md glossary). A command
# missing here reads as 该操作: a Chinese message never shows a code.
COMMANDS_ZH: dict[str, str] = {
    "apply": "申请",
    "verify": "入户调查",
    "appraise": "民主评议和公示",
    "approve": "审核认定",
    "send_back": "退回",
    "reject": "不予建档",
    "assist": "帮扶",
    "agree_plan": "制定帮扶计划",
    "visit": "走访",
    "follow_up": "回头看",
    "revise": "动态调整",
    "recheck": "复核",
    "exit": "退出",
    "delete": "删除",
    "return": "返困",
    "transfer": "移交",
    "erase_personal_data": "销毁个人信息",
    "record_file": "记录抽查结果",
    "record": "记录核对结果",
    "complete": "完成",
}
# States of the spot-check and reconciliation streams (a file's statuses are `Status`).
_RUN_STATES_ZH = {"started": "进行中", "completed": "已完成"}


def state_zh(code: str) -> str:
    """The Chinese label of a state code: a file's status or a run's state."""
    # Imported here, not at the top: domain.values imports this module for `InvalidValue`.
    from domain.values import Status, label  # noqa: PLC0415 — see the line above

    if code in _RUN_STATES_ZH:
        return _RUN_STATES_ZH[code]
    try:
        return label(Status(code))
    except ValueError:
        return "其他状态"


class WrongState(DomainError):
    """The command is not allowed from the file's current state (DOMAIN.md, lifecycle).

    `status` and `allowed` are codes (for the API and logs); the Chinese message names the
    command and the states by their labels."""

    code = "wrong_state"

    def __init__(
        self, command: str, status: str, allowed: tuple[str, ...], *, erased: bool = False
    ) -> None:
        self.command = command
        self.status = status
        self.allowed = allowed
        shown = f"{status} (personal data erased)" if erased else status
        shown_zh = state_zh(status) + ("（个人信息已销毁）" if erased else "")
        allowed_zh = "、".join(state_zh(a) for a in allowed)
        what = f"「{COMMANDS_ZH[command]}」" if command in COMMANDS_ZH else "该操作"
        super().__init__(
            f"'{command}' is not allowed on a file in status '{shown}'"
            f" (allowed from: {', '.join(allowed) or 'no status'})",
            zh=f"档案当前状态为「{shown_zh}」，不能办理{what}"
            + (f"（可办理的状态：{allowed_zh}）" if allowed_zh else "（任何状态均不可办理）"),
        )


class NotPermitted(DomainError):
    """The acting unit or role may not perform this act on this file (DOMAIN.md: who may)."""

    code = "not_permitted"

    def __init__(self, rule: str, message: str, *, zh: str = "") -> None:
        self.rule = rule
        super().__init__(message, zh=zh)


class OutOfScope(DomainError):
    """The file does not lie in the acting unit's subtree. Shown as 'not found' at the edge."""

    code = "out_of_scope"


class NotEligible(DomainError):
    """The household does not meet the standard (income test or an exclusion criterion)."""

    code = "not_eligible"

    def __init__(self, reasons: tuple[str, ...], *, zh: tuple[str, ...] = ()) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons), zh="；".join(zh or reasons))


class RuleViolated(DomainError):
    """A procedural rule is broken: too few investigators, steps out of order, open objections."""

    code = "rule_violated"

    def __init__(self, rule: str, message: str, *, zh: str = "", field: str | None = None) -> None:
        self.rule = rule
        super().__init__(message, zh=zh, field=field)


class NotFound(DomainError):
    code = "not_found"


class ConcurrencyError(DomainError):
    """The stream moved on since it was read: the expected version is stale. Nothing was written."""

    code = "concurrency_conflict"

    def __init__(self, stream_id: object, expected: int, actual: int | None = None) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"stream {stream_id} is not at version {expected}"
            + (f" (it is at {actual})" if actual is not None else ""),
            zh=f"档案已被他人修改（期望版本 {expected}），请刷新后重试",
        )
