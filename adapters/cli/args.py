"""Argument types shared by the command groups (`type=` of `add_argument`)."""

from __future__ import annotations

import argparse
from datetime import date

from domain.errors import InvalidValue
from domain.values import DATE_EXAMPLE, iso_day


def day(text: str) -> date:
    """A date in ISO 8601, as `--as-of 2026-11-21`; argparse reports any other text."""
    try:
        return iso_day(text, "date")
    except InvalidValue:
        raise argparse.ArgumentTypeError(f"a date such as {DATE_EXAMPLE}") from None
