"""Chronic management's indicators: hypertension and diabetes management and control, 65+ health care.

The rules (what was due by a period's end, what counts as controlled, what a complete 65+ check
holds) are in `desktop.rules.chronic_indicators` and `desktop.rules.health_check_completeness`;
this module reads a period's enrolments, visit aggregates and checks once and gives every
indicator its per-person verdicts and per-village figures, with the rule text that says how.

Any period is counted from 1 January to its end. Who is in a denominator is decided at the
period's end: an enrolment ended by then, or a resident who died or moved out by then
(status_date), is not counted; before that date they are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import JSON, String, case, func, or_, select
from sqlalchemy.orm import Session

from desktop.models import ChronicEnrolment, FollowupVisit, HealthCheck, Resident, SyncState
from desktop.rules.chronic_indicators import (
    DEFAULT_INDICATOR_RULES,
    ControlBasis,
    Expectation,
    IndicatorRules,
    Verdict,
    VisitFact,
    control_of_last,
    expectation,
    standard_verdict,
)
from desktop.rules.dates import age_on
from desktop.rules.followup import DEFAULT_RULES, Disease, FollowupRules, VisitMethod
from desktop.rules.health_check_completeness import COMPLETENESS_COLUMNS, REQUIRED_PARTS, missing_text
from desktop.rules.population import ELDERLY_AGE, years_before
from desktop.services.indicator_base import (
    Figure,
    IndicatorDef,
    IndicatorRequest,
    IndicatorSource,
    Period,
    PeriodKind,
    PersonVerdict,
    SourceResult,
    fetch_tuples,
    figures_of,
    on_register_at,
)
from desktop.services.settings import followup_rules_in, indicator_rules_in, prevalence_in

ADULT_AGE = 18
COVERAGE_NOTE = "分母为按患病率估算的人数，没有人员名单；分子为期末在管患者，名单见规范管理率。"
RESIDENT_BASIS = "常住居民（户籍和非户籍均计，常住类型未填者也计入）"
REGISTERED_BASIS = "户籍居民（常住类型为户籍者）"

DEFINITIONS = (
    IndicatorDef("ht_standard", "高血压患者规范管理率",
                 "截至期末完成应做面访次数（全年 4 次，按时间进度和年内管理整月数折算）、年度统计时并做过年度健康体检"
                 "的人数 ÷ 期末在管且已有应做随访的高血压患者人数",
                 numerator="规范管理人数", denominator="期末在管高血压患者人数", short_name="高血压规范管理率"),
    IndicatorDef("ht_control", "管理人群血压控制率",
                 "最近一次随访血压达标（<140/90，65 岁及以上 <150/90）的人数 ÷ 期末在管高血压患者人数"
                 "（年度：年内无随访按未达标计；季度和月度：按本院设置，默认只计本期有随访者）",
                 numerator="血压达标人数", denominator="期末在管高血压患者人数", short_name="血压控制率",
                 verdict_label="是否达标"),
    IndicatorDef("ht_coverage", "高血压患者健康管理率",
                 f"期末在管高血压患者人数 ÷ 辖区 18 岁及以上{RESIDENT_BASIS}数 × 高血压患病率",
                 numerator="期末在管高血压患者人数", denominator="18 岁及以上常住居民数 × 患病率",
                 has_people=False, short_name="高血压健康管理率", no_people_note=COVERAGE_NOTE),
    IndicatorDef("dm_standard", "2型糖尿病患者规范管理率",
                 "截至期末完成应做的测空腹血糖的面访次数（全年 4 次，按时间进度和年内管理整月数折算）、年度统计时"
                 "并做过年度健康体检的人数 ÷ 期末在管且已有应做随访的糖尿病患者人数",
                 numerator="规范管理人数", denominator="期末在管糖尿病患者人数", short_name="2型糖尿病规范管理率"),
    IndicatorDef("dm_control", "管理人群血糖控制率",
                 "最近一次随访空腹血糖 <7.0 mmol/L 的人数 ÷ 期末在管糖尿病患者人数"
                 "（年度：年内无随访按未达标计；季度和月度：按本院设置，默认只计本期有随访者）",
                 numerator="血糖达标人数", denominator="期末在管糖尿病患者人数", short_name="血糖控制率",
                 verdict_label="是否达标"),
    IndicatorDef("dm_coverage", "2型糖尿病患者健康管理率",
                 f"期末在管糖尿病患者人数 ÷ 辖区管理起始年龄（默认 35 岁）及以上{RESIDENT_BASIS}数 × 糖尿病患病率",
                 numerator="期末在管糖尿病患者人数", denominator="35 岁及以上常住居民数 × 患病率",
                 has_people=False, short_name="2型糖尿病健康管理率", no_people_note=COVERAGE_NOTE),
    IndicatorDef("elderly_care", "65岁及以上老年人健康管理率",
                 "年初至期末做过完整健康体检（生活自理能力评估、体格检查、辅助检查、健康指导齐全）的 65 岁及以上"
                 f"{RESIDENT_BASIS}数 ÷ 期末 65 岁及以上常住居民数",
                 numerator="做过完整健康体检的人数", denominator="期末 65 岁及以上常住居民数"),
)


class Managed(NamedTuple):
    """A patient under management at the period's end."""

    resident_id: int
    record_no: str
    name: str
    village_id: int
    birth: date
    managed_from: date


class VisitSummary(NamedTuple):
    """One patient's visits of one disease from 1 January to the period's end, as the indicators read them."""

    counted: int  # face-to-face visits that count (diabetes: with the fasting glucose)
    last: VisitFact


def resident_population(rules: IndicatorRules) -> list:
    """The 常住 population the rules count: everyone on the register, or only 户籍 residents."""
    return [Resident.residence_type == "1"] if rules.registered_only else []


def _managed(session: Session, disease: Disease, period: Period, scope: list) -> list[Managed]:
    """Patients under management at the period's end (the earliest start of an enrolment still open then)."""
    rows = fetch_tuples(session,
        select(Resident.id, Resident.record_no, Resident.name, Resident.village_id, Resident.birth_date,
               func.min(ChronicEnrolment.managed_from))
        .join(ChronicEnrolment, ChronicEnrolment.resident_id == Resident.id)
        .where(ChronicEnrolment.disease == disease.value, ChronicEnrolment.deleted.is_(False),
               ChronicEnrolment.sync_state != SyncState.ERROR.value, ChronicEnrolment.managed_from <= period.end,
               or_(ChronicEnrolment.ended_on.is_(None), ChronicEnrolment.ended_on > period.end),
               *scope, *on_register_at(period.end))
        .group_by(Resident.id))
    day = date.fromisoformat
    return [Managed(rid, record_no, name, village_id, day(birth), day(start))
            for rid, record_no, name, village_id, birth, start in rows]


def _visit_summaries(session: Session, period: Period) -> dict[tuple[str, int], VisitSummary]:
    """(disease, resident id) -> counted visits and the last visit, from 1 January to the period's end, in SQL.

    The last visit's readings are SQLite's bare columns beside max(visit_date) (taken from that row).
    Voided visits are not counted, nor visits sent back by the head hospital: those are few, so the
    pass over the year reads only the covering index ix_followup_visit_day and the few patients
    with a sent-back visit are summed again without it.
    """
    in_period = [FollowupVisit.deleted.is_(False), FollowupVisit.visit_date >= period.year_start,
                 FollowupVisit.visit_date <= period.end]
    summaries = _summed(session, in_period)
    rejected = session.connection().execute(
        select(FollowupVisit.disease, FollowupVisit.resident_id).distinct()
        .where(FollowupVisit.sync_state == SyncState.ERROR.value, *in_period)
    ).all()
    if rejected:
        for pair in rejected:
            summaries.pop(tuple(pair), None)
        again = _summed(session, [*in_period, FollowupVisit.sync_state != SyncState.ERROR.value,
                                  FollowupVisit.resident_id.in_({rid for _disease, rid in rejected})])
        summaries.update({pair: again[pair] for pair in map(tuple, rejected) if pair in again})
    return summaries


def _summed(session: Session, conditions: list) -> dict[tuple[str, int], VisitSummary]:
    counts = case((FollowupVisit.method == VisitMethod.PHONE.value, 0),
                  (FollowupVisit.disease == Disease.HYPERTENSION.value, 1),
                  (FollowupVisit.fasting_glucose.is_not(None), 1), else_=0)
    rows = fetch_tuples(session,
        select(FollowupVisit.disease, FollowupVisit.resident_id, func.sum(counts), func.max(FollowupVisit.visit_date),
               FollowupVisit.method, FollowupVisit.sbp, FollowupVisit.dbp, FollowupVisit.fasting_glucose)
        .where(*conditions).group_by(FollowupVisit.disease, FollowupVisit.resident_id))
    methods, day = {method.value: method for method in VisitMethod}, date.fromisoformat
    return {(disease, rid): VisitSummary(counted, VisitFact(day(last), methods[method], sbp, dbp, glucose))
            for disease, rid, counted, last, method, sbp, dbp, glucose in rows}


@dataclass(frozen=True)
class YearFacts:
    """What every indicator of a period reads, read once: its visit summaries and its health checks.

    `gaps`: resident id -> the parts missing from their most complete check from 1 January to the
    period's end ([] = a complete check); a resident with any check is a key.
    """

    visits: dict[tuple[str, int], VisitSummary]
    gaps: dict[int, list[str]]

    @classmethod
    def read(cls, session: Session, period: Period) -> YearFacts:
        return cls(_visit_summaries(session, period), _check_gaps(session, period))


def _control_counts_everyone(period: Period, counting: IndicatorRules) -> bool:
    """The closed year (or the year-to-date setting) counts every managed patient; else only those seen in the period.

    A quarter or month follows the setting even when it ends the year (Q4, December).
    """
    year_closed = period.kind is PeriodKind.YEAR and period.end == date(period.year, 12, 31)
    return year_closed or counting.control_basis == ControlBasis.YEAR_TO_DATE.value


def chronic_verdicts(session: Session, disease: Disease, period: Period, scope: list,
                     rules: FollowupRules = DEFAULT_RULES, *, facts: YearFacts | None = None,
                     counting: IndicatorRules = DEFAULT_INDICATOR_RULES,
                     patients: list[Managed] | None = None) -> tuple[list[PersonVerdict], list[PersonVerdict]]:
    """(standard-management verdicts, control verdicts) of the patients managed at the period's end.

    Patients who owed nothing yet (see `expectation`) are not in the standard-management list;
    unless the control rate counts everyone, patients not seen in the period are not in its list.
    """
    patients = _managed(session, disease, period, scope) if patients is None else patients
    facts = facts or YearFacts.read(session, period)
    everyone = _control_counts_everyone(period, counting)
    owed_from: dict[date, Expectation] = {}  # one expectation per start of management in the year
    visits, checked, key, year_start = facts.visits, facts.gaps, disease.value, period.year_start
    standard, controlled = [], []
    for patient in patients:
        rid = patient.resident_id
        summary = visits.get((key, rid))
        start = max(patient.managed_from, year_start)
        if (owed := owed_from.get(start)) is None:
            owed = owed_from[start] = expectation(managed_from=start, period_end=period.end,
                                                  per_year=rules.face_to_face_per_year, rules=counting)
        if owed.anything_due:
            s = standard_verdict(disease, counted=summary.counted if summary else 0, visited=summary is not None,
                                 had_annual_check=rid in checked, expected=owed)
            standard.append(PersonVerdict(rid, patient.record_no, patient.name, patient.village_id, *s))
        last = summary.last if summary else None
        if everyone or (last is not None and last.day >= period.start):
            c = control_of_last(disease, last, age=age_on(patient.birth, period.end), rules=rules)
            controlled.append(PersonVerdict(rid, patient.record_no, patient.name, patient.village_id, *c))
    return standard, controlled


JSON_COLUMNS = frozenset(name for name in COMPLETENESS_COLUMNS if isinstance(HealthCheck.__table__.c[name].type, JSON))
BLANK = " \t\r\n\u3000"


def _held(column_name: str, key: str | None) -> Any:
    """SQL for "this part of the check holds a value", as `present` judges it (blank text, [] and {} are empty)."""
    column = HealthCheck.__table__.c[column_name]
    if column_name not in JSON_COLUMNS:
        return column.is_not(None)
    value = func.json_extract(column, f"$.{key}") if key is not None else column
    text = func.trim(func.coalesce(func.cast(value, String), ""), BLANK)
    return text.not_in(("", "[]", "{}", "null"))


PRESENCE_FIELDS = tuple((column, key) for part in REQUIRED_PARTS for column, key in part.fields)


def _check_gaps(session: Session, period: Period) -> dict[int, list[str]]:
    """resident id -> the parts missing from their most complete check this year ([] = a complete check).

    SQLite says which parts each check holds (one flag per part's field, as `missing_parts` would
    judge them); checks holding the same parts are named once.
    """
    rows = fetch_tuples(session,
        select(HealthCheck.resident_id, *(_held(column, key) for column, key in PRESENCE_FIELDS))
        .where(HealthCheck.deleted.is_(False), HealthCheck.sync_state != SyncState.ERROR.value,
               HealthCheck.check_date >= period.year_start, HealthCheck.check_date <= period.end))
    judged: dict[tuple, list[str]] = {}
    gaps: dict[int, list[str]] = {}
    for row in rows:
        rid, held = row[0], row[1:]
        if (missing := judged.get(held)) is None:
            missing = judged[held] = _missing_from_flags(held)
        if rid not in gaps or len(missing) < len(gaps[rid]):
            gaps[rid] = missing
    return gaps


def _missing_from_flags(held: tuple) -> list[str]:
    flags = dict(zip(PRESENCE_FIELDS, held, strict=True))
    return [part.name for part in REQUIRED_PARTS if not all(flags[field] for field in part.fields)]


def elderly_verdict(gaps: list[str] | None) -> Verdict:
    """65+ 规范健康管理 from the parts missing from the year's most complete check (None: no check)."""
    if gaps is None:
        return Verdict(False, "本年未做健康体检")
    if gaps:
        return Verdict(False, f"本年体检不完整，{missing_text(gaps)}")
    return Verdict(True)


def elderly_verdicts(session: Session, period: Period, scope: list,
                     counting: IndicatorRules = DEFAULT_INDICATOR_RULES, *,
                     facts: YearFacts | None = None) -> list[PersonVerdict]:
    """Every 65+ resident on the register at the period's end: counted when the year's check is complete."""
    born_by = years_before(period.end, ELDERLY_AGE)
    people = fetch_tuples(session,
        select(Resident.id, Resident.record_no, Resident.name, Resident.village_id)
        .where(Resident.birth_date <= born_by, *scope, *on_register_at(period.end), *resident_population(counting)))
    gaps = (facts or YearFacts.read(session, period)).gaps
    by_gaps: dict[int, Verdict] = {}  # the gap lists are shared between alike checks: one verdict each
    no_check = elderly_verdict(None)
    verdicts = []
    for rid, record_no, name, village_id in people:
        if (missing := gaps.get(rid)) is None:
            verdict = no_check
        elif (verdict := by_gaps.get(id(missing))) is None:
            verdict = by_gaps[id(missing)] = elderly_verdict(missing)
        verdicts.append(PersonVerdict(rid, record_no, name, village_id, *verdict))
    return verdicts


def _populations(session: Session, period: Period, scope: list, counting: IndicatorRules,
                 ages: Iterable[int]) -> dict[int, dict[int, int]]:
    """age -> village id -> residents of that age and over on the register at the period's end (the 常住 basis)."""
    ages = sorted(set(ages))
    born_by = {age: years_before(period.end, age) for age in ages}
    rows = fetch_tuples(session,
        select(Resident.village_id, *(func.sum(case((Resident.birth_date <= born_by[age], 1), else_=0))
                                      for age in ages))
        .where(Resident.birth_date <= born_by[ages[0]], *scope, *on_register_at(period.end),
               *resident_population(counting))
        .group_by(Resident.village_id))
    return {age: {row[0]: row[1 + i] for row in rows} for i, age in enumerate(ages)}


def _coverage(code: str, managed: Iterable[Managed], population: dict[int, int], rate: float) -> list[Figure]:
    per_village: dict[int, int] = defaultdict(int)
    for patient in managed:
        per_village[patient.village_id] += 1
    figures = [Figure(code, vid, per_village.get(vid, 0), round(count * rate, 1))
               for vid, count in sorted(population.items())]
    figures.append(Figure(code, None, sum(per_village.values()), round(sum(population.values()) * rate, 1)))
    return figures


def rule_text(period: Period, rules: FollowupRules, counting: IndicatorRules) -> str:
    """How the period was counted, in the words the county reads beside the figures."""
    owed = expectation(managed_from=period.year_start, period_end=period.end,
                       per_year=rules.face_to_face_per_year, rules=counting)
    parts = [f"{period.label}（{period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}），随访和体检从 1 月 1 日起算",
             (f"规范管理：截至期末应完成面访 {owed.visits} 次（全年 {rules.face_to_face_per_year} 次 × 已过 "
              f"{owed.months} 个整月 ÷ 12，向下取整）")]
    parts.append("年内纳入管理者按纳入后的整月数折算，尚无应做随访者不计入分母" if counting.prorate_enrolment
                 else "年内纳入管理者与全年在管者要求相同")
    parts.append(f"年度健康体检{'要求' if owed.annual_check else '不要求'}"
                 f"（年度统计时对年内管理满 {counting.annual_check_min_months} 个月者要求）")
    parts.append("控制率：期末在管的全部患者，年内无随访按未达标计" if _control_counts_everyone(period, counting)
                 else "控制率：本期内有随访的患者，按最近一次随访")
    parts.append(f"居民人数按{REGISTERED_BASIS if counting.registered_only else RESIDENT_BASIS}；2型糖尿病健康管理率"
                 f"分母为 {counting.diabetes_minimum_age} 岁及以上；期末前死亡、迁出或终止管理者不计入")
    return "；".join(parts) + "。"


def chronic_indicators(request: IndicatorRequest) -> SourceResult:
    """Every chronic indicator for the request's period and villages (rules and prevalence: stored settings)."""
    session, period, scope = request.session, request.period, request.resident_conditions()
    prevalence = request.options.get("prevalence") or prevalence_in(session)
    rules = request.options.get("rules") or followup_rules_in(session)
    counting = request.options.get("indicator_rules") or indicator_rules_in(session)
    figures: list[Figure] = []
    people: dict[str, tuple[PersonVerdict, ...]] = {}
    facts = YearFacts.read(session, period)
    ages = {Disease.HYPERTENSION: ADULT_AGE, Disease.DIABETES: counting.diabetes_minimum_age}
    populations = _populations(session, period, scope, counting, ages.values())
    for disease, prefix in ((Disease.HYPERTENSION, "ht"), (Disease.DIABETES, "dm")):
        patients = _managed(session, disease, period, scope)
        standard, controlled = chronic_verdicts(session, disease, period, scope, rules, facts=facts,
                                                counting=counting, patients=patients)
        people[f"{prefix}_standard"], people[f"{prefix}_control"] = tuple(standard), tuple(controlled)
        figures += figures_of(f"{prefix}_standard", standard) + figures_of(f"{prefix}_control", controlled)
        figures += _coverage(f"{prefix}_coverage", patients, populations[ages[disease]], prevalence[disease])
    people["elderly_care"] = tuple(elderly_verdicts(session, period, scope, counting, facts=facts))
    figures += figures_of("elderly_care", people["elderly_care"])
    return SourceResult(figures, people, rule_text(period, rules, counting))


CHRONIC_INDICATORS = IndicatorSource("chronic", "慢病与老年人健康管理", DEFINITIONS, chronic_indicators)
