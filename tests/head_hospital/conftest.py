"""Fixtures for the head hospital tests: a fresh database on SQLite and, when one is given, on PostgreSQL.

`HEAD_HOSPITAL_TEST_PG_URL` names a PostgreSQL database the tests may use to create and drop
their own databases (`./run test` starts a throwaway cluster and sets it). Without it the
PostgreSQL cases skip, unless TOWNSHIP_DESK_REQUIRE_TOOLS=1, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from head_hospital.app import create_app
from head_hospital.db import HeadDatabase, open_database

REQUIRE_TOOLS = os.environ.get("TOWNSHIP_DESK_REQUIRE_TOOLS") == "1"
PG_URL = os.environ.get("HEAD_HOSPITAL_TEST_PG_URL", "")


def _admin_connection():
    import psycopg

    url = make_url(PG_URL)
    return psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                           dbname=url.database or "postgres", autocommit=True)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL URL given for tests, or skip (fail where the tools are required)."""
    if not PG_URL:
        if REQUIRE_TOOLS:
            pytest.fail("HEAD_HOSPITAL_TEST_PG_URL is required here (PostgreSQL) but is not set")
        pytest.skip("HEAD_HOSPITAL_TEST_PG_URL is not set (no PostgreSQL for the tests)")
    return PG_URL


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"head_test_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin_connection() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL on each backend in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'head.sqlite'}"
    return request.getfixturevalue("pg_database")


@pytest.fixture
def head_db(db_url: str) -> Iterator[HeadDatabase]:
    db = open_database(db_url, name="白水县人民医院")
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[HeadDatabase]:
    """The head hospital's database on SQLite only (for checks that do not depend on the backend)."""
    db = open_database(str(tmp_path / "head.sqlite"), name="白水县人民医院")
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def client(head_db: HeadDatabase) -> Iterator[TestClient]:
    with TestClient(create_app(head_db)) as test_client:
        yield test_client
