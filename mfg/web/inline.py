"""Forms sent in the background by ``static/forms.js`` (header ``X-MFG-Form``): a success that
would redirect (303) is answered ``200 {"location": …}``, so that the script goes there itself
(a followed redirect would fetch the next page twice); a refusal is answered as JSON by the error
handler (``mfg.web.errors``), so that the script shows it on the form."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FORM_HEADER = b"x-mfg-form"
_REDIRECTS = (301, 302, 303, 307, 308)


def sent_inline(headers: Any) -> bool:
    """Was this request sent by the page script rather than by the browser's own post?
    ``headers``: a request's headers, or an ASGI scope's raw list of them."""
    if isinstance(headers, list):
        return any(name == FORM_HEADER for name, _ in headers)
    return bool(headers.get(FORM_HEADER.decode()))


class InlineFormRedirects:
    """Turns the redirect that ends a form post sent inline into ``{"location": …}``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not sent_inline(scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        redirected: dict[str, bytes] = {}

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in _REDIRECTS:
                headers = [(k, v) for k, v in message["headers"] if k.lower() == b"set-cookie"]
                location = dict(message["headers"]).get(b"location", b"/")
                redirected["body"] = json.dumps({"location": location.decode("latin-1")}).encode()
                headers += [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(redirected["body"])).encode()),
                    (b"cache-control", b"no-store"),
                ]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                return
            if message["type"] == "http.response.body" and redirected:
                if not message.get("more_body"):
                    await send({"type": "http.response.body", "body": redirected["body"]})
                return
            await send(message)

        await self.app(scope, receive, answer)
