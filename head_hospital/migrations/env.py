"""Alembic environment of the head hospital's database: always run on a connection from head_hospital.db."""

from __future__ import annotations

from alembic import context

from head_hospital.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("head hospital migrations run only through head_hospital.db.open_database")
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
