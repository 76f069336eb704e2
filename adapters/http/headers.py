"""Security headers on every response: answers, problems, 404s of unknown paths, the API docs,
health and metrics alike.

A pure ASGI wrapper around the whole app (like the request log), so that no response escapes
it — not even those litestar writes itself (404, 405, 413) — and it costs one list concatenation
per response, the header lines being encoded once at start-up.

- `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`:
  no content sniffing, no framing (clickjacking), no URL with a file id leaking in a Referer.
- `Content-Security-Policy`: the API answers JSON, xlsx and text, none of which may load anything
  (`default-src 'none'`). The docs page under `/schema` is Redoc, served from bangfu itself
  (`static/redoc.standalone.js`) with an inline start-up script holding the schema and inline
  styles: its policy names no other host, so it works on a closed network and loads nothing
  from outside. The console (`/`, `/console/…`, `/static/…`) is HTML with no script of its own:
  scripts and styles only from bangfu, never inline, and forms posting only to bangfu
  (`form-action 'self'`).
- `Cache-Control: no-store` on everything but the docs and static assets: API responses carry
  personal data (even masked, names and addresses), console pages show who is signed in, and
  health and metrics must never be answered from a cache.
- `Strict-Transport-Security` only when configured (`BANGFU_HSTS_MAX_AGE`), i.e. when the
  service is reached over TLS; browsers ignore it over plain HTTP anyway.

A header the route set itself (a `Cache-Control` of its own, say) is kept, not repeated.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PATH = "/schema"

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

# Redoc (adapters/http/static/redoc.standalone.js, started by litestar's inline script) with its
# inline styles, web worker and data-URI images and fonts; nothing from another host.
DOCS_SOURCES = {
    "script-src": ("'self'", "'unsafe-inline'"),
    "style-src": ("'self'", "'unsafe-inline'"),
    "font-src": ("'self'", "data:"),
    "img-src": ("'self'", "data:"),
    "connect-src": ("'self'",),
    "worker-src": ("'self'", "blob:"),
}
DOCS_POLICY = "; ".join(
    [
        "default-src 'none'",
        *(f"{directive} {' '.join(sources)}" for directive, sources in DOCS_SOURCES.items()),
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)


CONSOLE_PATH = "/console"
STATIC_PATH = "/static"
CONSOLE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]


class SecurityHeaders:
    """Adds the security headers to every HTTP response of `app`."""

    def __init__(self, app: ASGIApp, *, hsts_max_age: int = 0) -> None:
        self.app = app
        common = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if hsts_max_age > 0:
            common["Strict-Transport-Security"] = f"max-age={hsts_max_age}; includeSubDomains"
        self.api = _encoded(
            {**common, "Content-Security-Policy": API_POLICY, "Cache-Control": "no-store"}
        )
        self.docs = _encoded({**common, "Content-Security-Policy": DOCS_POLICY})
        self.console = _encoded(
            {**common, "Content-Security-Policy": CONSOLE_POLICY, "Cache-Control": "no-store"}
        )
        self.static = _encoded({**common, "Content-Security-Policy": CONSOLE_POLICY})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if _under(path, DOCS_PATH):
            extra = self.docs
        elif path == "/" or _under(path, CONSOLE_PATH):
            extra = self.console
        elif _under(path, STATIC_PATH):
            extra = self.static
        else:
            extra = self.api

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                message["headers"] = headers + [h for h in extra if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)
