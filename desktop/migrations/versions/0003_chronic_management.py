"""chronic-disease management: enrolments, follow-up visits, health checks

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chronic_enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('disease', sa.String(length=20), nullable=False),
    sa.Column('diagnosed_on', sa.Date(), nullable=False),
    sa.Column('managed_from', sa.Date(), nullable=False),
    sa.Column('responsible_doctor_id', sa.Integer(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.String(length=100), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('owner_site', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('sync_state', sa.String(length=12), nullable=False),
    sa.Column('sync_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_chronic_enrolment_resident_id_resident')),
    sa.ForeignKeyConstraint(['responsible_doctor_id'], ['staff.id'], name=op.f('fk_chronic_enrolment_responsible_doctor_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chronic_enrolment')),
    sa.UniqueConstraint('uuid', name=op.f('uq_chronic_enrolment_uuid'))
    )
    op.create_index('ix_chronic_enrolment_resident', 'chronic_enrolment', ['resident_id', 'disease'], unique=False)
    op.create_index('ix_chronic_enrolment_sync_state', 'chronic_enrolment', ['sync_state'], unique=False)
    op.create_index('uq_chronic_enrolment_open', 'chronic_enrolment', ['resident_id', 'disease'], unique=True, sqlite_where=sa.text('ended_on IS NULL AND deleted = 0'))
    op.create_table('health_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('check_date', sa.Date(), nullable=False),
    sa.Column('sbp', sa.Integer(), nullable=True),
    sa.Column('dbp', sa.Integer(), nullable=True),
    sa.Column('heart_rate', sa.Integer(), nullable=True),
    sa.Column('height', sa.Float(), nullable=True),
    sa.Column('weight', sa.Float(), nullable=True),
    sa.Column('waist', sa.Float(), nullable=True),
    sa.Column('bmi', sa.Float(), nullable=True),
    sa.Column('self_care', sa.JSON(), nullable=False),
    sa.Column('self_care_total', sa.Integer(), nullable=True),
    sa.Column('lifestyle', sa.JSON(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('evaluation_abnormal', sa.Boolean(), nullable=False),
    sa.Column('evaluation_note', sa.String(length=500), nullable=True),
    sa.Column('guidance', sa.JSON(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=True),
    sa.Column('doctor_name', sa.String(length=50), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('owner_site', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('sync_state', sa.String(length=12), nullable=False),
    sa.Column('sync_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['doctor_id'], ['staff.id'], name=op.f('fk_health_check_doctor_id_staff')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_health_check_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_check')),
    sa.UniqueConstraint('uuid', name=op.f('uq_health_check_uuid'))
    )
    op.create_index(op.f('ix_health_check_check_date'), 'health_check', ['check_date'], unique=False)
    op.create_index('ix_health_check_resident_day', 'health_check', ['resident_id', 'check_date'], unique=False)
    op.create_index('ix_health_check_sync_state', 'health_check', ['sync_state'], unique=False)
    op.create_table('followup_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('disease', sa.String(length=20), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=1), nullable=False),
    sa.Column('symptoms', sa.JSON(), nullable=False),
    sa.Column('symptoms_other', sa.String(length=200), nullable=True),
    sa.Column('sbp', sa.Integer(), nullable=True),
    sa.Column('dbp', sa.Integer(), nullable=True),
    sa.Column('weight', sa.Float(), nullable=True),
    sa.Column('target_weight', sa.Float(), nullable=True),
    sa.Column('height', sa.Float(), nullable=True),
    sa.Column('heart_rate', sa.Integer(), nullable=True),
    sa.Column('foot_pulse', sa.String(length=1), nullable=True),
    sa.Column('foot_pulse_side', sa.String(length=4), nullable=True),
    sa.Column('signs_other', sa.String(length=200), nullable=True),
    sa.Column('lifestyle', sa.JSON(), nullable=False),
    sa.Column('fasting_glucose', sa.Float(), nullable=True),
    sa.Column('hba1c', sa.Float(), nullable=True),
    sa.Column('hba1c_date', sa.Date(), nullable=True),
    sa.Column('tests_other', sa.String(length=200), nullable=True),
    sa.Column('medication_adherence', sa.String(length=1), nullable=True),
    sa.Column('adverse_reaction', sa.Boolean(), nullable=False),
    sa.Column('adverse_reaction_note', sa.String(length=200), nullable=True),
    sa.Column('hypoglycemia', sa.String(length=1), nullable=True),
    sa.Column('new_complication', sa.Boolean(), nullable=False),
    sa.Column('classification', sa.String(length=1), nullable=False),
    sa.Column('suggested_classification', sa.String(length=1), nullable=False),
    sa.Column('override_reason', sa.String(length=200), nullable=True),
    sa.Column('next_step', sa.String(length=1), nullable=False),
    sa.Column('medications', sa.JSON(), nullable=False),
    sa.Column('insulin', sa.String(length=100), nullable=True),
    sa.Column('referral_reason', sa.String(length=200), nullable=True),
    sa.Column('referral_to', sa.String(length=100), nullable=True),
    sa.Column('emergency_reasons', sa.JSON(), nullable=False),
    sa.Column('referral_uuid', sa.String(length=36), nullable=True),
    sa.Column('next_visit_date', sa.Date(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=True),
    sa.Column('doctor_name', sa.String(length=50), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('owner_site', sa.String(length=36), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('sync_state', sa.String(length=12), nullable=False),
    sa.Column('sync_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['doctor_id'], ['staff.id'], name=op.f('fk_followup_visit_doctor_id_staff')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['chronic_enrolment.id'], name=op.f('fk_followup_visit_enrolment_id_chronic_enrolment')),
    sa.ForeignKeyConstraint(['resident_id'], ['resident.id'], name=op.f('fk_followup_visit_resident_id_resident')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_visit')),
    sa.UniqueConstraint('uuid', name=op.f('uq_followup_visit_uuid'))
    )
    op.create_index('ix_followup_visit_day', 'followup_visit',
                    ['visit_date', 'deleted', 'disease', 'resident_id', 'method', 'sbp', 'dbp', 'fasting_glucose'],
                    unique=False)
    op.create_index('ix_followup_visit_enrolment_day', 'followup_visit', ['enrolment_id', 'visit_date'], unique=False)
    op.create_index('ix_followup_visit_resident_day', 'followup_visit', ['resident_id', 'disease', 'visit_date'], unique=False)
    op.create_index('ix_followup_visit_sync_state', 'followup_visit', ['sync_state'], unique=False)


def downgrade() -> None:
    raise NotImplementedError("township-desk never migrates down; restore a backup instead")
