"""The console: people's screens over the same use cases, services and read-side queries as the
API, scoped the same way (`common.py`). One module per screen; `ROUTES` gathers them for the app.

- `door.py`: sign-in, home (with the work list), password, personal tokens, sign-out;
- `work.py`: the work list of each role (counts on the home page, each list on its own page);
- `ledger.py`: the ledger with filters, sort, pages and its xlsx download;
- `files.py`: the file page (summary, timeline, the file as of a version or date, the lifecycle
  actions, its scans, its printed forms, an unmasked read for a purpose) and the new-file form,
  whose forms are the table of `forms.py`;
- `scans.py`: upload a scan on the file page, preview or download one (built from the settings:
  `routes`);
- `prints.py`: a unit's printed forms and the verification of a printed page's code;
- `stats.py`: a unit's statistics with server-rendered SVG charts;
- `checks.py`: spot-checks: start one, its findings, its workbook;
- `admin.py`: account administration and the sync status;
- `paper.py`: reconciliation, import and civil-affairs matching: upload a sheet, every row's
  result.
"""

from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from adapters.http.console import (
    admin,
    checks,
    door,
    files,
    ledger,
    paper,
    prints,
    scans,
    stats,
    work,
)
from adapters.http.console.common import HERE, TEMPLATES
from adapters.runtime.settings import Settings

STATIC_PATH = "/static"  # the console's style sheet and the API docs' Redoc (static/README.md)
STATIC = create_static_files_router(
    path=STATIC_PATH,
    directories=[HERE / "static"],
    include_in_schema=False,
    name="static",
)

ROUTES: list[ControllerRouterHandler] = [
    *door.ROUTES,
    *work.ROUTES,
    *ledger.ROUTES,
    *files.ROUTES,
    *stats.ROUTES,
    *checks.ROUTES,
    *admin.ROUTES,
    *paper.ROUTES,
    *prints.ROUTES,
    STATIC,
]


def routes(settings: Settings) -> list[ControllerRouterHandler]:
    """Every console route: `ROUTES` and those whose limits come from the settings."""
    return [*ROUTES, *scans.routes(settings)]


__all__ = ["ROUTES", "STATIC_PATH", "TEMPLATES", "routes"]
