"""What every screen of the console shares: its words in two languages, the page renderer,
the session and CSRF checks, the form reader and the error pages.

Server-rendered HTML (Jinja templates in `adapters/http/templates/`, through litestar's template
engine), Chinese by default with an English switch (`?lang=en`, kept in a cookie). No script at
all: every act is a plain form post, under the console's own security headers (`headers.py`:
no inline script, `form-action 'self'`).

- The session cookie (`bangfu_session`) is HttpOnly, SameSite=Lax, Path=/console, Secure when the
  request came over TLS or `BANGFU_COOKIE_SECURE` says so; it holds a random value whose digest
  names a session row in PostgreSQL (`adapters/services/accounts.py`).
- Every form post carries a CSRF token: the session's own once signed in; before sign-in, a
  random value also set in a cookie of its own (`bangfu_csrf`, SameSite=Strict), compared with
  the form's (double submit). A post without the right token is refused with 403 before
  anything is read or written.
- An account an admin created (or reset) reaches nothing but the password change until it has
  changed its password.
- A screen acts as the signed-in account (`Session.actor`) through the same services and
  read-side queries as the API, scoped the same way: a file or unit outside the account's
  subtree is the same not-found page as one that does not exist (`ERRORS`).

Like `app.py`, no `from __future__ import annotations`: litestar resolves the handlers' types.
"""

import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import structlog
from litestar import Request
from litestar.datastructures import Cookie, FormMultiDict, State
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig
from litestar.types import ExceptionHandlersMap

from adapters.http.problems import status_of
from adapters.services.accounts import AccountService, Session
from domain.errors import DomainError, NotFound, OutOfScope

log = structlog.get_logger("bangfu.console")

CONSOLE = "/console"
SESSION_COOKIE = "bangfu_session"
CSRF_COOKIE = "bangfu_csrf"
LANG_COOKIE = "bangfu_lang"
HERE = Path(__file__).parent.parent  # adapters/http
TEMPLATES = TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)
MAX_FORM = 16 * 1024

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "product": "帮扶 · 困难职工档案",
        "sign_in": "登录",
        "user": "用户名",
        "password": "密码",
        "api_docs": "接口文档",
        "home": "首页",
        "unit": "单位",
        "role": "角色",
        "sign_out": "退出登录",
        "change_password": "修改密码",
        "first_change": "首次登录请先修改管理员设置的初始密码。",
        "current_password": "当前密码",
        "new_password": "新密码",
        "password_rule": "至少10个字符，包含字母、数字、符号中的两类，不含用户名。",
        "tokens": "个人访问令牌",
        "tokens_hint": "用于以本人身份调用接口（Authorization: Bearer …），"
        "有效期最长90天，可随时撤销。",
        "token_once": "新令牌（只显示这一次，请妥善保存）：",
        "label": "名称",
        "created": "签发时间",
        "expires": "到期时间",
        "state": "状态",
        "revoked": "已撤销",
        "expired": "已过期",
        "live": "有效",
        "revoke": "撤销",
        "days": "有效天数",
        "mint": "签发令牌",
        "refused": "请求被拒绝",
        "back": "返回",
        "csrf": "表单已失效，请刷新页面后重试。",
        "wrong": "用户名或密码错误，或账户已停用。",
        "job": "后台任务",
        "job_running": "正在抽查，页面每2秒自动刷新。",
        "job_failed": "任务未完成",
        "in_background": "在后台运行（抽样超过100份时自动在后台运行）",
        "paper": "核对与导入",
        "result": "结果",
        "sheet": "表格（xlsx 或 csv）",
        "scans_zip": "附件压缩包（zip，表中“附件”列所列的扫描件，可不填）",
        "accounts": "账户管理",
        "password_once": "新密码（只显示这一次，首次登录须修改）",
        "disabled": "已停用",
        "must_change": "待修改初始密码",
        "enable": "启用",
        "disable": "停用",
        "reset_password": "重置密码",
        "create_account": "新建账户",
        "display_name": "姓名",
        "sync": "同步状态",
        "node": "节点",
        "received": "已接收事件",
        "behind": "落后事件",
        "last_success": "最近成功",
        "last_error": "最近错误",
        "quarantined": "隔离",
        "no_downstreams": "本节点没有下级节点",
        "spot_check_hint": "从本单位管辖范围内抽取档案，逐一回放核查规则、哈希链和台账。",
        "sample": "抽样数量",
        "seed": "抽样种子",
        "start_spot_check": "开始抽查",
        "checked_by": "抽查人",
        "started": "开始时间",
        "frame": "抽样框",
        "files_checked": "已查档案",
        "files_with_findings": "有问题档案",
        "findings": "问题",
        "by_rule": "按规则汇总",
        "rule": "规则",
        "files": "档案数",
        "file": "档案",
        "what": "问题说明",
        "ledger": "台账",
        "new_file": "新建档案",
        "stats": "统计",
        "spot_checks": "抽查",
        "not_found": "未找到",
        "not_found_hint": "档案或单位不存在，或不在本单位管辖范围内。",
        "work": "待办工作",
        "total": "共",
        "first_n": "显示前",
        "head_name": "户主姓名",
        "status": "状态",
        "days_waiting": "已等待天数",
        "category_to_confirm": "复核类别变更待确认",
        "due_on": "到期日",
        "updated": "最后更新",
        "none": "没有记录",
        "sort": "排序",
        "to_act": "民政比对待处理",
        "filter": "查询",
        "download": "导出 xlsx",
        "id_number": "身份证号码",
        "category": "困难类别",
        "cause": "致困原因",
        "applied_on": "申请日期",
        "assistance": "帮扶（次/元）",
        "first_page": "第一页",
        "next_page": "下一页",
        "duplicates": "重复建档",
        "duplicates_hint": (
            "同一人（户主或家庭成员）在多份在档或已解困档案中：同步上报或一户一档规则之前"
            "录入的数据。辖区外的档案只计数。"
        ),
        "person": "身份证号码",
        "other_files": "辖区外档案",
        "done": "已办理",
        "as_of_shown": "正在查看历史版本",
        "current": "当前版本",
        "back_to_current": "返回当前",
        "phone": "联系电话",
        "file_level": "档案级别",
        "verified_on": "入户调查日期",
        "approved_on": "审批日期",
        "per_capita": "家庭月人均收入",
        "members_together": "共同生活人口",
        "last_visit": "最近走访",
        "version": "版本",
        "member": "家庭成员",
        "relation": "关系",
        "as_of_day": "截至日期",
        "show_as_of": "查看历史",
        "actions": "办理",
        "timeline": "档案轨迹",
        "period": "统计期间",
        "children_level": "下级层级",
        "show": "显示",
        "stock": "档案现状",
        "flow": "期间变动",
        "children": "下级单位对比",
        "attachments": "附件",
        "material": "材料类别",
        "file_name": "文件名",
        "size": "大小",
        "attached_on": "上传日期",
        "upload_scan": "上传扫描件",
        "scan": "扫描件（JPEG、PNG 或 PDF）",
        "purpose": "用途",
        "purpose_hint": "查看或打印个人信息须说明用途，将记入档案轨迹",
        "preview": "预览",
        "download_scan": "下载",
        "print_forms": "打印表单",
        "form": "表单",
        "print": "打印",
        "unmask": "查看未脱敏信息",
        "unmasked_shown": "正在查看未脱敏个人信息（已记入档案轨迹），用途：",
        "masked_note": "个人信息已脱敏",
        "unit_forms": "单位表单",
        "period_hint": "期间（2026、2026-Q2 或 2026-05）",
        "verification": "核验纸质表单",
        "code": "核验码",
        "verify": "核验",
        "matches": "与电子档案一致",
        "differs": "与电子档案不一致",
        "changed_since": "打印后有变动",
        "unchanged_since": "打印后无变动",
        "printed_by": "打印人",
        "printed_on": "打印日期",
        "printed_version": "打印时版本",
        "current_version": "当前版本",
        "changes": "打印后的变动",
    },
    "en": {
        "html_lang": "en",
        "product": "bangfu · hardship-worker files",
        "sign_in": "Sign in",
        "user": "User name",
        "password": "Password",
        "api_docs": "API documentation",
        "home": "Home",
        "unit": "Unit",
        "role": "Role",
        "sign_out": "Sign out",
        "change_password": "Change password",
        "first_change": "At first sign-in, replace the password the admin set.",
        "current_password": "Current password",
        "new_password": "New password",
        "password_rule": "At least 10 characters of two kinds (letters, digits, others), "
        "without the user name.",
        "tokens": "Personal API tokens",
        "tokens_hint": "To call the API as yourself (Authorization: Bearer …); at most 90 days, "
        "revocable at any time.",
        "token_once": "New token (shown this once only, keep it safe):",
        "label": "Name",
        "created": "Issued",
        "expires": "Expires",
        "state": "State",
        "revoked": "revoked",
        "expired": "expired",
        "live": "live",
        "revoke": "Revoke",
        "days": "Days",
        "mint": "Mint a token",
        "refused": "Request refused",
        "back": "Back",
        "csrf": "The form has expired: reload the page and try again.",
        "wrong": "The user name or password is wrong, or the account is disabled.",
        "job": "Background job",
        "job_running": "Checking; this page reloads every 2 seconds.",
        "job_failed": "The job failed",
        "in_background": "Run in the background (automatic above 100 files)",
        "paper": "Paper and imports",
        "result": "Result",
        "sheet": "Sheet (xlsx or csv)",
        "scans_zip": "Scans (a zip of the files the sheet's 附件 column names; optional)",
        "accounts": "Accounts",
        "password_once": "New password (shown this once; to be changed at first sign-in)",
        "disabled": "disabled",
        "must_change": "must change password",
        "enable": "Enable",
        "disable": "Disable",
        "reset_password": "Reset password",
        "create_account": "Create account",
        "display_name": "Display name",
        "sync": "Sync status",
        "node": "Node",
        "received": "Events received",
        "behind": "Behind",
        "last_success": "Last success",
        "last_error": "Last error",
        "quarantined": "Quarantined",
        "no_downstreams": "No downstream nodes",
        "spot_check_hint": "Sample files of a subtree and check each by replay.",
        "sample": "Sample size",
        "seed": "Seed",
        "start_spot_check": "Start the spot-check",
        "checked_by": "Checked by",
        "started": "Started",
        "frame": "Frame",
        "files_checked": "Files checked",
        "files_with_findings": "Files with findings",
        "findings": "Findings",
        "by_rule": "By rule",
        "rule": "Rule",
        "files": "Files",
        "file": "File",
        "what": "What",
        "ledger": "Ledger",
        "new_file": "New file",
        "stats": "Statistics",
        "spot_checks": "Spot-checks",
        "not_found": "Not found",
        "not_found_hint": "No such file or unit within your unit.",
        "work": "Work waiting",
        "total": "Total",
        "first_n": "showing the first",
        "head_name": "Head of household",
        "status": "Status",
        "days_waiting": "Days waiting",
        "category_to_confirm": "Re-check category change to confirm",
        "due_on": "Due on",
        "updated": "Last changed",
        "none": "Nothing here",
        "sort": "Sort",
        "to_act": "Civil-affairs findings to act on",
        "filter": "Filter",
        "download": "Download xlsx",
        "id_number": "ID number",
        "category": "Category",
        "cause": "Cause",
        "applied_on": "Applied on",
        "assistance": "Assistance (times/yuan)",
        "first_page": "First page",
        "next_page": "Next page",
        "duplicates": "Filed twice",
        "duplicates_hint": (
            "People (heads or members) in more than one open or relieved file: pulled from "
            "other nodes or stored before one file per household. Files outside your subtree "
            "are only counted."
        ),
        "person": "ID number",
        "other_files": "Files outside",
        "done": "Done",
        "as_of_shown": "Showing the file at version",
        "current": "current",
        "back_to_current": "back to the current file",
        "phone": "Phone",
        "file_level": "File level",
        "verified_on": "Investigated on",
        "approved_on": "Approved on",
        "per_capita": "Monthly income per head",
        "members_together": "living together",
        "last_visit": "Last visit",
        "version": "Version",
        "member": "Member",
        "relation": "Relation",
        "as_of_day": "As of day",
        "show_as_of": "Show as it was",
        "actions": "Actions",
        "timeline": "Timeline",
        "period": "Period",
        "children_level": "Children at level",
        "show": "Show",
        "stock": "Files now",
        "flow": "Flows in",
        "children": "Children units side by side",
        "attachments": "Attachments",
        "material": "Material",
        "file_name": "File name",
        "size": "Size",
        "attached_on": "Attached on",
        "upload_scan": "Upload a scan",
        "scan": "Scan (JPEG, PNG or PDF)",
        "purpose": "Purpose",
        "purpose_hint": "Reading or printing personal data needs a purpose; it is recorded "
        "on the file's trail",
        "preview": "Preview",
        "download_scan": "Download",
        "print_forms": "Print forms",
        "form": "Form",
        "print": "Print",
        "unmask": "Show unmasked",
        "unmasked_shown": "Showing unmasked personal data (recorded on the trail), purpose:",
        "masked_note": "personal data masked",
        "unit_forms": "Unit forms",
        "period_hint": "Period (2026, 2026-Q2 or 2026-05)",
        "verification": "Verify a printed form",
        "code": "Verification code",
        "verify": "Verify",
        "matches": "Matches the electronic file",
        "differs": "Does not match the electronic file",
        "changed_since": "Changed since printing",
        "unchanged_since": "Unchanged since printing",
        "printed_by": "Printed by",
        "printed_on": "Printed on",
        "printed_version": "Printed version",
        "current_version": "Current version",
        "changes": "Changes since printing",
    },
}


# ------------------------------------------------------------------------------ helpers


def lang_of(request: Request[Any, Any, Any]) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return asked if asked in TEXT else "zh"


def secure(request: Request[Any, Any, Any], state: State) -> bool:
    mode = state.settings.cookie_secure
    if mode in {"on", "off"}:
        return bool(mode == "on")
    return request.url.scheme == "https" or state.settings.hsts_max_age > 0


def cookies_for(request: Request[Any, Any, Any], state: State, *more: Cookie) -> list[Cookie]:
    """The cookies to set: `more`, and the language when the query chose one."""
    cookies = list(more)
    if request.query_params.get("lang") in TEXT:
        cookies.append(
            Cookie(
                key=LANG_COOKIE,
                value=lang_of(request),
                path=CONSOLE,
                httponly=True,
                samesite="lax",
                secure=secure(request, state),
                max_age=365 * 86400,
            )
        )
    return cookies


def session_cookie(request: Request[Any, Any, Any], state: State, value: str) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        path=CONSOLE,
        httponly=True,
        samesite="lax",
        secure=secure(request, state),
    )


def ended_cookie(request: Request[Any, Any, Any], state: State) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        path=CONSOLE,
        httponly=True,
        samesite="lax",
        secure=secure(request, state),
        max_age=0,
        expires=0,
    )


def switched(request: Request[Any, Any, Any], lang: str, here: str | None = None) -> str:
    """The address of this page in `lang`: the same query (a ledger's filters, a file's version)
    with `lang` set. A page answering a post has no address of its own to show again: `here`
    names the page to switch to instead (the file page after a print or an unmasked read)."""
    if here is not None:
        return f"{here}?{urlencode({'lang': lang})}"
    if request.method != "GET":
        return "?" + urlencode({"lang": lang})
    asked = parse_qsl(
        request.scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True
    )
    kept = [(k, v) for k, v in asked if k != "lang"]
    return "?" + urlencode([*kept, ("lang", lang)])


def render(
    request: Request[Any, Any, Any],
    state: State,
    name: str,
    *,
    status: int = 200,
    cookies: tuple[Cookie, ...] = (),
    here: str | None = None,
    **context: Any,
) -> Template:
    lang = lang_of(request)
    other = "zh" if lang == "en" else "en"
    return Template(
        template_name=name,
        context={
            "t": TEXT[lang],
            "lang": lang,
            "switch_href": switched(request, other, here),
            **context,
        },
        status_code=status,
        cookies=cookies_for(request, state, *cookies),
        media_type="text/html",
    )


def address_of(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client is not None else ""


async def read_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def same(given: str, expected: str) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def refused_csrf(request: Request[Any, Any, Any], state: State) -> Template:
    return render(request, state, "refused.html", status=403, error=TEXT[lang_of(request)]["csrf"])


async def current_session(request: Request[Any, Any, Any], state: State) -> Session | None:
    service: AccountService = state.accounts
    return await service.session(request.cookies.get(SESSION_COOKIE, ""))


def to_sign_in() -> Redirect:
    return Redirect(f"{CONSOLE}/sign-in", status_code=303)


async def form_guard(request: Request[Any, Any, Any]) -> None:
    # Replaces the API's JSON-only guard on the console's routes (litestar uses the
    # `before_request` closest to the handler): a console post is a plain HTML form.
    if request.method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise HTTPException(status_code=415, detail="send the form as urlencoded")
        if int(request.headers.get("content-length") or 0) > MAX_FORM:
            raise HTTPException(status_code=413, detail="the form is too large")


# ------------------------------------------------------------------------------ the screens


async def signed_in(request: Request[Any, Any, Any], state: State) -> Session | Redirect:
    """The request's session, or where to go first: sign-in, or the first password change."""
    session = await current_session(request, state)
    if session is None:
        return to_sign_in()
    if session.account.must_change:
        return Redirect(f"{CONSOLE}/password", status_code=303)
    request.scope["state"]["user"] = session.account.name  # for the request log
    request.scope["state"]["unit"] = session.account.unit
    return session


@dataclass(frozen=True, slots=True)
class Posted:
    """A console post by a signed-in user whose form carried the session's CSRF token."""

    session: Session
    form: FormMultiDict  # as parsed (a multipart upload's files too)

    @property
    def values(self) -> dict[str, str]:
        """Each text field's value (the last, where a field is sent twice)."""
        return {k: v for k, v in self.form.items() if isinstance(v, str)}

    @property
    def fields(self) -> dict[str, list[str]]:
        """Every value of every text field (a multiple choice sends several)."""
        found: dict[str, list[str]] = {}
        for key, value in self.form.multi_items():
            if isinstance(value, str):
                found.setdefault(key, []).append(value)
        return found


async def signed_post(
    request: Request[Any, Any, Any], state: State
) -> Posted | Template | Redirect:
    """Every signed-in console post's first step: the session (or where to go first, as
    `signed_in`), then the form, refused (403) unless it carries the session's CSRF token."""
    session = await signed_in(request, state)
    if not isinstance(session, Session):
        return session
    form = await request.form()
    if not same(str(form.get("csrf") or ""), session.csrf):
        return refused_csrf(request, state)
    return Posted(session, form)


def message(request: Request[Any, Any, Any], error: DomainError) -> str:
    """A refusal in the page's language."""
    return error.message if lang_of(request) == "en" else error.zh


def on_error(request: Request[Any, Any, Any], error: DomainError) -> Template:
    """A refusal of the domain as a page: not found (also for what lies outside the caller's
    subtree, word for word the same page), refused, or a conflict."""
    state = request.app.state
    status = status_of(error)
    if isinstance(error, NotFound | OutOfScope):
        return render(request, state, "not_found.html", status=404)
    return render(request, state, "refused.html", status=status, error=message(request, error))


ERRORS: ExceptionHandlersMap = {DomainError: on_error}


def query_list(request: Request[Any, Any, Any], name: str) -> list[str]:
    """Every value of a query parameter, without the empty ones."""
    return [v for v in request.query_params.getall(name, []) if v]
