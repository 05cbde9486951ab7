"""Every model with the sync mixin is bound by table name to its wire type, parents first by foreign keys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from desktop.models import Base, Branch, HealthCheck, Resident, SyncMixin, SyncState
from desktop.models.sync_columns import new_sync_rows
from desktop.sync.records import BindingMismatch, bind_all, binding, bindings, parent_first, synced_models
from township_wire.types import record_types

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class _OtherBase(DeclarativeBase):
    """Throwaway models live on their own metadata so the app's tables stay as they are."""


class Leaflet(SyncMixin, _OtherBase):
    __tablename__ = "leaflet"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(20))


class Egg(SyncMixin, _OtherBase):
    __tablename__ = "egg"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hen_id: Mapped[int | None] = mapped_column(ForeignKey("hen.id"))


class Hen(SyncMixin, _OtherBase):
    __tablename__ = "hen"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    egg_id: Mapped[int | None] = mapped_column(ForeignKey("egg.id"))


def test_every_registered_type_is_bound_to_the_model_of_its_table() -> None:
    assert {bound.name for bound in bindings()} == {spec.name for spec in record_types()}
    assert all(bound.table.name == bound.name == bound.model.__tablename__ for bound in bindings())
    assert {bound.model for bound in bindings()} == set(synced_models())


def test_parents_come_before_children_whatever_the_order_of_the_types() -> None:
    order = [bound.name for bound in bindings()]
    for bound in bindings():
        for link in bound.links:
            foreign_key = next(iter(bound.table.c[link.column].foreign_keys))
            if not foreign_key.use_alter:
                assert order.index(link.parent.name) < order.index(bound.name), (bound.name, link.column)
    assert [bound.name for bound in bind_all(synced_models()[::-1], record_types()[::-1])] == order
    assert order.index("village") < order.index("resident") < order.index("chronic_enrolment") \
        < order.index("followup_visit")


def test_a_model_without_a_wire_type_is_refused_with_its_name() -> None:
    with pytest.raises(BindingMismatch, match="Leaflet.*leaflet.*township_wire/types.py"):
        bind_all([*synced_models(), Leaflet], record_types())


def test_a_wire_type_without_a_model_is_refused_with_its_name() -> None:
    models = [model for model in synced_models() if model.__tablename__ != "health_check"]
    with pytest.raises(BindingMismatch, match="wire type health_check has no model"):
        bind_all(models, record_types())


def test_foreign_keys_in_a_circle_are_refused() -> None:
    with pytest.raises(BindingMismatch, match="circle"):
        parent_first([Egg, Hen])


def test_an_unbound_model_stops_the_import_of_the_sync_records() -> None:
    code = (
        "from sqlalchemy import Integer\n"
        "from sqlalchemy.orm import Mapped, mapped_column\n"
        "from desktop.models import Base, SyncMixin\n"
        "class Leaflet(SyncMixin, Base):\n"
        "    __tablename__ = 'leaflet'\n"
        "    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n"
        "import desktop.sync.records\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                               timeout=120, check=False)
    assert completed.returncode != 0
    assert "BindingMismatch: model Leaflet (table leaflet) has no wire type" in completed.stderr


def test_every_synced_table_keeps_its_sync_state_index() -> None:
    for model in synced_models():
        table = model.__table__
        assert f"ix_{table.name}_sync_state" in {index.name for index in table.indexes}, table.name


def test_search_keys_are_local_and_no_wire_type_requires_a_local_column() -> None:
    resident = binding("resident")
    assert set(resident.local) == {"name_initials", "name_pinyin", "name_rev", "id_number_rev", "phone_rev",
                                   "record_no_rev"}
    assert not set(resident.local) & set(resident.plain)
    for bound in bindings():
        assert not set(bound.spec.required) & set(bound.local), bound.name
    assert Base.metadata.tables["resident"].c.name_pinyin.info == {"sync": False}


def test_bulk_insert_rows_get_owner_uuid_version_and_missing_search_keys(demo_app) -> None:
    with demo_app.db.read() as session:
        site_id = session.scalar(select(Branch.site_id))
        derived, given = new_sync_rows(session, Resident, [
            {"name": "曾小单", "record_no": "341522106101000001", "phone": "13711112222"},
            {"name": "王芳", "record_no": "341522106101000002", "name_initials": "wf", "name_pinyin": "wangfang",
             "name_rev": "芳王", "id_number_rev": None, "phone_rev": None, "record_no_rev": "x", "uuid": "kept"}])
        [check] = new_sync_rows(session, HealthCheck, [{"resident_id": 1}])
    assert derived["phone_rev"] == "22221111731" and derived["name_rev"] == "单小曾" and derived["name_pinyin"]
    assert (given["uuid"], given["record_no_rev"]) == ("kept", "x")
    for row in (derived, given, check):
        assert (row["owner_site"], row["version"], row["deleted"], row["sync_state"]) == \
            (site_id, 1, False, SyncState.PENDING.value)
    assert len({derived["uuid"], check["uuid"]}) == 2 and "name_rev" not in check


def test_a_new_area_model_binds_by_itself_after_its_parents() -> None:
    """A wire type and a model of the same name are all a new area adds for sync: no edit in desktop/sync."""
    code = (
        "from sqlalchemy import ForeignKey, Integer, String\n"
        "from sqlalchemy.orm import Mapped, mapped_column\n"
        "from township_wire.types import RecordTypeSpec, register_type\n"
        "from desktop.models import Base, SyncMixin\n"
        "register_type(RecordTypeSpec('visit_note', '随访便笺', required=('resident_uuid',), optional=('text',)))\n"
        "class VisitNote(SyncMixin, Base):\n"
        "    __tablename__ = 'visit_note'\n"
        "    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n"
        "    resident_id: Mapped[int] = mapped_column(ForeignKey('resident.id'))\n"
        "    text: Mapped[str] = mapped_column(String(200))\n"
        "from desktop.sync.records import binding, bindings\n"
        "names = [bound.name for bound in bindings()]\n"
        "note = binding('visit_note')\n"
        "print(names.index('resident') < names.index('visit_note'), note.plain, [l.wire_name for l in note.links])\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                               timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "True ('text',) ['resident_uuid']"
