"""Jobs on many workers: entry rows, chunks with leases, a guarded finish step, and log order.

- ``job_entries``: one row per entry of assetHandleArray (state, output name, sha256, error);
- ``job_chunks``: the entries a worker claims at once, with the lease of their owner;
- ``jobs.finisher`` / ``finish_expires``: the claim on the finish step; ``mail_pending``: Done
  but the digest not yet sent;
- ``job_log.position``: log lines read in array order whatever order workers finish in.

Jobs that were running when the database was upgraded have no entry rows: they were run by
the old single-process runner, which is gone; they keep their logs as they are.

Revision ID: 0003_job_entries
Revises: 0002_shared_state
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_job_entries"
down_revision = "0002_shared_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as jobs:
        jobs.add_column(sa.Column("finisher", sa.String(200), nullable=True))
        jobs.add_column(sa.Column("finish_expires", sa.DateTime(), nullable=True))
        jobs.add_column(
            sa.Column("mail_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("job_log") as log:
        log.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "job_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("jobs.id"), nullable=False, index=True),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("handle", sa.String(200), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("chunk", sa.Integer(), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("bytes", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("aux", sa.JSON(), nullable=False),
        sa.UniqueConstraint("job_id", "idx"),
    )
    op.create_table(
        "job_chunks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("jobs.id"), nullable=False, index=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False, index=True),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("lease_expires", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.UniqueConstraint("job_id", "number"),
    )


def downgrade() -> None:
    op.drop_table("job_chunks")
    op.drop_table("job_entries")
    with op.batch_alter_table("job_log") as log:
        log.drop_column("position")
    with op.batch_alter_table("jobs") as jobs:
        jobs.drop_column("mail_pending")
        jobs.drop_column("finish_expires")
        jobs.drop_column("finisher")
