"""JSON request bodies: checked strictly at the edge, and every bad field listed, not the first.

msgspec stops at the first error it meets. When a body fails, the raw JSON is checked again field
by field against the route's body type, descending into nested objects and lists, so the client
gets `{field, code, message}` for each field that is wrong, missing or unknown.

Before a route sees its body, `refuse_invalid_body` holds it to what the OpenAPI document says,
which litestar alone does not: litestar converts the parsed JSON in msgspec's lax mode, where
`"5"` becomes 5, `"true"` becomes True and a money amount sent as a JSON number goes through a
binary float. Here the body must decode strictly into the route's type, and besides:

- a decimal (money, ratios) is a JSON string, never a number; money (`schemas.Money`) has at most
  two decimals and no sign or exponent (`MONEY_PATTERN`), so NaN, Infinity and negative amounts
  are refused at the door;
- no text anywhere in the body is longer than `MAX_TEXT` characters or contains a control
  character other than tab, line feed and carriage return — NUL included (the domain bounds the
  fields it reads, this bounds those it only stores; and a control character cannot be written
  to an xlsx export, whose writer refuses it);
- objects nest at most `MAX_DEPTH` deep (deeper JSON is refused, never a recursion error);
- the domain's own value types (the head, members, exclusions) take no unknown field, like the
  request bodies around them.

Characters outside the Basic Multilingual Plane (𠀀, 𪚥 in names; emoji in notes) are text like
any other: accepted, stored and returned as sent (docs/decisions/0007-api-fuzzing-and-limits.md).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from domain.household import MAX_TEXT  # the domain's bound on free text, held to everywhere

MAX_DEPTH = 8  # the deepest body (an investigation: body → members → a member) nests 3 deep
MONEY_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"  # yuan: "550", "550.5", "550.00"
# C0 controls but tab, line feed and carriage return: what XML, hence xlsx, cannot hold
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _object_fields(tp: Any) -> dict[str, tuple[Any, bool]] | None:
    """name → (type, required) for a Struct or dataclass type; None for anything else."""
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        hints = typing.get_type_hints(tp, include_extras=True)
        defaults = dict(
            zip(
                tp.__struct_fields__[len(tp.__struct_fields__) - len(tp.__struct_defaults__) :],
                tp.__struct_defaults__,
                strict=True,
            )
        )
        return {f: (hints[f], f not in defaults) for f in tp.__struct_fields__}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp, include_extras=True)
        return {
            f.name: (
                hints[f.name],
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            )
            for f in dataclasses.fields(tp)
        }
    return None


def _strip(tp: Any) -> Any:
    """Unwrap Annotated and Optional to find a nested object or list type."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if (
        typing.get_origin(tp) in (typing.Union, getattr(__import__("types"), "UnionType", None))
        and len(args) == 1
    ):
        return _strip(args[0])
    return tp


def errors_for(tp: Any, value: Any, path: str = "") -> list[dict[str, str]]:
    fields = _object_fields(_strip(tp))
    if fields is None:
        inner = _strip(tp)
        if typing.get_origin(inner) in (list, tuple) and isinstance(value, list):
            item_type = typing.get_args(inner)[0] if typing.get_args(inner) else Any
            found: list[dict[str, str]] = []
            for i, item in enumerate(value):
                found.extend(errors_for(item_type, item, f"{path}[{i}]"))
            if found:
                return found
        try:
            msgspec.json.decode(msgspec.json.encode(value), type=tp)
        except msgspec.ValidationError as error:
            return [{"field": path or "body", "code": "invalid", "message": str(error)}]
        return []
    if not isinstance(value, dict):
        return [{"field": path or "body", "code": "invalid", "message": "Expected `object`"}]
    found = []
    prefix = f"{path}." if path else ""
    for name in value:
        if name not in fields:
            found.append({"field": prefix + name, "code": "unknown", "message": "unknown field"})
    for name, (field_type, required) in fields.items():
        if name not in value:
            if required:
                found.append(
                    {
                        "field": prefix + name,
                        "code": "missing",
                        "message": "required field is missing",
                    }
                )
            continue
        found.extend(errors_for(field_type, value[name], prefix + name))
    return found


def body_errors(body_type: Any, raw: bytes) -> list[dict[str, str]]:
    """Every reason `raw` is not a valid body of `body_type`, one per field at most."""
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        return [{"field": "body", "code": "malformed", "message": str(error)}]
    except RecursionError:
        return [_too_deep("body")]
    found = _text_errors(value)
    if any(e["code"] == "too_deep" for e in found):
        return found
    found += [e for e in errors_for(body_type, value) if e not in found]
    named = {e["field"] for e in found}
    found += [e for e in _shape_errors(body_type, value) if e["field"] not in named]
    return found


def _too_deep(path: str) -> dict[str, str]:
    return {
        "field": path,
        "code": "too_deep",
        "message": f"objects and lists nest at most {MAX_DEPTH} deep",
    }


def _text_errors(value: Any) -> list[dict[str, str]]:
    """Texts too long or with a control character, and nesting too deep, anywhere in `value`."""
    found: list[dict[str, str]] = []
    stack: list[tuple[str, Any, int]] = [("", value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if isinstance(item, str):
            if len(item) > MAX_TEXT:
                found.append(
                    {
                        "field": path or "body",
                        "code": "too_long",
                        "message": f"at most {MAX_TEXT} characters, not {len(item)}",
                    }
                )
            elif CONTROL.search(item):
                found.append(
                    {
                        "field": path or "body",
                        "code": "invalid_character",
                        "message": "contains a control character (such as NUL): only tab, "
                        "line feed and carriage return are text",
                    }
                )
            continue
        if isinstance(item, (dict, list)) and depth >= MAX_DEPTH:
            found.append(_too_deep(path or "body"))
            continue
        if isinstance(item, dict):
            prefix = f"{path}." if path else ""
            for key, inner in item.items():
                if CONTROL.search(key) or len(key) > MAX_TEXT:
                    found.append(
                        {
                            "field": path or "body",
                            "code": "invalid_character",
                            "message": "a field name is too long or contains a control character",
                        }
                    )
                    continue
                stack.append((prefix + key, inner, depth + 1))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", inner, depth + 1) for i, inner in enumerate(item))
    return sorted(found, key=lambda e: e["field"])


def _decimal_pattern(tp: Any) -> re.Pattern[str] | None:
    """The pattern a decimal field's schema declares (`schemas.Money`), if any."""
    while typing.get_origin(tp) is typing.Annotated:
        tp, *metadata = typing.get_args(tp)
        for meta in metadata:
            extra = getattr(meta, "extra_json_schema", None) or {}
            pattern = (extra.get("extra") or {}).get("pattern")
            if pattern:
                return re.compile(pattern)
    return None


def _is_decimal(tp: Any) -> bool:
    return _strip(tp) is Decimal


def _shape_errors(tp: Any, value: Any, path: str = "") -> list[dict[str, str]]:
    """What a strict decode lets through but the API does not accept: a decimal sent as a JSON
    number or not matching its pattern, and unknown fields in the domain's value types."""
    if _is_decimal(tp):
        if value is None:
            return []
        if not isinstance(value, str):
            return [
                {
                    "field": path or "body",
                    "code": "invalid",
                    "message": 'a decimal is sent as a string, such as "550.00", not a number',
                }
            ]
        pattern = _decimal_pattern(tp) or _decimal_pattern(_optional_inner(tp))
        if pattern is not None and not pattern.match(value):
            return [
                {
                    "field": path or "body",
                    "code": "invalid",
                    "message": "an amount of yuan: digits with at most two decimals, no sign",
                }
            ]
        return []
    fields = _object_fields(_strip(tp))
    if fields is None:
        inner = _strip(tp)
        if typing.get_origin(inner) in (list, tuple) and isinstance(value, list):
            item_type = typing.get_args(inner)[0] if typing.get_args(inner) else Any
            return [
                e for i, v in enumerate(value) for e in _shape_errors(item_type, v, f"{path}[{i}]")
            ]
        return []
    if not isinstance(value, dict):
        return []
    prefix = f"{path}." if path else ""
    found = [
        {"field": prefix + name, "code": "unknown", "message": "unknown field"}
        for name in value
        if name not in fields
    ]
    for name, (field_type, _) in fields.items():
        if name in value:
            found.extend(_shape_errors(field_type, value[name], prefix + name))
    return found


def _optional_inner(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if len(args) == 1 else tp


@functools.lru_cache(maxsize=256)
def _strict_decoder(body_type: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(type=body_type, strict=True)


def json_body_type(request: Request[Any, Any, Any]) -> Any | None:
    """The type of the route's JSON body (its `data` parameter), None when it takes none."""
    handler = request.scope.get("route_handler")
    signature = getattr(handler, "parsed_fn_signature", None)
    parameter = signature.parameters.get("data") if signature is not None else None
    if parameter is None or _object_fields(_strip(parameter.annotation)) is None:
        return None
    return parameter.annotation


async def refuse_invalid_body(
    request: Request[Any, Any, Any], authenticate: Callable[[Request[Any, Any, Any]], object]
) -> None:
    """Refuse (400) a JSON body that is not exactly what the route's type and the rules above
    allow. `authenticate` is asked first, so that a caller without a valid token hears 401 (or
    429), as it would from the route, and learns nothing about its body."""
    body_type = json_body_type(request)
    if body_type is None:
        return
    raw = await request.body()
    try:
        _strict_decoder(body_type).decode(raw)
        value = msgspec.json.decode(raw)
        valid = not _text_errors(value) and not _shape_errors(body_type, value)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        valid = False
    if not valid:
        answer = authenticate(request)
        if inspect.isawaitable(answer):
            await answer
        raise ValidationException(detail="the request body is not valid")
