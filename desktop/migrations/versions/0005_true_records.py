"""true records: the whole 个人基本信息表, corrections and voids, visit fields, record-move requests

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

EMPTY_LIST = sa.text("'[]'")
EMPTY_OBJECT = sa.text("'{}'")
CORRECTION_COLUMNS = (
    ('correction_reason', sa.String(length=200)), ('corrected_at', sa.DateTime()),
    ('void_reason', sa.String(length=200)), ('voided_at', sa.DateTime()),
)
RESIDENT_TEXT_COLUMNS = (
    ('residence_type', 1), ('work_unit', 100), ('contact_name', 50), ('contact_phone', 20), ('blood_type', 1),
    ('rh_negative', 1), ('education', 2), ('occupation', 2), ('marital_status', 1), ('payment_other', 100),
    ('drug_allergy_other', 100), ('genetic_disease', 100), ('disability_other', 100),
)
RESIDENT_JSON_COLUMNS = (
    ('payment_methods', EMPTY_LIST), ('drug_allergies', EMPTY_LIST), ('exposures', EMPTY_LIST),
    ('past_history', EMPTY_OBJECT), ('family_history', EMPTY_OBJECT), ('disabilities', EMPTY_LIST),
    ('living_environment', EMPTY_OBJECT),
)


def upgrade() -> None:
    _resident_transfer()
    # A plain ADD COLUMN: the audit table keeps its append-only triggers (a batch copy would drop them).
    op.add_column('audit_entry', sa.Column('details', sa.JSON(), nullable=True))
    with op.batch_alter_table('followup_visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('measurement', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('insulin_dose', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('medication_advice', sa.JSON(), nullable=False, server_default=EMPTY_LIST))
        batch_op.add_column(sa.Column('referral_result', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('referral_contact', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('resident_signed', sa.Boolean(), nullable=False, server_default=sa.false()))
        for name, type_ in CORRECTION_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.alter_column('classification', existing_type=sa.VARCHAR(length=1), nullable=True)
        batch_op.alter_column('suggested_classification', existing_type=sa.VARCHAR(length=1), nullable=True)
    # Where earlier visits' readings came from: a phone visit's can only be the patient's own.
    op.execute("UPDATE followup_visit SET measurement = CASE "
               "WHEN sbp IS NULL AND fasting_glucose IS NULL THEN '3' "
               "WHEN method = '3' THEN '2' ELSE '1' END")
    with op.batch_alter_table('health_check', schema=None) as batch_op:
        batch_op.add_column(sa.Column('symptoms', sa.JSON(), nullable=False, server_default=EMPTY_LIST))
        batch_op.add_column(sa.Column('examination', sa.JSON(), nullable=False, server_default=EMPTY_OBJECT))
        for name, type_ in CORRECTION_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.alter_column('evaluation_abnormal', existing_type=sa.BOOLEAN(), nullable=True)
    # Plain ADD COLUMNs: a batch copy of the resident table would trip the foreign keys that point at it.
    for name, length in RESIDENT_TEXT_COLUMNS:
        op.add_column('resident', sa.Column(name, sa.String(length=length), nullable=True))
    for name, default in RESIDENT_JSON_COLUMNS:
        op.add_column('resident', sa.Column(name, sa.JSON(), nullable=False, server_default=default))


def _resident_transfer() -> None:
    op.create_table('resident_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('from_village_id', sa.Integer(), nullable=False),
    sa.Column('to_village_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('requested_by', sa.String(length=50), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.String(length=50), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.String(length=200), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('owner_site', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('sync_state', sa.String(length=12), nullable=False),
    sa.Column('sync_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['from_village_id'], ['village.id'], name=op.f('fk_resident_transfer_from_village_id_village')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_resident_transfer_resident_id_resident')),
    sa.ForeignKeyConstraint(['to_village_id'], ['village.id'], name=op.f('fk_resident_transfer_to_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_transfer')),
    sa.UniqueConstraint('uuid', name=op.f('uq_resident_transfer_uuid'))
    )
    op.create_index('ix_resident_transfer_resident_id', 'resident_transfer', ['resident_id'], unique=False)
    op.create_index('ix_resident_transfer_status', 'resident_transfer', ['status', 'to_village_id'], unique=False)
    op.create_index('ix_resident_transfer_sync_state', 'resident_transfer', ['sync_state'], unique=False)


def downgrade() -> None:
    raise NotImplementedError("schema 0005 cannot be downgraded; restore the backup taken before the upgrade")
