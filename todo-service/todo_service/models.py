"""SQLAlchemy models: the todos table, owned per user (the token's subject), versioned for If-Match."""

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service_kit.db import UTCDateTime, utcnow

TITLE_MAX_LENGTH = 500


def created_at_of_the_row(context) -> datetime:
    """A new row's updated_at is its created_at: one clock reading, never a millisecond apart."""
    return context.get_current_parameters()["created_at"]


class Base(DeclarativeBase):
    pass


class Todo(Base):
    __tablename__ = "todos"
    __table_args__ = (
        # Keyset pages of one owner, in list order: the only way todos are listed.
        Index("ix_todos_owner_position_id", "owner_id", "position", "id"),
        UniqueConstraint("owner_id", "idempotency_key", name="uq_todos_owner_idempotency_key"),
        # Ids are never reused (PostgreSQL's sequences never do): an old URL or ETag must not
        # reach a newer todo.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The token's subject; users live in user-service's database, so there is no foreign key.
    owner_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(TITLE_MAX_LENGTH))
    completed: Mapped[bool] = mapped_column(default=False)
    # The API's `order`; a column named "order" would need quoting in every statement.
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=created_at_of_the_row, onupdate=utcnow
    )
    # Bumped by every UPDATE (WHERE version = <read>): the ETag, and lost updates become 412s.
    version: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # sha256 of the creating request's body: a reused key with another body is refused.
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
