"""Security headers on every answer: a strict Content-Security-Policy, no framing, no MIME
sniffing, no referrer outside the site, no caching of anything but the static files, and HSTS
when the service is served over HTTPS (``MFG_COOKIE_SECURE``).

A pure ASGI middleware, so that it sees every answer the same way (pages, JSON, error pages,
redirects, streamed PDFs and CSVs, static files) without buffering a body."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts and styles only from our own static files: no inline script, no inline event handler,
# no inline style attribute (tests/test_headers.py scans the templates for them).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# FastAPI's Swagger UI (/api/docs) is one inline script and files from its CDN: the only page
# that gets a looser policy. It shows no GMP data itself; its requests go to our own API.
DOCS_PATH = "/api/docs"
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' https://cdn.jsdelivr.net",
        "img-src 'self' data: https://fastapi.tiangolo.com",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HSTS = "max-age=31536000"
# Static files carry no personal data and change only with a release: browsers may keep them.
STATIC_PREFIX = "/static/"


def security_headers(path: str, *, https: bool) -> list[tuple[bytes, bytes]]:
    """The headers every answer to ``path`` carries."""
    csp = DOCS_CONTENT_SECURITY_POLICY if path == DOCS_PATH else CONTENT_SECURITY_POLICY
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]
    if not path.startswith(STATIC_PREFIX):
        # Pages, API answers, PDFs, CSV and ZPL carry GMP and personal data: never stored.
        headers.append((b"cache-control", b"no-store"))
    if https:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class SecurityHeaders:
    """Adds :func:`security_headers` to every HTTP answer, replacing any the app set itself."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"], https=self.https)
        names = {name for name, _ in extra}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, with_headers)
