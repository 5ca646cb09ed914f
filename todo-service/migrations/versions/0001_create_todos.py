"""create todos

Revision ID: 0001
Revises:
Create Date: 2025-11-25 09:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "todos",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("idempotency_fingerprint", sa.String(64), nullable=True),
        sa.UniqueConstraint("owner_id", "idempotency_key", name="uq_todos_owner_idempotency_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_todos_owner_position_id", "todos", ["owner_id", "position", "id"])


def downgrade() -> None:
    op.drop_index("ix_todos_owner_position_id", table_name="todos")
    op.drop_table("todos")
