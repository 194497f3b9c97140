"""The columns of a file someone uploaded (a ticket's attachment, an inspection's photo)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

if TYPE_CHECKING:
    from itsm.accounts.models import User


class UploadedFile:
    """Who sent it, under which name, of which checked type, and where its bytes are kept
    (`storage_key`, under the instance's attachments folder)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]

    @declared_attr
    def uploaded_by(cls) -> Mapped[User]:  # noqa: N805 - a declared attribute takes the class
        return relationship("User", lazy="joined", innerjoin=True)
