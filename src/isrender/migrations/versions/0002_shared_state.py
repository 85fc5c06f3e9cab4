"""State several server processes share: Idempotency-Key records of the JSON API submit.

(The signing key is a file, ``data_dir/secret_key``, not a table.)

Revision ID: 0002_shared_state
Revises: 0001_baseline
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_shared_state"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("company_id", sa.Integer(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column(
            "job_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("company_id", "user_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
