"""Uploaded files in a request: kept only if the request's transaction commits, and sent back
with the type their content was checked to have (the API's and the pages' alike)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, send_file

from itsm.models.files import UploadedFile
from itsm.request_scope import db_session


def commit_keeping(path: Path) -> None:
    """Commit the request's session; the file written for it is removed if the commit fails."""
    try:
        db_session().commit()
    except Exception:
        path.unlink(missing_ok=True)
        raise


def send_uploaded(row: UploadedFile, inline_viewable: bool = False) -> Any:
    """The file's content; with `inline_viewable`, images and PDFs open in the browser and the
    rest downloads (the pages), otherwise everything is sent as it is (the API)."""
    root = current_app.config["ITSM_SETTINGS"].attachments_path
    viewable = row.content_type.startswith("image/") or row.content_type == "application/pdf"
    return send_file(
        root / row.storage_key,
        mimetype=row.content_type,
        download_name=row.filename,
        as_attachment=inline_viewable and not viewable,
    )
