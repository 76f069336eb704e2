"""The request examples in the OpenAPI document are valid requests."""

from __future__ import annotations

import msgspec
import pytest

from adapters.http.schemas import EXAMPLES
from domain.idnumber import parse_id_number


@pytest.mark.parametrize("body_type", list(EXAMPLES), ids=lambda t: t.__name__)
def test_every_request_example_decodes_into_its_body_type(body_type: type) -> None:
    raw = msgspec.json.encode(EXAMPLES[body_type])

    decoded = msgspec.json.decode(raw, type=body_type)

    assert isinstance(decoded, body_type)


def test_every_id_number_in_the_examples_is_valid() -> None:
    found = [value for body in EXAMPLES.values() for value in _ids(body)]

    assert found
    assert all(parse_id_number(value) for value in found)


def _ids(value: object) -> list[str]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "id_number"] + [
            x for v in value.values() for x in _ids(v)
        ]
    if isinstance(value, list):
        return [x for v in value for x in _ids(v)]
    return []
