"""residents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('record_number_counter',
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('last_serial', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('prefix', name=op.f('pk_record_number_counter'))
    )
    op.create_table('household',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('head_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('owner_site', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('sync_state', sa.String(length=12), nullable=False),
    sa.Column('sync_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['head_id'], ['resident.id'], name='fk_household_head_id_resident', use_alter=True),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_household_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household')),
    sa.UniqueConstraint('uuid', name=op.f('uq_household_uuid'))
    )
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index('ix_household_sync_state', ['sync_state'], unique=False)
        batch_op.create_index(batch_op.f('ix_household_village_id'), ['village_id'], unique=False)

    op.create_table('resident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_no', sa.String(length=17), nullable=False),
    sa.Column('record_no_rev', sa.String(length=17), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('name_initials', sa.String(length=50), nullable=False),
    sa.Column('name_pinyin', sa.String(length=200), nullable=False),
    sa.Column('name_rev', sa.String(length=50), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('id_number_rev', sa.String(length=18), nullable=True),
    sa.Column('ethnicity', sa.String(length=20), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('phone_rev', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('relation_to_head', sa.String(length=2), nullable=True),
    sa.Column('insurance_type', sa.String(length=20), nullable=True),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('registered_by', sa.String(length=40), nullable=False),
    sa.Column('responsible_doctor_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('status_date', sa.Date(), nullable=True),
    sa.Column('status_note', sa.String(length=200), nullable=True),
    sa.Column('consent_given_by', sa.String(length=50), nullable=True),
    sa.Column('consent_on', sa.Date(), nullable=True),
    sa.Column('consent_notice_version', sa.String(length=20), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('owner_site', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('sync_state', sa.String(length=12), nullable=False),
    sa.Column('sync_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_resident_household_id_household')),
    sa.ForeignKeyConstraint(['responsible_doctor_id'], ['staff.id'], name=op.f('fk_resident_responsible_doctor_id_staff')),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], name=op.f('fk_resident_village_id_village')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident')),
    sa.UniqueConstraint('id_number', name=op.f('uq_resident_id_number')),
    sa.UniqueConstraint('record_no', name=op.f('uq_resident_record_no')),
    sa.UniqueConstraint('uuid', name=op.f('uq_resident_uuid'))
    )
    with op.batch_alter_table('resident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resident_birth_date'), ['birth_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_id_number_rev'), ['id_number_rev'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_name_initials'), ['name_initials'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_name_pinyin'), ['name_pinyin'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_name_rev'), ['name_rev'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_phone_rev'), ['phone_rev'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_record_no_rev'), ['record_no_rev'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_responsible_doctor_id'), ['responsible_doctor_id'], unique=False)
        batch_op.create_index('ix_resident_sync_state', ['sync_state'], unique=False)
        batch_op.create_index('ix_resident_village_status', ['village_id', 'status'], unique=False)

    op.create_table('resident_condition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('since', sa.Date(), nullable=True),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('owner_site', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('sync_state', sa.String(length=12), nullable=False),
    sa.Column('sync_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_resident_condition_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_condition')),
    sa.UniqueConstraint('resident_id', 'kind', name=op.f('uq_resident_condition_resident_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_resident_condition_uuid'))
    )
    with op.batch_alter_table('resident_condition', schema=None) as batch_op:
        batch_op.create_index('ix_resident_condition_kind', ['kind', 'resident_id'], unique=False)
        batch_op.create_index('ix_resident_condition_sync_state', ['sync_state'], unique=False)



def downgrade() -> None:
    raise NotImplementedError("township-desk never migrates down; restore a backup instead")
