"""The browser page clinicians use to submit a note and watch its job run (``/ui``).

Static files only: the page talks to the same JSON API and SSE feed as any client, with the API
key the user types (kept in the tab's memory). A strict Content-Security-Policy allows nothing
but this origin's own files, so the page loads no third-party code near patient text.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, redirect, send_from_directory

bp = Blueprint("ui", __name__)
FILES = Path(__file__).with_name("ui")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@bp.get("/")
def home():
    return redirect("/ui/", code=302)


@bp.get("/ui/")
@bp.get("/ui/<any('app.js', 'patient.js', 'style.css'):name>")
def page(name: str = "index.html"):
    resp = send_from_directory(FILES, name, max_age=0)
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp
