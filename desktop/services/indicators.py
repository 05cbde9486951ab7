"""Management indicators for a year, per village and for the branch, with their drill-down.

Every figure is built from one verdict per person (counts, and the reason when not), so the
figure and its list of people can never disagree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from desktop.clock import now
from desktop.db import Database
from desktop.errors import ValidationError
from desktop.models import ChronicEnrolment, FollowupVisit, HealthCheck, Resident, SyncState, Village
from desktop.rules.chronic_indicators import Verdict, VisitFact, control, standard_management
from desktop.rules.dates import age_on
from desktop.rules.followup import DEFAULT_RULES, Disease, FollowupRules, VisitMethod
from desktop.rules.population import ELDERLY_AGE, years_before
from desktop.services.audit_labels import register_entity_label
from desktop.services.permissions import Actor, Permission, require, village_scope
from desktop.services.settings import followup_rules_in, prevalence_in

register_entity_label("indicators", "管理指标")
ADULT_AGE = 18


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    name: str
    definition: str
    has_people: bool = True


DEFINITIONS = {d.code: d for d in (
    IndicatorDef("ht_standard", "高血压患者规范管理率",
                 "年内按要求完成 4 次及以上面访随访并做过年度健康体检的人数 ÷ 年末在管高血压患者人数"),
    IndicatorDef("ht_control", "管理人群血压控制率",
                 "年内最近一次随访血压达标（<140/90，65 岁及以上 <150/90）的人数 ÷ 年末在管高血压患者人数；"
                 "年内无随访按未达标计"),
    IndicatorDef("ht_coverage", "高血压患者健康管理率",
                 "年末在管高血压患者人数 ÷ 辖区 18 岁及以上在册居民数 × 高血压患病率", has_people=False),
    IndicatorDef("dm_standard", "2型糖尿病患者规范管理率",
                 "年内完成 4 次及以上测空腹血糖的面访随访并做过年度健康体检的人数 ÷ 年末在管糖尿病患者人数"),
    IndicatorDef("dm_control", "管理人群血糖控制率",
                 "年内最近一次随访空腹血糖 <7.0 mmol/L 的人数 ÷ 年末在管糖尿病患者人数；年内无随访按未达标计"),
    IndicatorDef("dm_coverage", "2型糖尿病患者健康管理率",
                 "年末在管糖尿病患者人数 ÷ 辖区 18 岁及以上在册居民数 × 糖尿病患病率", has_people=False),
    IndicatorDef("elderly_care", "65岁及以上老年人健康管理率",
                 "年内做过健康体检（含生活自理能力评估）的 65 岁及以上在册居民数 ÷ 年末 65 岁及以上在册居民数"),
)}


@dataclass(frozen=True)
class PersonVerdict:
    resident_id: int
    record_no: str
    name: str
    village_id: int
    counts: bool
    reason: str | None


@dataclass(frozen=True)
class Figure:
    code: str
    village_id: int | None
    numerator: int
    denominator: float

    @property
    def value(self) -> float | None:
        return None if not self.denominator else self.numerator / self.denominator

    @property
    def name(self) -> str:
        return DEFINITIONS[self.code].name


@dataclass(frozen=True)
class Period:
    year: int
    start: date
    end: date

    @classmethod
    def for_year(cls, year: int, today: date) -> Period:
        if not 2000 <= year <= today.year:
            raise ValidationError.single("year", f"年度 {year} 不对：应在 2000 到 {today.year} 之间。")
        return cls(year, date(year, 1, 1), min(date(year, 12, 31), today))



def _scoped(actor: Actor, village_id: int | None) -> list:
    conditions = [Resident.deleted.is_(False), Resident.sync_state != SyncState.ERROR.value]
    conditions.append(village_scope(actor, Resident.village_id))
    if village_id is not None:
        conditions.append(Resident.village_id == village_id)
    return conditions


def _managed(session: Session, disease: Disease, period: Period, scope: list) -> list[tuple]:
    """(resident id, record no, name, village id, birth) of patients under management at the period's end."""
    return session.connection().execute(
        select(Resident.id, Resident.record_no, Resident.name, Resident.village_id, Resident.birth_date)
        .join(ChronicEnrolment, ChronicEnrolment.resident_id == Resident.id)
        .where(ChronicEnrolment.disease == disease.value, ChronicEnrolment.deleted.is_(False),
               ChronicEnrolment.sync_state != SyncState.ERROR.value, ChronicEnrolment.managed_from <= period.end,
               or_(ChronicEnrolment.ended_on.is_(None), ChronicEnrolment.ended_on > period.end), *scope)
        .distinct()
    ).all()


def _visits(session: Session, period: Period) -> dict[tuple[str, int], list[VisitFact]]:
    """(disease, resident id) -> the visits in the period; both diseases in one pass over the year's visits."""
    rows = session.connection().execute(
        select(FollowupVisit.disease, FollowupVisit.resident_id, FollowupVisit.visit_date, FollowupVisit.method,
               FollowupVisit.sbp, FollowupVisit.dbp, FollowupVisit.fasting_glucose)
        .where(FollowupVisit.deleted.is_(False),
               FollowupVisit.visit_date >= period.start, FollowupVisit.visit_date <= period.end)
    ).all()
    rejected = Counter(session.connection().execute(  # sent back by the head hospital: not counted as done
        select(FollowupVisit.disease, FollowupVisit.resident_id, FollowupVisit.visit_date, FollowupVisit.method,
               FollowupVisit.sbp, FollowupVisit.dbp, FollowupVisit.fasting_glucose)
        .where(FollowupVisit.sync_state == SyncState.ERROR.value, FollowupVisit.deleted.is_(False))
    ).all())
    methods = {method.value: method for method in VisitMethod}
    visits: dict[tuple[str, int], list[VisitFact]] = defaultdict(list)
    for row in rows:
        if rejected[tuple(row)] > 0:
            rejected[tuple(row)] -= 1
            continue
        disease, rid, day, method, sbp, dbp, glucose = row
        visits[(disease, rid)].append(VisitFact(day, methods[method], sbp, dbp, glucose))
    return visits


def _checked(session: Session, period: Period) -> dict[int, bool]:
    """resident id -> whether a check in the period recorded the self-care assessment."""
    rows = session.connection().execute(
        select(HealthCheck.resident_id, HealthCheck.self_care_total)
        .where(HealthCheck.deleted.is_(False), HealthCheck.sync_state != SyncState.ERROR.value,
               and_(HealthCheck.check_date >= period.start, HealthCheck.check_date <= period.end))
    ).all()
    result: dict[int, bool] = {}
    for rid, total in rows:
        result[rid] = result.get(rid, False) or total is not None
    return result


@dataclass(frozen=True)
class YearFacts:
    """What every indicator of a period reads: its visits and its health checks, read once."""

    visits: dict[tuple[str, int], list[VisitFact]]
    checked: dict[int, bool]

    @classmethod
    def read(cls, session: Session, period: Period) -> YearFacts:
        return cls(_visits(session, period), _checked(session, period))


def chronic_verdicts(session: Session, disease: Disease, period: Period, scope: list,
                     rules: FollowupRules = DEFAULT_RULES, *,
                     facts: YearFacts | None = None) -> tuple[list[PersonVerdict], list[PersonVerdict]]:
    """(standard-management verdicts, control verdicts), one per managed patient."""
    patients = _managed(session, disease, period, scope)
    facts = facts or YearFacts.read(session, period)
    visits, checked = facts.visits, facts.checked
    standard, controlled = [], []
    for rid, record_no, name, village_id, birth in patients:
        mine = visits.get((disease.value, rid), [])
        s = standard_management(disease, mine, had_annual_check=rid in checked, rules=rules)
        c = control(disease, mine, age=age_on(birth, period.end), rules=rules)
        standard.append(PersonVerdict(rid, record_no, name, village_id, s.counts, s.reason))
        controlled.append(PersonVerdict(rid, record_no, name, village_id, c.counts, c.reason))
    return standard, controlled


def elderly_verdicts(session: Session, period: Period, scope: list,
                     checked: dict[int, bool] | None = None) -> list[PersonVerdict]:
    born_by = years_before(period.end, ELDERLY_AGE)
    people = session.connection().execute(
        select(Resident.id, Resident.record_no, Resident.name, Resident.village_id)
        .where(Resident.birth_date <= born_by, Resident.status == "active", *scope)
    ).all()
    checked = _checked(session, period) if checked is None else checked
    verdicts = []
    for rid, record_no, name, village_id in people:
        if rid not in checked:
            verdict = Verdict(False, "本年未做健康体检")
        elif not checked[rid]:
            verdict = Verdict(False, "本年体检未做生活自理能力评估")
        else:
            verdict = Verdict(True)
        verdicts.append(PersonVerdict(rid, record_no, name, village_id, verdict.counts, verdict.reason))
    return verdicts


def _adults(session: Session, period: Period, scope: list) -> dict[int, int]:
    born_by = years_before(period.end, ADULT_AGE)
    rows = session.connection().execute(
        select(Resident.village_id, func.count())
        .where(Resident.birth_date <= born_by, Resident.status == "active", *scope).group_by(Resident.village_id)
    ).all()
    return {village_id: count for village_id, count in rows}


def _figures(code: str, verdicts: Iterable[PersonVerdict]) -> list[Figure]:
    per_village: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for verdict in verdicts:
        per_village[verdict.village_id][0] += verdict.counts
        per_village[verdict.village_id][1] += 1
    figures = [Figure(code, vid, num, den) for vid, (num, den) in sorted(per_village.items())]
    figures.append(Figure(code, None, sum(f.numerator for f in figures), sum(f.denominator for f in figures)))
    return figures


@dataclass(frozen=True)
class IndicatorReport:
    period: Period
    figures: tuple[Figure, ...]
    people: dict[str, tuple[PersonVerdict, ...]]
    village_names: dict[int, str]

    def branch(self, code: str) -> Figure:
        return next(f for f in self.figures if f.code == code and f.village_id is None)


def indicator_report(db: Database, actor: Actor, year: int, *, village_id: int | None = None,
                     prevalence: dict[Disease, float] | None = None,
                     rules: FollowupRules | None = None, as_of: date | None = None) -> IndicatorReport:
    """Every indicator for the year, per village and for the whole scope, with each person's verdict.

    The rules and prevalence default to the branch's stored settings. `as_of` ends the period
    early (a month's or quarter's report counts the year up to its last day).
    """
    require(actor, Permission.VIEW_INDICATORS)
    period = Period.for_year(year, min(as_of, now().date()) if as_of else now().date())
    scope = _scoped(actor, village_id)
    figures: list[Figure] = []
    people: dict[str, tuple[PersonVerdict, ...]] = {}
    with db.read() as session:
        prevalence = prevalence or prevalence_in(session)
        rules = rules or followup_rules_in(session)
        adults = _adults(session, period, scope)
        facts = YearFacts.read(session, period)
        for disease, prefix in ((Disease.HYPERTENSION, "ht"), (Disease.DIABETES, "dm")):
            standard, controlled = chronic_verdicts(session, disease, period, scope, rules, facts=facts)
            people[f"{prefix}_standard"], people[f"{prefix}_control"] = tuple(standard), tuple(controlled)
            figures += _figures(f"{prefix}_standard", standard) + _figures(f"{prefix}_control", controlled)
            figures += _coverage(f"{prefix}_coverage", standard, adults, prevalence[disease])
        people["elderly_care"] = tuple(elderly_verdicts(session, period, scope, facts.checked))
        figures += _figures("elderly_care", people["elderly_care"])
        names = dict(session.execute(select(Village.id, Village.name)).all())
    return IndicatorReport(period, tuple(figures), people, names)


def _coverage(code: str, managed: list[PersonVerdict], adults: dict[int, int], rate: float) -> list[Figure]:
    per_village: dict[int, int] = defaultdict(int)
    for verdict in managed:
        per_village[verdict.village_id] += 1
    figures = [Figure(code, vid, per_village.get(vid, 0), round(count * rate, 1))
               for vid, count in sorted(adults.items())]
    figures.append(Figure(code, None, len(managed), round(sum(adults.values()) * rate, 1)))
    return figures
