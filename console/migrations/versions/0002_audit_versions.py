"""Audit log (who, what, when, before/after) and content versions (for revert).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the audit and version tables."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_name", sa.String(80), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "content_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("content", sa.Text),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("note", sa.String(255), nullable=False, server_default=""),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_content_versions_path", "content_versions", ["path"])


def downgrade() -> None:
    """Drop the audit and version tables."""
    op.drop_table("content_versions")
    op.drop_table("audit_log")
