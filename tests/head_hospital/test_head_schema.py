"""The head hospital's schema comes from its migrations and matches the models; a newer database is refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from desktop.errors import UserFacingError
from head_hospital.db import HeadDatabase, open_database
from head_hospital.models import Base


def test_migrations_build_exactly_the_models_schema(head_db: HeadDatabase) -> None:
    with head_db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert context.get_current_revision() == "0002_request_nonce"


def test_opening_again_keeps_the_key_and_a_newer_schema_is_refused(head_db: HeadDatabase) -> None:
    again = open_database(head_db.url)
    assert again.keys.public == head_db.keys.public and again.name == "白水县人民医院"
    again.dispose()
    with head_db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(UserFacingError, match="更新版本"):
        open_database(head_db.url)
