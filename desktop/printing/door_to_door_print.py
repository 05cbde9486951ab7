"""The 入户随访表 as a registered form: `print door-to-door due|INDICATOR_CODE [--village CODE] [--on|--year]`.

`due` prints the due list (工作台) as the actor sees it — a village doctor their villages, branch
staff the branch or `--scope mine`; an indicator code prints the people that indicator does not
yet count (the ones to go and see), or everyone with `--people all`. One section per responsible
doctor; the phone is masked per role as on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.clock import now
from desktop.errors import UserFacingError, ValidationError
from desktop.models import Village
from desktop.printing.door_to_door_form import TITLE, DoorVisit, door_to_door_sheets
from desktop.printing.registry import FormOption, PrintForm, Printout, register_form
from desktop.rules.dates import DateError, age_on, parse_date
from desktop.rules.population import SEX_LABELS
from desktop.services.audit_labels import register_entity_label
from desktop.services.contacts import contacts_for
from desktop.services.due import DEFAULT_HORIZON_DAYS, DueItem, DueScope, collect_due, due_kinds
from desktop.services.indicator_base import IndicatorRequest, Period, PersonVerdict, definition_of, source_of
from desktop.services import indicators as _indicators  # noqa: F401 - registers every indicator source
from desktop.services.permissions import Actor, Permission, ensure_in_scope, require

FORM_KEY = "door-to-door"
DUE_KEY = "due"
WORK_LIST = register_entity_label("work_list", "工作名单")


def load_door_to_door(session: Session, actor: Actor, key: str, *, village: str | None = None,
                      on: date | str | None = None, scope: str | None = None, year: int | str | None = None,
                      people: str | None = None, kind: str | None = None) -> Printout:
    """The due list (key `due`) or an indicator's people (key = its code), one section per responsible doctor."""
    village_id = _village_id(session, actor, village)
    today = now().date()
    if key.strip().lower() == DUE_KEY:
        day = _day(on) or today
        visits = _due_visits(session, actor, day, scope, village_id, kind)
        label = next((k.label for k in due_kinds() if k.value == kind), "待办")
        subject = f"{label}名单（{day:%Y-%m-%d} 起 {DEFAULT_HORIZON_DAYS} 天内应完成及已逾期）"
    else:
        visits, subject = _indicator_visits(session, actor, key.strip(), year, village_id, everyone=people == "all")
    where = session.get(Village, village_id).name if village_id is not None else ""
    subject = f"{where} {subject}".strip()
    sheets = door_to_door_sheets(visits, subject=subject, printed_on=today)
    return Printout(sheets=sheets, title=f"{TITLE} {subject}", village_id=village_id, entity_type=WORK_LIST,
                    entity_id=key, summary=f"打印{TITLE}：{subject}，{len(visits)} 人，{len(sheets)} 页")


def _village_id(session: Session, actor: Actor, code: str | None) -> int | None:
    if not code:
        return None
    village_id = session.scalar(select(Village.id).where(Village.code == str(code).strip().zfill(3)))
    if village_id is None:
        raise ValidationError.single("village", f"村代码“{code}”在本分院不存在。")
    ensure_in_scope(actor, village_id)
    return village_id


def _day(value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        return parse_date(value)
    except DateError as error:
        raise ValidationError.single("on", f"日期：{error}") from None


def _due_visits(session: Session, actor: Actor, on: date, scope: str | None, village_id: int | None,
                kind: str | None) -> list[DoorVisit]:
    require(actor, Permission.VIEW_FOLLOWUPS)
    chosen = DueScope.MY_VILLAGES if actor.is_village_bound else DueScope(scope or DueScope.BRANCH.value)
    due = collect_due(session, actor, on=on, scope=chosen, village_id=village_id)
    return [_due_visit(item, on) for item in due.items if kind in (None, "", item.kind.value)]


def _due_visit(item: DueItem, on: date) -> DoorVisit:
    what = item.kind.label + (f"（{item.disease.label}）" if item.disease else "")
    when = f"逾期 {item.days_overdue(on)} 天" if item.due_on < on else f"{item.due_on:%m-%d} 前"
    age = str(age_on(item.birth_date, on)) if item.birth_date else ""
    return DoorVisit(item.doctor_name, item.village_name, item.record_no, item.name, SEX_LABELS.get(item.sex, item.sex),
                     age, item.address, item.phone, f"{what}，{when}")


def _indicator_visits(session: Session, actor: Actor, code: str, year: int | str | None, village_id: int | None,
                      *, everyone: bool) -> tuple[list[DoorVisit], str]:
    require(actor, Permission.VIEW_INDICATORS)
    try:
        definition, source = definition_of(code), source_of(code)
    except KeyError:
        raise UserFacingError(f"没有代码为“{code}”的管理指标；可打印 due（待办名单）或指标代码。") from None
    if not definition.has_people:
        raise UserFacingError(f"{definition.name}没有人员名单（{definition.no_people_note or '分母为估算数'}）。")
    today = now().date()
    period = source.period(Period.parse(str(year), today) if year else Period.for_year(today.year, today))
    result = source.compute(IndicatorRequest(session, actor, village_id, period, {}))
    verdicts = [v for v in result.people.get(code, ()) if everyone or not v.counts]
    subject = f"{definition.name}（{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}）" + ("" if everyone else "未计入的人")
    return indicator_visits(session, actor, verdicts), subject


def indicator_visits(session: Session, actor: Actor, verdicts: Sequence[PersonVerdict]) -> list[DoorVisit]:
    """The indicator's people as door-to-door rows: why they do not count (yet) is what is due."""
    contacts = contacts_for(session, actor, (v.resident_id for v in verdicts))
    names = dict(session.execute(select(Village.id, Village.name)).all())
    today = now().date()
    visits = []
    for v in verdicts:
        c = contacts.get(v.resident_id)
        if c is None:
            continue
        visits.append(DoorVisit(c.doctor_name, names.get(v.village_id, ""), v.record_no, v.name,
                                SEX_LABELS.get(c.sex, c.sex), str(age_on(c.birth_date, today)), c.address, c.phone,
                                v.reason or ("已计入" if v.counts else "")))
    return visits


def door_to_door_example(session: Session) -> tuple[str, dict[str, Any]] | None:
    """The due list of the whole branch (every demo branch has people due)."""
    return DUE_KEY, {}


FORM = register_form(PrintForm(
    key=FORM_KEY,
    label=f"{TITLE}（按责任医生分页：姓名、性别、年龄、住址、电话、应做事项，留结果/签名栏）",
    permission=Permission.VIEW_FOLLOWUPS,
    key_metavar="due|INDICATOR_CODE",
    key_help="due（工作台待办名单）或管理指标代码（打印该指标未计入的人）",
    load=load_door_to_door,
    options=(
        FormOption("village", "只打印该村（3 位村代码）", required=False, metavar="CODE"),
        FormOption("on", "待办名单以哪天为准，例如 2025-06-30（默认今天）", required=False, metavar="YYYY-MM-DD"),
        FormOption("scope", "待办名单范围：mine（我负责的）或 branch（全院，默认）", required=False,
                   choices=(DueScope.MINE.value, DueScope.BRANCH.value)),
        FormOption("kind", "待办名单只打印一种事项：" + "、".join(f"{k.value}（{k.label}）" for k in due_kinds()),
                   required=False, choices=tuple(k.value for k in due_kinds())),
        FormOption("year", "指标统计期：2025、2025-Q1 或 2025-03（默认今年）", required=False, parse=str),
        FormOption("people", "指标名单：missing（只列未计入的人，默认）或 all（全部）", required=False,
                   choices=("missing", "all")),
    ),
    example=door_to_door_example,
))
