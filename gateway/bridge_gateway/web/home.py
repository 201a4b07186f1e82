"""GET /: the page a browser lands on after signing in, until the dashboard issue replaces it."""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from string import Template

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bridge_gateway.sessions import Settings, signed_in_store

router = APIRouter(include_in_schema=False)


@cache
def _template() -> Template:
    return Template(resources.files("bridge_gateway.web").joinpath("templates/home.html").read_text(encoding="utf-8"))


@router.get("/", response_class=HTMLResponse)
def home(request: Request, settings: Settings) -> HTMLResponse:
    store = signed_in_store(request, settings)
    signed_in = f"Signed in to the store <strong>{html.escape(store)}</strong>." if store else "Nobody is signed in."
    return HTMLResponse(_template().substitute(signed_in=signed_in))
