"""The local database: engine and pragmas, sessions, schema checks, migrations, backups.

Every connection is opened by desktop/sqlite_driver.py (SQLCipher, keyed with the site's database
key) and gets WAL, synchronous=FULL, foreign keys and a busy timeout. SQLAlchemy's pysqlite dialect
runs over the sqlcipher3 module. The driver's own transaction handling is switched off and BEGIN is
emitted by us (SQLAlchemy's documented recipe), so savepoints work and writers take the lock up front.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from desktop import sqlite_driver
from desktop.dbfile import (  # noqa: F401 - re-exported: the file-level half of the database
    BUSY_TIMEOUT_MS,
    SCHEMA_HEAD,
    alembic_config,
    apply_pragmas,
    backup_to,
    check_openable,
    is_disk_full,
    known_revisions,
    open_sqlite,
    read_branch,
    run_check,
    script_directory,
    stored_revision,
)
from desktop.errors import DiskFull
from desktop.site_secrets import SiteSecrets

log = logging.getLogger("township_desk.db")

IMMEDIATE_OPTION = "sqlite_begin_immediate"


def _on_connect(dbapi_connection: sqlite_driver.Connection, connection_record: Any) -> None:
    apply_pragmas(dbapi_connection)


def _on_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get(IMMEDIATE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(path: Path, *, key: bytes | None) -> Engine:
    """An engine on the database file, keyed, with the house pragmas on every connection.

    Connections are pooled (opening one and applying the pragmas costs more than a typical
    search); `dispose()` closes them all, as restore and shutdown need.
    """

    def creator() -> sqlite_driver.Connection:
        return sqlite_driver.connect(path, key=key, check_same_thread=False)

    engine = create_engine(f"sqlite:///{path}", creator=creator, module=sqlite_driver.driver,
                           poolclass=QueuePool, pool_size=4, max_overflow=4, pool_use_lifo=True, future=True)
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


class Database:
    """One SQLite file. Reads and writes go through `read()` and `write()` sessions.

    Every session carries the site's secrets in `session.info["secrets"]` (the audit chain's key).
    """

    def __init__(self, path: Path, secrets: SiteSecrets) -> None:
        self.path = Path(path)
        self.secrets = secrets
        self.engine = make_engine(self.path, key=secrets.database_key)
        info = self._info = {"secrets": secrets, "database_path": self.path}  # the audit anchor lives beside the file
        self._reader = sessionmaker(bind=self.engine, expire_on_commit=False, info=info)
        self._writer = sessionmaker(
            bind=self.engine.execution_options(**{IMMEDIATE_OPTION: True}), expire_on_commit=False, info=info
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; rolled back at the end."""
        with self._reader() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session holding the write lock; commits on success, rolls back on any error."""
        with self._writer() as session:
            try:
                yield session
                session.commit()
            except OperationalError as error:
                session.rollback()
                if is_disk_full(error):
                    raise DiskFull(details=str(getattr(error, "orig", error))) from error
                raise
            except BaseException:
                session.rollback()
                raise

    def raw_connection(self) -> sqlite_driver.Connection:
        """A keyed driver connection with the house pragmas (for checks and backups)."""
        return open_sqlite(self.path, key=self.secrets.database_key)

    def replace_secrets(self, secrets: SiteSecrets) -> None:
        """New secrets with the same database key (the recovery key shown, for instance)."""
        if secrets.database_key != self.secrets.database_key:
            raise ValueError("the database key changes only by re-keying with the engine disposed")
        self.secrets = secrets
        self._info["secrets"] = secrets

    def dispose(self) -> None:
        self.engine.dispose()


def upgrade_to_head(database: Database) -> None:
    """Apply every pending migration in one go."""
    from alembic import command

    with database.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


