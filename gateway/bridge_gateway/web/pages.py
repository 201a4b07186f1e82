"""Server-rendered pages: one template, every text HTML-escaped here, and `CLOSE_LOADER` on every page
(each can be the first page the ikas admin iframe shows, ikas-api.md §3.1)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from functools import cache
from importlib import resources
from string import Template

from fastapi.responses import HTMLResponse


@cache
def _template() -> Template:
    return Template(resources.files("bridge_gateway.web").joinpath("templates/page.html").read_text(encoding="utf-8"))


def paragraphs(*texts: str) -> str:
    """Plain texts as escaped paragraphs."""
    return "".join(f"<p>{html.escape(text)}</p>" for text in texts)


def page(
    title: str,
    body_html: str,
    *,
    status_code: int = 200,
    data: Mapping[str, str] | None = None,
    script: str = "",
) -> HTMLResponse:
    """A page; `body_html` and `script` are trusted markup (escape what goes into them), `data` becomes
    escaped data-* attributes of <main id="page">, which is how values reach a script without being code."""
    attributes = " ".join(f'data-{name}="{html.escape(value, quote=True)}"' for name, value in (data or {}).items())
    content = _template().substitute(
        title=html.escape(title if title == "Bridge" else f"{title} - Bridge"),
        heading=html.escape(title),
        body=body_html,
        data=attributes,
        script=f"<script>{script}</script>" if script else "",
    )
    return HTMLResponse(content, status_code=status_code, headers={"Cache-Control": "no-store"})


@cache
def _dashboard_template() -> Template:
    return Template(
        resources.files("bridge_gateway.web").joinpath("templates/dashboard.html").read_text(encoding="utf-8")
    )


def dashboard_page(store_name: str) -> HTMLResponse:
    """The dashboard shell (product.md §7); the tabs are built by /static/main.js from the REST API."""
    content = _dashboard_template().substitute(store=html.escape(store_name, quote=True))
    return HTMLResponse(content, headers={"Cache-Control": "no-store"})


def message_page(title: str, *texts: str, status_code: int = 200) -> HTMLResponse:
    return page(title, paragraphs(*texts), status_code=status_code)
