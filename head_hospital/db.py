"""Opening the head hospital's database: SQLite by default, PostgreSQL by URL.

The schema is brought to the newest Alembic revision on open (`head_hospital/migrations`); a
database written by a newer version of the service is refused. SQLite connections get WAL, foreign
keys, synchronous=FULL and a busy timeout, and the pysqlite driver's own transaction handling
is replaced by an explicit `BEGIN IMMEDIATE` so writers take the lock up front.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from head_hospital.errors import Refused
from head_hospital.models import EventLog, ServerKey, utc_now
from township_wire.crypto import KeyPair
from township_wire.errors import UserFacingError

log = logging.getLogger("head_hospital.db")

DEFAULT_NAME = "县人民医院"
BUSY_TIMEOUT_MS = 30_000
_IMMEDIATE = "head_hospital_begin_immediate"
_MIGRATION_LOCK = 0x7DE5_0001


def database_url(text: str) -> str:
    """A SQLAlchemy URL from what was typed: a URL as is, a plain path as a SQLite file."""
    if "://" in text:
        try:
            make_url(text)
        except ArgumentError as error:
            raise UserFacingError(f"数据库地址格式错误：{text}") from error
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL", f"busy_timeout={BUSY_TIMEOUT_MS}"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get(_IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def alembic_config(connection: Any = None) -> Any:
    """The head hospital's Alembic configuration, optionally bound to an open connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def prepare(engine: Engine, name: str | None) -> tuple[KeyPair, str]:
    """Bring the schema up to date and read (or make) the key pair, in one transaction under a lock."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    with engine.execution_options(**{_IMMEDIATE: True}).begin() as connection:
        if connection.dialect.name == "postgresql":  # two processes opening a new database at once
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and current not in known:
            raise UserFacingError(f"总院数据库由更新版本的接收服务写入（结构版本 {current}），请升级本程序后再打开。")
        command.upgrade(alembic_config(connection), "head")
        return _server_key(Session(bind=connection), name)


def make_engine(url: str) -> Engine:
    """An engine for `url` with the house settings for its backend."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
                               pool_size=8, max_overflow=8)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)


@dataclass
class HeadDatabase:
    """The service's database and its own key pair."""

    url: str
    engine: Engine
    keys: KeyPair
    name: str

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One writing transaction (the SQLite write lock taken up front): commits, or rolls back on error."""
        with Session(self.engine.execution_options(**{_IMMEDIATE: True}), expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A reading transaction, ended without writing; loaded objects stay readable afterwards."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def log_event(self, event_name: str, message: str, *, site_id: str | None = None,
                  package_id: str | None = None) -> None:
        """Write one event_log row in its own transaction (a refusal's main transaction rolled back)."""
        try:
            with self.session() as session:
                session.execute(insert(EventLog).values(at=utc_now(), site_id=site_id, event=event_name,
                                                        package_id=package_id, message=message))
        except Exception:  # the refusal itself must still reach the caller
            log.exception("could not log event %s", event_name)
        log.info("%s site=%s package=%s %s", event_name, site_id, package_id, message)

    def refusal(self, error: Refused, event_name: str, *, site_id: str | None = None,
                package_id: str | None = None) -> Refused:
        """Log a refusal once (event_log) and hand it back for raising."""
        if not error.logged:
            self.log_event(event_name, error.message, site_id=site_id, package_id=package_id)
            error.logged = True
        return error

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(text: str, *, name: str | None = None) -> HeadDatabase:
    """Open (creating tables and the key pair on first use) the database at `text`."""
    url = database_url(text)
    engine = make_engine(url)
    try:
        keys, stored_name = prepare(engine, name)
    except Exception as error:
        engine.dispose()
        if isinstance(error, UserFacingError):
            raise
        raise UserFacingError(f"无法打开总院数据库（{make_url(url).render_as_string(hide_password=True)}）：{error}") \
            from error
    return HeadDatabase(url=url, engine=engine, keys=keys, name=stored_name)


def _server_key(session: Session, name: str | None) -> tuple[KeyPair, str]:
    row = session.scalar(select(ServerKey).where(ServerKey.id == 1))
    if row is None:
        keys = KeyPair.generate()
        row = ServerKey(id=1, name=name or DEFAULT_NAME, keys_json=json.dumps(keys.to_json()), created_at=utc_now())
        session.add(row)
    elif name and name != row.name:
        row.name = name
    session.flush()
    return KeyPair.from_json(json.loads(row.keys_json)), row.name
