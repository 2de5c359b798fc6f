"""Error pages: plain words, the office's phone, never a stack trace or a technical detail."""

from __future__ import annotations

from aiohttp import web

from proxy.views.base import office, render
from proxy.views.wording import unreachable

# For a Host naming no office. Deliberately the same bytes for every such request, with no
# office name, no list of offices and no link: it must not help anyone enumerate tenants.
UNKNOWN_SITE_BODY = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>Not found</title></head><body><main><h1>Not found</h1>"
    "<p>There is no page at this address.</p></main></body></html>\n"
)


def unknown_site() -> web.Response:
    return web.Response(status=404, text=UNKNOWN_SITE_BODY, content_type="text/html")


_PAGES = {
    400: ("Something was not right", "Please go back and try again."),
    403: (
        "Please try that again",
        "For your safety we could not accept that form. Please go back, reload the page and "
        "try again.",
    ),
    404: ("Page not found", "There is no page at this address."),
    405: ("Page not found", "There is no page at this address."),
    408: ("That took too long", "The form did not arrive in time. Please go back and try again."),
    413: ("That was too much", "The form was too large. Please go back and try again."),
    429: ("Too many attempts", "Too many attempts; wait a minute and try again."),
}


def error_page(request: web.Request, status: int) -> web.Response:
    here = office(request)
    title, message = _PAGES.get(
        status,
        (
            "Something went wrong",
            f"Something went wrong on our side. Please try again, or call {here.phone}.",
        ),
    )
    if status == 503:
        title, message = "We can't reach the office", unreachable(here)
    context = {"title": title, "message": message, "back": "/"}
    return render(request, "message.html", context, status)


def plain_error(status: int) -> web.Response:
    """The last resort when even the error page cannot be rendered."""
    return web.Response(
        status=status,
        text="Something went wrong. Please try again later.",
        content_type="text/plain",
    )
