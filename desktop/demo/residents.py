"""Demo residents: households of a rural township with a believable age pyramid.

Names are drawn from common surnames (with a few whose surname reading differs from the
everyday one, so pinyin search can be tried on them) and given-name characters typical
for each generation. ID numbers are valid for the branch's county code. Key populations
are assigned at roughly the prevalence a township in central China sees. Over the demo's
years some people die (about 8 per 1000 a year, mostly the old) and some move away (mostly
people of working age); their records keep the date and a note as a clerk writes them.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import count

from sqlalchemy import func, insert, select, update

from desktop.clock import now
from desktop.db import Database
from desktop.demo.steps import HISTORY_YEARS, DemoContext, DemoStep
from desktop.jobs import ProgressFn, no_progress, raise_if_aborted
from desktop.models import Branch, Household, RecordNumberCounter, Resident, ResidentCondition, Staff, Village
from desktop.models.base import SITE_ID_KEY
from desktop.models.sync_columns import new_sync_rows
from desktop.rules.idnumbers import make_id
from desktop.rules.pinyin import name_keys
from desktop.rules.population import HEAD_OF_HOUSEHOLD, KeyPopulation, ResidentStatus
from desktop.rules.profile import HistoryEntry, Profile

# (surname, weight); 单 曾 解 仇 区 朴 read differently as surnames.
SURNAMES: tuple[tuple[str, int], ...] = (
    ("王", 70), ("李", 68), ("张", 64), ("刘", 52), ("陈", 46), ("杨", 32), ("黄", 22), ("赵", 22), ("吴", 20),
    ("周", 19), ("徐", 16), ("孙", 15), ("马", 14), ("朱", 13), ("胡", 12), ("郭", 11), ("何", 10), ("高", 10),
    ("林", 9), ("罗", 9), ("郑", 9), ("梁", 8), ("谢", 8), ("宋", 7), ("唐", 7), ("许", 7), ("韩", 6), ("冯", 6),
    ("邓", 6), ("曹", 6), ("彭", 5), ("曾", 5), ("肖", 5), ("田", 5), ("董", 5), ("袁", 4), ("潘", 4), ("于", 4),
    ("蒋", 4), ("蔡", 4), ("余", 4), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 3), ("魏", 3), ("吕", 3), ("丁", 3),
    ("任", 3), ("沈", 3), ("姚", 3), ("卢", 3), ("汪", 3), ("储", 2), ("单", 2), ("解", 1), ("仇", 1), ("查", 1),
)
MALE_CHARACTERS = {
    "old": "德福贵明华国建忠宝金山林春生玉文成志富海长庆荣广发永",
    "middle": "建军国强卫东志刚海涛小平红兵立新勇伟军明杰斌峰",
    "young": "浩宇子轩俊杰一鸣宇航博文浩然梓豪晨阳嘉豪天佑睿",
}
FEMALE_CHARACTERS = {
    "old": "秀兰桂英凤珍玉梅淑芬翠兰春花金凤桂芳秀珍素英",
    "middle": "丽红霞芳静燕敏艳华娟玲美丽晓梅慧丽",
    "young": "欣怡梓涵诗琪雨萱可馨思彤佳怡紫涵梦瑶一诺",
}
# Age bands (lower, upper, weight): an older rural population, many of working age away.
AGE_BANDS: tuple[tuple[int, int, int], ...] = (
    (0, 6, 6), (7, 17, 11), (18, 34, 15), (35, 49, 18), (50, 64, 27), (65, 79, 18), (80, 95, 5),
)

# Yearly chance of dying by age band (upper age, chance): about 8 per 1000 over the township.
DEATH_RATES: tuple[tuple[int, float], ...] = ((35, 0.0008), (50, 0.003), (65, 0.009), (80, 0.03), (200, 0.1))
DEATH_NOTES: tuple[tuple[str, int], ...] = (
    ("脑卒中", 26), ("急性心肌梗死", 14), ("肺癌", 9), ("慢性阻塞性肺疾病", 9), ("肝癌", 5), ("胃癌", 5),
    ("老年衰竭", 16), ("交通事故", 4), ("肺部感染", 7), ("肾功能衰竭", 3),
)
YOUNG_DEATH_NOTES = ("交通事故", "溺水", "白血病", "肝癌", "急性心肌梗死")
MOVE_NOTES = ("随子女迁居县城", "外出务工，全家迁往浙江宁波", "户口迁至外省", "婚嫁迁往邻镇", "在省城购房定居",
              "投靠子女迁往外地")


@dataclass(frozen=True)
class LifeEvent:
    """A resident's death or move-out within the demo's years."""

    status: ResidentStatus
    day: date
    note: str


@dataclass(frozen=True)
class Person:
    name: str
    sex: str
    birth: date
    relation: str


@dataclass
class _Batch:
    households: list[dict] = field(default_factory=list)
    residents: list[dict] = field(default_factory=list)
    conditions: list[dict] = field(default_factory=list)
    heads: list[tuple[int, int]] = field(default_factory=list)


def _generation(age: int) -> str:
    return "old" if age >= 55 else "middle" if age >= 25 else "young"


def _years_ago(today: date, years: int) -> date:
    return today.replace(year=today.year - years) if not (today.month == 2 and today.day == 29) \
        else date(today.year - years, 2, 28)


def random_name(rng: random.Random, sex: str, age: int, surname: str | None = None) -> str:
    surname = surname or rng.choices([s for s, _ in SURNAMES], weights=[w for _, w in SURNAMES])[0]
    pool = (MALE_CHARACTERS if sex == "1" else FEMALE_CHARACTERS)[_generation(age)]
    length = 1 if rng.random() < 0.25 else 2
    return surname + "".join(rng.choice(pool) for _ in range(length))


def _birth_for_age(rng: random.Random, age: int, today: date) -> date:
    return today - timedelta(days=age * 365 + rng.randrange(365))


def random_household(rng: random.Random, today: date) -> list[Person]:
    """A head of household and the people living with them."""
    head_age = rng.choices([rng.randint(lo, hi) for lo, hi, _ in AGE_BANDS[2:]], weights=[w for *_, w in AGE_BANDS[2:]])[0]
    head_sex = "1" if rng.random() < 0.8 else "2"
    surname = rng.choices([s for s, _ in SURNAMES], weights=[w for _, w in SURNAMES])[0]
    people = [Person(random_name(rng, head_sex, head_age, surname), head_sex, _birth_for_age(rng, head_age, today),
                     HEAD_OF_HOUSEHOLD)]
    if rng.random() < 0.82:
        age = max(18, head_age + rng.randint(-5, 3))
        sex = "2" if head_sex == "1" else "1"
        people.append(Person(random_name(rng, sex, age), sex, _birth_for_age(rng, age, today), "10"))
    if head_age < 70:
        for _ in range(rng.choices((0, 1, 2, 3), weights=(25, 40, 28, 7))[0]):
            age = head_age - rng.randint(22, 34)
            if age < 0:
                continue
            sex = rng.choice("12")
            people.append(Person(random_name(rng, sex, age, surname), sex, _birth_for_age(rng, age, today),
                                 "20" if sex == "1" else "30"))
    if head_age < 50 and rng.random() < 0.3:
        age = head_age + rng.randint(22, 32)
        sex = rng.choice("12")
        people.append(Person(random_name(rng, sex, age, surname if sex == "1" else None), sex,
                             _birth_for_age(rng, age, today), "50"))
    if head_age >= 50 and rng.random() < 0.45:
        age = rng.randint(0, 14)
        sex = rng.choice("12")
        people.append(Person(random_name(rng, sex, age, surname), sex, _birth_for_age(rng, age, today), "40"))
    return people


def random_conditions(rng: random.Random, person: Person, today: date) -> list[tuple[KeyPopulation, date]]:
    """Recorded key populations, at rough rural prevalence by age."""
    age = (today - person.birth).days // 365
    found: list[tuple[KeyPopulation, date]] = []

    def diagnosed(min_age: int) -> date:
        earliest = person.birth + timedelta(days=365 * min_age)
        span = max(1, (today - earliest).days)
        return earliest + timedelta(days=rng.randrange(span))

    if age >= 35 and rng.random() < min(0.42, 0.06 + 0.009 * (age - 35)):
        found.append((KeyPopulation.HYPERTENSION, diagnosed(35)))
    if age >= 35 and rng.random() < min(0.16, 0.025 + 0.003 * (age - 35)):
        found.append((KeyPopulation.DIABETES, diagnosed(35)))
    if age >= 15 and rng.random() < 0.005:
        found.append((KeyPopulation.SEVERE_MENTAL_ILLNESS, diagnosed(15)))
    if age >= 15 and rng.random() < 0.0008:
        found.append((KeyPopulation.TUBERCULOSIS, today - timedelta(days=rng.randrange(300))))
    if rng.random() < 0.02 + (0.06 if age >= 65 else 0):
        found.append((KeyPopulation.DISABLED, diagnosed(0)))
    if rng.random() < 0.05:
        found.append((KeyPopulation.POVERTY_RELIEF, max(person.birth, today - timedelta(days=rng.randrange(2000)))))
    if person.sex == "2" and 20 <= age <= 40 and rng.random() < 0.03:
        found.append((KeyPopulation.PREGNANT, today - timedelta(days=rng.randrange(250))))
    return found


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _education(rng: random.Random, age: int) -> str | None:
    if age < 7:
        return None
    if age < 18:
        return "8" if age < 13 else ("7" if age < 16 else "6")
    if age >= 65:
        return _pick(rng, {"9": 40, "8": 45, "7": 12, "6": 3})
    if age >= 35:
        return _pick(rng, {"9": 3, "8": 30, "7": 45, "6": 12, "4": 5, "3": 5})
    return _pick(rng, {"7": 30, "6": 22, "4": 10, "5": 3, "3": 20, "2": 14, "1": 1})


def _marital(rng: random.Random, age: int, relation: str) -> str | None:
    if age < 18:
        return None
    if relation == "10" or (relation == HEAD_OF_HOUSEHOLD and age < 65 and rng.random() < 0.9):
        return "2"
    if age >= 65:
        return _pick(rng, {"2": 55, "3": 42, "4": 3})
    return _pick(rng, {"1": 50, "2": 42, "4": 5, "3": 3}) if age < 30 else _pick(rng, {"2": 88, "1": 5, "4": 4, "3": 3})


def _contact(person: Person, members: list[Person]) -> str | None:
    """The head of the household, or for the head another adult member."""
    others = [m.name for m in members if m is not person and m.relation in (HEAD_OF_HOUSEHOLD, "10", "20", "30")]
    return others[0] if others else None


def _payments(insurance: str, kinds: set[KeyPopulation]) -> tuple[str, ...]:
    if "职工" in insurance:
        return ("1",)
    return ("3", "4") if KeyPopulation.POVERTY_RELIEF in kinds else ("3",)


def _past_diseases(rng: random.Random, person: Person, age: int, conditions, today: date) -> tuple[HistoryEntry, ...]:
    """The conditions recorded on the resident, and a few other chronic diseases the 规范's list names."""
    codes = {KeyPopulation.HYPERTENSION: "2", KeyPopulation.DIABETES: "3", KeyPopulation.SEVERE_MENTAL_ILLNESS: "8",
             KeyPopulation.TUBERCULOSIS: "9"}
    found = [HistoryEntry("", since, codes[kind]) for kind, since in conditions if kind in codes]
    for code, min_age, chance in (("4", 50, 0.04), ("5", 60, 0.04), ("7", 60, 0.03)):
        if age > min_age and rng.random() < chance:
            found.append(HistoryEntry("", person.birth + timedelta(days=rng.randrange(365 * min_age, 365 * age)), code))
    return tuple(sorted((e for e in found if e.day is None or e.day <= today), key=lambda e: int(e.code or 0)))


def _events(rng: random.Random, person: Person, age: int, chance: float, names: tuple[str, ...]):
    if age < 18 or rng.random() >= chance:
        return ()
    day = person.birth + timedelta(days=rng.randrange(365 * 16, 365 * age))
    return (HistoryEntry(rng.choice(names), date(day.year, day.month, 1)),)


def demo_living(household: int) -> dict[str, str]:
    """A household's 生活环境 (kitchen, fuel, water, toilet, livestock), drawn from its own generator."""
    home = random.Random(household * 104729 + 1)
    return {"kitchen_exhaust": _pick(home, {"1": 15, "2": 35, "3": 20, "4": 30}),
            "fuel": _pick(home, {"1": 45, "2": 8, "3": 10, "4": 5, "5": 30}),
            "water": _pick(home, {"1": 75, "2": 5, "3": 18, "4": 2}),
            "toilet": _pick(home, {"1": 60, "2": 15, "3": 15, "4": 5, "5": 5}),
            "livestock": _pick(home, {"1": 55, "2": 35, "3": 3, "4": 7})}


def demo_profile(person: Person, conditions, *, today: date, insurance: str, resident: int,
                 living: dict[str, str], contact: str | None = None) -> dict:
    """A plausible 个人基本信息表 for a demo resident, consistent with their recorded conditions.

    Drawn from a generator seeded by the resident's id, so the demo's main sequence (and every
    later step) stays as it was.
    """
    rng = random.Random(resident * 7919)
    age = (today - person.birth).days // 365
    kinds = {kind for kind, _ in conditions}
    disabled = KeyPopulation.DISABLED in kinds
    parents = {"2": 25, "3": 8, "7": 6, "1": 61}
    return Profile(
        residence_type="1" if rng.random() < 0.93 else "2", contact_name=contact,
        blood_type=_pick(rng, {"1": 28, "2": 30, "3": 30, "4": 9, "5": 3}),
        rh=_pick(rng, {"2": 82, "3": 18}), education=_education(rng, age),
        occupation=None if age < 18 else _pick(
            rng, {"4": 60, "3": 10, "5": 8, "8": 16 if age < 65 else 60, "1": 3, "2": 2, "7": 1}),
        marital_status=_marital(rng, age, person.relation),
        payment_methods=_payments(insurance, kinds),
        drug_allergies=(_pick(rng, {"1": 88, "2": 7, "3": 2, "4": 1, "5": 2}),),
        exposures=(_pick(rng, {"1": 97, "2": 2, "3": 1}),),
        past_history={"diseases": _past_diseases(rng, person, age, conditions, today),
                      "operations": _events(rng, person, age, 0.08, ("阑尾切除术", "胆囊切除术", "疝修补术")),
                      "traumas": _events(rng, person, age, 0.04, ("左前臂骨折", "右踝关节骨折", "头皮裂伤")),
                      "transfusions": _events(rng, person, age, 0.01, ("外伤失血", "手术失血"))},
        family_history={"father": (_pick(rng, parents),), "mother": (_pick(rng, parents),), "siblings": ("1",),
                        "children": ("1",)},
        genetic_disease="无", disabilities=(rng.choice("55567234"),) if disabled else ("1",),
        living_environment=living,
    ).columns()


def _death_rate(age: int) -> float:
    return next(rate for upper, rate in DEATH_RATES if age < upper)


def _move_rate(age: int) -> float:
    return 0.006 if 18 <= age < 50 else 0.0012


def life_event(rng: random.Random, person: Person, today: date, registered_on: date) -> LifeEvent | None:
    """Whether this person died or moved out during the demo's years, and when (after registration)."""
    start = max(registered_on, today - timedelta(days=365 * HISTORY_YEARS)) + timedelta(days=1)
    span = (today - start).days
    if span < 2:
        return None
    age, years = (today - person.birth).days // 365, span / 365
    roll = rng.random()
    if roll < _death_rate(age) * years:
        cause = rng.choices([c for c, _ in DEATH_NOTES], weights=[w for _, w in DEATH_NOTES])[0]
        if age < 50:
            cause = rng.choice(YOUNG_DEATH_NOTES)
        day = start + timedelta(days=rng.randrange(span))
        return LifeEvent(ResidentStatus.DECEASED, day, f"{cause}，家属告知，已核实")
    if roll < (_death_rate(age) + _move_rate(age)) * years:
        day = start + timedelta(days=rng.randrange(span))
        return LifeEvent(ResidentStatus.MOVED_OUT, day, rng.choice(MOVE_NOTES))
    return None


def add_demo_residents(
    db: Database,
    target: int,
    *,
    rng: random.Random,
    abort: threading.Event,
    progress: ProgressFn = no_progress,
) -> int:
    """Add households until the branch has `target` residents; returns how many were added."""
    today = now().date()
    with db.read() as session:
        have = session.scalar(select(func.count(Resident.id))) or 0
    added = 0
    while have + added < target:
        raise_if_aborted(abort)
        added += _write_batch(db, rng, today, min(5000, target - have - added))
        progress((have + added) / target, f"已生成居民 {have + added} / {target}")
    return added


def _write_batch(db: Database, rng: random.Random, today: date, wanted: int) -> int:
    with db.write() as session:
        branch = session.get(Branch, 1)
        assert branch is not None
        session.info[SITE_ID_KEY] = branch.site_id
        prefix9 = branch.county_code + branch.township_code
        villages = list(session.scalars(select(Village).where(Village.deleted.is_(False)).order_by(Village.code)))
        doctors = _village_doctors(session, villages)
        ids = _IdSource(session)
        batch = _Batch()
        serials = _Serials(session)
        while len(batch.residents) < wanted:
            village = rng.choice(villages)
            _add_household(batch, rng, today, village, ids, serials, prefix9, doctors.get(village.id))
        _trim(batch, wanted)
        for table, rows in ((Household, batch.households), (Resident, batch.residents),
                            (ResidentCondition, batch.conditions)):
            if rows:
                session.execute(insert(table), new_sync_rows(session, table, rows))
        if batch.heads:
            session.execute(update(Household), [{"id": h, "head_id": r} for h, r in batch.heads])
        serials.store(session)
        return len(batch.residents)


def _trim(batch: _Batch, wanted: int) -> None:
    """Drop the last household's extra members (never its head, who comes first)."""
    dropped = {row["id"] for row in batch.residents[wanted:]}
    del batch.residents[wanted:]
    batch.conditions[:] = [row for row in batch.conditions if row["resident_id"] not in dropped]


class _IdSource:
    """Next free primary keys, so households and residents can refer to each other before insert."""

    def __init__(self, session) -> None:
        self.household = count((session.scalar(select(func.max(Household.id))) or 0) + 1)
        self.resident = count((session.scalar(select(func.max(Resident.id))) or 0) + 1)
        self.used_numbers = set(session.scalars(select(Resident.id_number).where(Resident.id_number.is_not(None))))


class _Serials:
    """Record-number serials per village, kept in step with RecordNumberCounter."""

    def __init__(self, session) -> None:
        self.last = {c.prefix: c.last_serial for c in session.scalars(select(RecordNumberCounter))}

    def next(self, prefix12: str) -> str:
        self.last[prefix12] = self.last.get(prefix12, 0) + 1
        return f"{prefix12}{self.last[prefix12]:05d}"

    def store(self, session) -> None:
        for prefix, serial in self.last.items():
            counter = session.get(RecordNumberCounter, prefix)
            if counter is None:
                session.add(RecordNumberCounter(prefix=prefix, last_serial=serial))
            else:
                counter.last_serial = serial


def _village_doctors(session, villages: list[Village]) -> dict[int, int]:
    """village id -> the staff id of its clinic's first doctor."""
    doctors: dict[int, int] = {}
    for village in villages:
        for clinic in village.clinics:
            staff_id = session.scalar(select(Staff.id).where(Staff.clinic_id == clinic.id).order_by(Staff.id))
            if staff_id is not None:
                doctors.setdefault(village.id, staff_id)
    return doctors


def _id_number(rng: random.Random, ids: _IdSource, area: str, person: Person) -> str | None:
    if rng.random() < 0.01:
        return None  # a few people (mostly very old) have no ID number on record
    while True:
        sequence = rng.randrange(0, 500) * 2 + (1 if person.sex == "1" else 0)
        number = make_id(area, person.birth, sequence)
        if number not in ids.used_numbers:
            ids.used_numbers.add(number)
            return number


def _add_household(batch: _Batch, rng: random.Random, today: date, village: Village, ids: _IdSource,
                   serials: _Serials, prefix9: str, doctor_id: int | None) -> None:
    household_id = next(ids.household)
    address = f"{village.name}{rng.choice('东西南北中')}组{rng.randint(1, 120)}号"
    members = random_household(rng, today)
    living = demo_living(household_id)
    household = {"id": household_id, "village_id": village.id, "address": address, "head_id": None}
    batch.households.append(household)
    for person in members:
        resident_id = next(ids.resident)
        if person.relation == HEAD_OF_HOUSEHOLD:
            batch.heads.append((household_id, resident_id))
        record_no = serials.next(prefix9 + village.code)
        number = _id_number(rng, ids, prefix9[:6], person)
        initials, full = name_keys(person.name)
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" if rng.random() < 0.85 else None
        registered_on = max(person.birth, today - timedelta(days=rng.randrange(3650)))
        consenting = rng.random() < 0.6
        insurance = "城乡居民基本医疗保险" if rng.random() < 0.93 else "城镇职工基本医疗保险"
        event = life_event(rng, person, today, registered_on)
        until = event.day if event else today
        conditions = random_conditions(rng, person, until)
        batch.residents.append({
            "id": resident_id, "record_no": record_no, "record_no_rev": record_no[::-1], "name": person.name,
            "name_initials": initials, "name_pinyin": full, "name_rev": person.name[::-1], "sex": person.sex,
            "birth_date": person.birth,
            "id_number": number, "id_number_rev": number[::-1] if number else None, "ethnicity": "汉族",
            "phone": phone, "phone_rev": phone[::-1] if phone else None, "address": address,
            "village_id": village.id, "household_id": household_id, "relation_to_head": person.relation,
            "insurance_type": insurance,
            "registered_on": registered_on, "registered_by": f"cunyi{village.code}",
            "responsible_doctor_id": doctor_id, "status": event.status.value if event else ResidentStatus.ACTIVE.value,
            "status_date": event.day if event else None, "status_note": event.note if event else None,
            "consent_given_by": (person.name if person.birth <= _years_ago(today, 18) else members[0].name)
            if consenting else None,
            "consent_on": registered_on if consenting else None,
            "consent_notice_version": "2024版" if consenting else None,
            **demo_profile(person, conditions, today=until, insurance=insurance, resident=resident_id,
                            living=living, contact=_contact(person, members)),
        })
        for kind, since in conditions:
            batch.conditions.append({"resident_id": resident_id, "kind": kind.value, "since": since})


def residents_step(db: Database, rng: random.Random, context: DemoContext) -> None:
    """Households and residents up to the requested number."""
    context.residents_added = add_demo_residents(db, context.target_residents, rng=rng, abort=context.abort,
                                                 progress=context.progress)


STEP = DemoStep("residents", "正在生成居民……", residents_step, weight=0.6)
