"""Every bad field of a request body, not just the first.

msgspec stops at the first error it meets. When a body fails, the raw JSON is checked again field
by field against the route's body type, descending into nested objects and lists, so the client
gets `{field, code, message}` for each field that is wrong, missing or unknown.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import msgspec


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
            found = []
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
    found: list[dict[str, str]] = []
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
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        return [{"field": "body", "code": "malformed", "message": str(error)}]
    return errors_for(body_type, value)
