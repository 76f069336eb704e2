"""The domain's exceptions: a small hierarchy, mapped to HTTP statuses in one table at the edge.

Every error names what is wrong (`code`, a stable machine-readable identifier) and carries a
Chinese and an English message, so a clerk reads it in Chinese and a log reads it in English.
"""

from __future__ import annotations


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


class InvalidValue(DomainError):
    """A value is malformed: a bad ID number, negative money, an unknown category, a future date."""

    code = "invalid_value"

    def __init__(self, field: str, message: str, *, zh: str = "") -> None:
        super().__init__(f"{field}: {message}", zh=f"{field}：{zh or message}", field=field)


class InvalidIdNumber(InvalidValue):
    code = "invalid_id_number"


class WrongState(DomainError):
    """The command is not allowed from the file's current state (DOMAIN.md, lifecycle)."""

    code = "wrong_state"

    def __init__(self, command: str, status: str, allowed: tuple[str, ...]) -> None:
        self.command = command
        self.status = status
        self.allowed = allowed
        super().__init__(
            f"'{command}' is not allowed on a file in status '{status}'"
            f" (allowed from: {', '.join(allowed) or 'no status'})",
            zh=f"档案当前状态为「{status}」，不能执行「{command}」",
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
