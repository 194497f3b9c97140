"""A plain, self-contained API reference page rendered from our own OpenAPI (no CDN)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

blp = Blueprint("api_docs", __name__)


@blp.get("/api/v1/docs")
def docs() -> Any:
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template("api_docs.html", spec=spec)
