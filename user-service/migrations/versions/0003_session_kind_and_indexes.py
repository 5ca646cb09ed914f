"""sessions: how each began (kind), and indexes for deleting expired and listing revoked ones

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing sessions become "bearer": whether they began as cookie logins was not recorded,
    # and a session is renewed as a cookie only when it certainly did.
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), server_default="bearer", nullable=False)
        )
        batch.create_check_constraint(op.f("ck_sessions_kind"), "kind IN ('cookie', 'bearer')")
    op.create_index(op.f("ix_sessions_expires_at"), "sessions", ["expires_at"])
    op.create_index(op.f("ix_sessions_revoked_at"), "sessions", ["revoked_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sessions_revoked_at"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_expires_at"), table_name="sessions")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_constraint(op.f("ck_sessions_kind"), type_="check")
        batch.drop_column("kind")
