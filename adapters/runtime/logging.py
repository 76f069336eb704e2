"""structlog set-up: key-value events, JSON when not on a terminal, context from contextvars."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(*, json: bool | None = None, level: int = logging.INFO) -> None:
    as_json = (not sys.stderr.isatty()) if json is None else json
    # pgserver logs every pg_ctl call and wait at INFO through the standard library: noise for
    # whoever runs `make run`; its warnings and errors still show.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    # fontTools reports each table it prunes while the forms' fonts are cut to a document's
    # characters (adapters/forms/fonts.py): two dozen INFO lines a printed form
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
