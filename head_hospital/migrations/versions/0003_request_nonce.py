"""request_nonce: the one-time values of signed requests, remembered for the clock window

Revision ID: 0003_request_nonce
Revises: 0002_audit_anchor
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_request_nonce'
down_revision = '0002_audit_anchor'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('request_nonce',
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('site_id', 'nonce')
    )
    op.create_index(op.f('ix_request_nonce_expires_at'), 'request_nonce', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_request_nonce_expires_at'), table_name='request_nonce')
    op.drop_table('request_nonce')
