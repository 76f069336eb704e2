"""The service's log says what the service did, not what its libraries did on the way."""

import logging

import pytest
import structlog

from adapters.forms.pdf import Grid, Section, Stamp, label, render, value
from adapters.runtime.logging import configure


@pytest.fixture
def service_logging():
    """The service's logging set-up, and the tests' own back afterwards."""
    saved = structlog.get_config()
    configure(json=True)
    yield
    structlog.configure(**saved)


def test_printing_a_form_logs_nothing_of_the_fonts_cut_to_its_characters(
    service_logging: None, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)  # the root's level, as the service's handler takes it
    form = Section(
        "困难职工档案表",
        (Grid(((label("姓名"), value("王某某")),), (1, 3)),),
        Stamp("t" * 120, "K7PD-3QX9-M2AB"),
    )

    render([form])

    assert [r.getMessage() for r in caplog.records if r.name.startswith("fontTools")] == []
