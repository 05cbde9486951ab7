"""Chronic management's indicators: hypertension and diabetes management and control, 65+ health care.

The rules (what counts as a standard-managed year, a controlled patient) are in
`desktop.rules.chronic_indicators`; this module reads a period's enrolments, visits and checks
once and gives every indicator its per-person verdicts and per-village figures.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from desktop.models import ChronicEnrolment, FollowupVisit, HealthCheck, Resident, SyncState
from desktop.rules.chronic_indicators import Verdict, VisitFact, control, standard_management
from desktop.rules.dates import age_on
from desktop.rules.followup import DEFAULT_RULES, Disease, FollowupRules, VisitMethod
from desktop.rules.population import ELDERLY_AGE, years_before
from desktop.services.indicator_base import (
    Figure,
    IndicatorDef,
    IndicatorRequest,
    IndicatorSource,
    Period,
    PersonVerdict,
    SourceResult,
    figures_of,
)
from desktop.services.settings import followup_rules_in, prevalence_in

ADULT_AGE = 18
COVERAGE_NOTE = "分母为按患病率估算的人数，没有人员名单；分子为年末在管患者，名单见规范管理率。"

DEFINITIONS = (
    IndicatorDef("ht_standard", "高血压患者规范管理率",
                 "年内按要求完成 4 次及以上面访随访并做过年度健康体检的人数 ÷ 年末在管高血压患者人数",
                 numerator="规范管理人数", denominator="年末在管高血压患者人数", short_name="高血压规范管理率"),
    IndicatorDef("ht_control", "管理人群血压控制率",
                 "年内最近一次随访血压达标（<140/90，65 岁及以上 <150/90）的人数 ÷ 年末在管高血压患者人数；"
                 "年内无随访按未达标计",
                 numerator="血压达标人数", denominator="年末在管高血压患者人数", short_name="血压控制率",
                 verdict_label="是否达标"),
    IndicatorDef("ht_coverage", "高血压患者健康管理率",
                 "年末在管高血压患者人数 ÷ 辖区 18 岁及以上在册居民数 × 高血压患病率",
                 numerator="年末在管高血压患者人数", denominator="18 岁及以上在册居民数 × 患病率",
                 has_people=False, short_name="高血压健康管理率", no_people_note=COVERAGE_NOTE),
    IndicatorDef("dm_standard", "2型糖尿病患者规范管理率",
                 "年内完成 4 次及以上测空腹血糖的面访随访并做过年度健康体检的人数 ÷ 年末在管糖尿病患者人数",
                 numerator="规范管理人数", denominator="年末在管糖尿病患者人数", short_name="2型糖尿病规范管理率"),
    IndicatorDef("dm_control", "管理人群血糖控制率",
                 "年内最近一次随访空腹血糖 <7.0 mmol/L 的人数 ÷ 年末在管糖尿病患者人数；年内无随访按未达标计",
                 numerator="血糖达标人数", denominator="年末在管糖尿病患者人数", short_name="血糖控制率",
                 verdict_label="是否达标"),
    IndicatorDef("dm_coverage", "2型糖尿病患者健康管理率",
                 "年末在管糖尿病患者人数 ÷ 辖区 18 岁及以上在册居民数 × 糖尿病患病率",
                 numerator="年末在管糖尿病患者人数", denominator="18 岁及以上在册居民数 × 患病率",
                 has_people=False, short_name="2型糖尿病健康管理率", no_people_note=COVERAGE_NOTE),
    IndicatorDef("elderly_care", "65岁及以上老年人健康管理率",
                 "年内做过健康体检（含生活自理能力评估）的 65 岁及以上在册居民数 ÷ 年末 65 岁及以上在册居民数",
                 numerator="做过健康体检（含自理能力评估）的人数", denominator="年末 65 岁及以上在册居民数"),
)


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


def _coverage(code: str, managed: list[PersonVerdict], adults: dict[int, int], rate: float) -> list[Figure]:
    per_village: dict[int, int] = defaultdict(int)
    for verdict in managed:
        per_village[verdict.village_id] += 1
    figures = [Figure(code, vid, per_village.get(vid, 0), round(count * rate, 1))
               for vid, count in sorted(adults.items())]
    figures.append(Figure(code, None, len(managed), round(sum(adults.values()) * rate, 1)))
    return figures


def chronic_indicators(request: IndicatorRequest) -> SourceResult:
    """Every chronic indicator for the request's period and villages (rules and prevalence: stored settings)."""
    session, period, scope = request.session, request.period, request.resident_conditions()
    prevalence = request.options.get("prevalence") or prevalence_in(session)
    rules = request.options.get("rules") or followup_rules_in(session)
    figures: list[Figure] = []
    people: dict[str, tuple[PersonVerdict, ...]] = {}
    adults = _adults(session, period, scope)
    facts = YearFacts.read(session, period)
    for disease, prefix in ((Disease.HYPERTENSION, "ht"), (Disease.DIABETES, "dm")):
        standard, controlled = chronic_verdicts(session, disease, period, scope, rules, facts=facts)
        people[f"{prefix}_standard"], people[f"{prefix}_control"] = tuple(standard), tuple(controlled)
        figures += figures_of(f"{prefix}_standard", standard) + figures_of(f"{prefix}_control", controlled)
        figures += _coverage(f"{prefix}_coverage", standard, adults, prevalence[disease])
    people["elderly_care"] = tuple(elderly_verdicts(session, period, scope, facts.checked))
    figures += figures_of("elderly_care", people["elderly_care"])
    return SourceResult(figures, people)


CHRONIC_INDICATORS = IndicatorSource("chronic", "慢病与老年人健康管理", DEFINITIONS, chronic_indicators)
