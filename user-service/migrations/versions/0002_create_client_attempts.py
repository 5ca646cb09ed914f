"""create client_attempts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The attempts user-service's per-client limits count (failed logins, registrations).
    op.create_table(
        "client_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_attempts")),
    )
    op.create_index(op.f("ix_client_attempts_at"), "client_attempts", ["at"])
    op.create_index(
        "ix_client_attempts_client_action_at", "client_attempts", ["client", "action", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_client_attempts_client_action_at", table_name="client_attempts")
    op.drop_index(op.f("ix_client_attempts_at"), table_name="client_attempts")
    op.drop_table("client_attempts")
