"""throttle logins by username and client, not by locking accounts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Failed logins count per (username as typed, client) in client_attempts: an account lock,
    # which anyone could trigger for anyone, is gone.
    with op.batch_alter_table("client_attempts") as batch:
        batch.add_column(sa.Column("username", sa.String(length=64), nullable=True))
        batch.create_index("ix_client_attempts_username_at", ["username", "at"])
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("client_attempts") as batch:
        batch.drop_index("ix_client_attempts_username_at")
        batch.drop_column("username")
