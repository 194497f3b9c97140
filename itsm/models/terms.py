"""A published version of one part of a contract's terms (its SLA policy, its inspection plan):
the same columns for each, and one way to read the newest, publish the next, and publish the
shipped one as version 1."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import JSON, ForeignKey, Integer, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, relationship

from itsm import clock

if TYPE_CHECKING:
    from itsm.directory.models import Contract


class PublishedTerms:
    """One published version; what was made under it keeps it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    @declared_attr
    def contract(cls) -> Mapped[Contract]:  # noqa: N805 - a declared attribute takes the class
        return relationship("Contract", lazy="joined", innerjoin=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805
        return (UniqueConstraint("contract_id", "version"),)


T = TypeVar("T", bound=PublishedTerms)


def newest(session: Session, model: type[T], contract_id: int) -> T | None:
    return session.scalar(
        select(model)
        .where(model.contract_id == contract_id)
        .order_by(model.version.desc())
        .limit(1)
    )


def publish(
    session: Session,
    model: type[T],
    contract_id: int,
    document: dict[str, Any],
    published_by_id: int | None,
    version: int,
) -> T:
    make: Any = model  # a mapped subclass: its constructor takes the columns
    row: T = make(
        contract_id=contract_id,
        version=version,
        document=document,
        published_at=clock.now(),
        published_by_id=published_by_id,
    )
    session.add(row)
    session.flush()
    return row


def publish_first(
    session: Session, model: type[T], contract_id: int, document: dict[str, Any]
) -> T | None:
    """Version 1 from a shipped document; another request may publish it first, then theirs."""
    try:
        with session.begin_nested():
            return publish(session, model, contract_id, document, None, 1)
    except IntegrityError:
        return session.scalar(
            select(model).where(model.contract_id == contract_id, model.version == 1)
        )
