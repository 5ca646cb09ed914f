"""SQLAlchemy models: users (credentials), their login sessions, and the attempts the login and
registration limits count."""

import secrets
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service_kit.db import UTCDateTime, utcnow

USERNAME_MAX_LENGTH = 32


def new_session_id() -> str:
    return secrets.token_urlsafe(32)  # 256 bits: a session id is a bearer secret


class Base(DeclarativeBase):
    # Named constraints, so migrations can drop or alter them on every backend.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_name)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime}  # noqa: RUF012


class User(Base):
    __tablename__ = "users"
    # Usernames are stored lower-cased, so the unique constraint is case-insensitive.
    __table_args__ = (CheckConstraint("username = lower(username)", name="username_lower_case"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Session(Base):
    __tablename__ = "sessions"
    __table_args__ = (CheckConstraint("kind IN ('cookie', 'bearer')", name="kind"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_session_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Absolute limit, fixed at creation: activity (last_seen_at) never extends it. Indexed:
    # sessions past it are deleted by it.
    expires_at: Mapped[datetime] = mapped_column(index=True)
    # Indexed: the feed of revoked sessions reads the few revoked ones among all.
    revoked_at: Mapped[datetime | None] = mapped_column(index=True)
    # How the session began: "cookie" (a browser's login, whose cookie is renewed while in use)
    # or "bearer" (an API client's token, never renewed). Sessions that began before it was
    # recorded count as "bearer": nothing says they were cookie logins.
    kind: Mapped[str] = mapped_column(String(16), server_default="bearer")


class ClientAttempt(Base):
    """One login (pending, failed or done) or registration by a client address, kept while its
    window lasts; logins name the username as typed."""

    __tablename__ = "client_attempts"
    __table_args__ = (
        # The limits read one client's latest attempts of one action, and one username's.
        Index("ix_client_attempts_client_action_at", "client", "action", "at"),
        Index("ix_client_attempts_username_at", "username", "at"),
    )

    # 64-bit: attempts are written on every login, for as long as the service runs.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    username: Mapped[str | None] = mapped_column(String(64))
    # Indexed on its own too: expired attempts of every client are deleted by it.
    at: Mapped[datetime] = mapped_column(index=True)
