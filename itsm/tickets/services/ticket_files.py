"""Comments and attachments on a ticket."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from itsm import clock
from itsm.accounts.services.access import Actor
from itsm.errors import InvalidInput, NotFound
from itsm.models.types import Role
from itsm.tickets.models import Attachment, Comment, Ticket
from itsm.tickets.services.tickets import get_ticket, record_event

# Accepted kinds of file, by extension, each with the leading bytes its content must have.
_SIGNATURES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".txt": ("text/plain", ()),
    ".log": ("text/plain", ()),
}
ACCEPTED_EXTENSIONS = tuple(sorted(_SIGNATURES))
# Kept out of stored file names: control characters (PostgreSQL refuses NUL) and lone surrogates.
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def add_comment(
    session: Session, actor: Actor, ticket_id: int, body: str, internal: bool = False
) -> Comment:
    ticket = get_ticket(session, actor, ticket_id)
    if internal and actor.role == Role.REQUESTER:
        raise InvalidInput("a requester cannot write internal notes")
    now = clock.now()
    comment = Comment(
        ticket_id=ticket.id, author_id=actor.user_id, body=body, internal=internal, created_at=now
    )
    _add_to_ticket(session, ticket, actor, comment, now)
    record_event(
        session,
        ticket,
        actor,
        "comment",
        at=now,
        data={"comment_id": comment.id, "internal": internal},
    )
    return comment


def _add_to_ticket(
    session: Session, ticket: Ticket, actor: Actor, row: Comment | Attachment, now: datetime
) -> None:
    """Insert a comment or attachment row and touch its ticket."""
    session.add(row)
    ticket.updated_at = now
    session.flush()


def list_comments(session: Session, actor: Actor, ticket_id: int) -> list[Comment]:
    get_ticket(session, actor, ticket_id)
    query = select(Comment).where(Comment.ticket_id == ticket_id)
    if actor.role == Role.REQUESTER:
        query = query.where(Comment.internal.is_(False))
    return list(session.scalars(query.order_by(Comment.created_at, Comment.id)))


def sniff_content_type(filename: str, head: bytes) -> str:
    """The content type of an accepted file, checked against its first bytes."""
    ext = os.path.splitext(filename)[1].lower()
    if ext not in _SIGNATURES:
        raise InvalidInput(
            f"files of type {ext or '(none)'} are not accepted; "
            f"accepted: {', '.join(ACCEPTED_EXTENSIONS)}"
        )
    content_type, signatures = _SIGNATURES[ext]
    if signatures and not head.startswith(signatures):
        raise InvalidInput(f"{filename} does not look like a {ext} file")
    if content_type == "text/plain":
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a cut multi-byte sequence at the end is fine
                raise InvalidInput(f"{filename} is not UTF-8 text") from None
        if b"\x00" in head:
            raise InvalidInput(f"{filename} is not text")
    return content_type


def safe_filename(filename: str) -> str:
    """The name an upload is kept under: no folders, no control characters, at most 200
    characters (a long name keeps its extension)."""
    safe_name = os.path.basename(_UNSAFE_IN_NAME.sub("", filename).replace("\\", "/"))
    stem, ext = os.path.splitext(safe_name.strip())
    safe_name = (stem[: max(0, 200 - len(ext))] + ext)[:200]
    if not safe_name:
        raise InvalidInput("the file has no name")
    return safe_name


def store_upload(
    filename: str, content: bytes, storage_root: Path, folder: str, max_bytes: int
) -> tuple[dict[str, Any], Path]:
    """Check an upload (name, type by content, size) and write it under `storage_root/folder`:
    the columns of its `UploadedFile` row, and the file written (the caller removes it if its
    transaction fails)."""
    safe_name = safe_filename(filename)
    content_type = sniff_content_type(safe_name, content[:512])
    stored = write_file(content, storage_root / folder, max_bytes, safe_name)
    columns = {
        "filename": safe_name,
        "content_type": content_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "storage_key": str(stored.path.relative_to(storage_root)),
    }
    return columns, stored.path


@dataclass(frozen=True)
class StoredFile:
    path: Path
    size: int
    sha256: str


def write_file(content: bytes, folder: Path, max_bytes: int, filename: str) -> StoredFile:
    """Write an upload to disk atomically; the caller removes it if its transaction fails."""
    if not content:
        raise InvalidInput(f"{filename} is empty")
    if len(content) > max_bytes:
        raise InvalidInput(
            f"{filename} is {len(content):,} bytes; the limit is {max_bytes:,} bytes"
        )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / uuid.uuid4().hex
    tmp = path.with_suffix(".part")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return StoredFile(path, len(content), hashlib.sha256(content).hexdigest())


def add_attachment(
    session: Session,
    actor: Actor,
    ticket_id: int,
    filename: str,
    content: bytes,
    storage_root: Path,
    max_bytes: int,
) -> tuple[Attachment, Path]:
    """Check, store and record an upload; returns the row and the file written."""
    ticket = get_ticket(session, actor, ticket_id)
    columns, path = store_upload(filename, content, storage_root, str(ticket.id), max_bytes)
    now = clock.now()
    attachment = Attachment(
        ticket_id=ticket.id, uploaded_by_id=actor.user_id, created_at=now, **columns
    )
    _add_to_ticket(session, ticket, actor, attachment, now)
    record_event(
        session,
        ticket,
        actor,
        "attachment",
        at=now,
        data={"attachment_id": attachment.id, "filename": attachment.filename},
    )
    return attachment, path


def list_attachments(session: Session, actor: Actor, ticket_id: int) -> list[Attachment]:
    get_ticket(session, actor, ticket_id)
    return list(
        session.scalars(
            select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)
        )
    )


def get_attachment(
    session: Session, actor: Actor, ticket_id: int, attachment_id: int
) -> Attachment:
    get_ticket(session, actor, ticket_id)
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket_id:
        raise NotFound(f"attachment {attachment_id} not found on ticket {ticket_id}")
    return attachment
