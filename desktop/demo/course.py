"""A demo patient's course under treatment, visit by visit, as a village doctor would record it.

Each patient has an untreated level (blood pressure, or fasting glucose for diabetes) and a
regimen of drugs that lowers it; adherence, the seasons and the years push it back up. An
uncontrolled visit makes the doctor add a drug or raise a dose, so the two-week recheck tends
to be better; a referral brings back the hospital's stronger regimen. Lifestyle habits belong
to the person (the same on every visit and at the health check), with the targets the doctor sets.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from desktop.rules.followup import Disease, Readings



@dataclass(frozen=True)
class Drug:
    """A tablet as prescribed in a township: how often, the usual dose, the higher dose, its class."""

    name: str
    times: str
    dose: str
    higher: str | None  # the dose it is raised to, None when it is not raised
    kind: str  # two drugs of one class are not combined
    weight: int  # how often it is the doctor's choice


HYPERTENSION_DRUGS: tuple[Drug, ...] = (
    Drug("苯磺酸氨氯地平片", "1", "5mg", "10mg", "ccb", 6), Drug("硝苯地平缓释片", "2", "10mg", "20mg", "ccb", 6),
    Drug("厄贝沙坦片", "1", "150mg", "300mg", "raas", 4), Drug("缬沙坦胶囊", "1", "80mg", "160mg", "raas", 3),
    Drug("依那普利片", "1", "10mg", "20mg", "raas", 2), Drug("氢氯噻嗪片", "1", "12.5mg", "25mg", "diuretic", 3),
    Drug("吲达帕胺片", "1", "2.5mg", None, "diuretic", 2), Drug("美托洛尔缓释片", "1", "47.5mg", "95mg", "beta", 2),
    Drug("复方利血平氨苯蝶啶片", "1", "1片", None, "compound", 2),
)
DIABETES_DRUGS: tuple[Drug, ...] = (
    Drug("二甲双胍片", "3", "0.5g", None, "biguanide", 12), Drug("格列美脲片", "1", "2mg", "4mg", "sulfonylurea", 4),
    Drug("格列齐特缓释片", "1", "30mg", "60mg", "sulfonylurea", 3), Drug("阿卡波糖片", "3", "50mg", "100mg", "glucosidase", 4),
    Drug("磷酸西格列汀片", "1", "100mg", None, "dpp4", 1),
)
INSULINS: tuple[tuple[str, str], ...] = (
    ("门冬胰岛素30注射液", "早14U 晚10U"), ("甘精胰岛素注射液", "睡前12U"),
    ("精蛋白人胰岛素混合注射液（30R）", "早12U 晚8U"),
)
# drug -> the adverse reaction patients report with it
ADVERSE_REACTIONS = {
    "苯磺酸氨氯地平片": "双下肢轻度水肿", "硝苯地平缓释片": "面部潮红、踝部水肿", "依那普利片": "干咳",
    "美托洛尔缓释片": "心率偏慢、乏力", "氢氯噻嗪片": "乏力，查血钾偏低", "厄贝沙坦片": "头晕",
    "缬沙坦胶囊": "头晕", "吲达帕胺片": "乏力", "复方利血平氨苯蝶啶片": "鼻塞、嗜睡",
    "二甲双胍片": "腹胀、腹泻", "阿卡波糖片": "腹胀、排气增多", "格列美脲片": "偶有心慌出汗，考虑低血糖",
    "格列齐特缓释片": "偶有心慌出汗，考虑低血糖", "磷酸西格列汀片": "上腹不适",
}
HYPERTENSION_COMPLICATIONS = ("新发冠心病", "短暂性脑缺血发作", "肾功能减退（肌酐升高）", "左心室肥厚", "脑梗死后遗症")
DIABETES_COMPLICATIONS = ("糖尿病周围神经病变", "糖尿病视网膜病变", "糖尿病肾病（尿蛋白阳性）", "糖尿病足（足部溃疡）")
REFERRAL_DEPARTMENTS = {Disease.HYPERTENSION: "青山县人民医院心血管内科", Disease.DIABETES: "青山县人民医院内分泌科"}


@dataclass
class Habits:
    """A person's smoking, drinking, exercise and diet, the same wherever they are recorded."""

    cigarettes: int
    alcohol_liang: float
    exercise_times: int
    exercise_minutes: int
    salt: str  # 1 轻 2 中 3 重
    staple_grams: int
    mood: str  # 1 良好 2 一般 3 差
    compliance: str

    def visit_lifestyle(self, disease: Disease) -> dict[str, object]:
        """The visit form's lifestyle rows: now and the target the doctor sets."""
        values: dict[str, object] = {
            "cigarettes_per_day": self.cigarettes,
            "cigarettes_per_day_target": self.cigarettes // 2 if self.cigarettes > 10 else 0,
            "alcohol_liang_per_day": self.alcohol_liang,
            "alcohol_liang_per_day_target": min(self.alcohol_liang, 1.0),
            "exercise_times_per_week": self.exercise_times,
            "exercise_times_per_week_target": max(5, self.exercise_times),
            "exercise_minutes": self.exercise_minutes, "exercise_minutes_target": max(30, self.exercise_minutes),
            "mood": self.mood, "compliance": self.compliance,
        }
        if disease is Disease.HYPERTENSION:
            values |= {"salt": self.salt, "salt_target": "1"}
        else:
            values |= {"staple_grams_per_day": self.staple_grams,
                       "staple_grams_per_day_target": min(self.staple_grams, 300)}
        return values

    def check_lifestyle(self) -> dict[str, str]:
        """The health check's lifestyle section, in its words."""
        exercise = "不锻炼" if self.exercise_times == 0 else "每天" if self.exercise_times >= 6 else \
            "每周一次以上" if self.exercise_times >= 2 else "偶尔"
        drinking = "从不" if not self.alcohol_liang else "每天" if self.alcohol_liang >= 2 else "经常"
        return {"exercise": exercise, "diet": "嗜盐" if self.salt == "3" else "荤素均衡",
                "smoking": "吸烟" if self.cigarettes else "从不吸烟", "drinking": drinking}


def habits_of(resident_id: int, sex: str) -> Habits:
    """The habits of one resident, drawn from their id so visits and checks agree."""
    rng = random.Random(resident_id * 7919 + 17)
    man = sex == "1"
    cigarettes = rng.choice((5, 10, 10, 15, 20, 20, 30)) if rng.random() < (0.38 if man else 0.02) else 0
    alcohol = rng.choice((0.5, 1.0, 1.5, 2.0, 3.0, 4.0)) if rng.random() < (0.35 if man else 0.03) else 0.0
    active = rng.random()
    exercise_times = 0 if active < 0.25 else rng.choice((2, 3, 3, 5, 7, 7))
    minutes = 0 if exercise_times == 0 else rng.choice((20, 30, 30, 40, 60))
    salt = rng.choices("123", weights=(25, 55, 20))[0]
    mood = rng.choices("123", weights=(80, 18, 2))[0]
    compliance = rng.choices("123", weights=(74, 22, 4))[0]
    return Habits(cigarettes, alcohol, exercise_times, minutes, salt, rng.choice((250, 300, 350, 400, 450)), mood,
                  compliance)


def _even(value: float) -> int:
    """Blood pressure as read off a mercury column: an even number."""
    return int(round(value / 2) * 2)


# How well a patient's treatment holds: (share of patients, how much a change helps, chance to reach a referral).
CONTROL_KINDS = {"good": (0.38, 1.0, 0.92), "partial": (0.32, 0.6, 0.88), "poor": (0.3, 0.3, 0.45)}


@dataclass
class Course:
    """One patient's level on treatment, regimen and adherence, moved along visit by visit."""

    disease: Disease
    rng: random.Random
    kind: str  # a key of CONTROL_KINDS
    set_point: float  # the level the patient's regimen holds them at
    excess: float = 0.0  # how far above it an untreated patient is, until treatment starts
    relief: float = 0.0  # a recent change's extra effect, wearing off
    regimen: list[list[str]] = field(default_factory=list)  # [name, times per day, dose]
    insulin: tuple[str, str] | None = None
    complications: int = 0
    bp_base: float = 130.0

    @classmethod
    def start(cls, rng: random.Random, disease: Disease, *, elderly: bool, treated: bool) -> Course:
        """A patient at the start of the demo's history: already on treatment unless newly diagnosed."""
        kind = rng.choices(list(CONTROL_KINDS), weights=[v[0] for v in CONTROL_KINDS.values()])[0]
        if disease is Disease.HYPERTENSION:
            target = 150 if elderly else 140
            offset = {"good": -rng.gauss(14, 5), "partial": -rng.gauss(0.5, 4), "poor": rng.gauss(9, 6)}[kind]
            course = cls(disease, rng, kind, target + offset, excess=0 if treated else rng.gauss(22, 6))
        else:
            offset = {"good": -rng.gauss(0.9, 0.35), "partial": rng.gauss(0.25, 0.35),
                      "poor": rng.gauss(1.5, 0.7)}[kind]
            course = cls(disease, rng, kind, 7.0 + offset, excess=0 if treated else rng.gauss(2.6, 0.8),
                         bp_base=rng.gauss(130, 10))
        if treated:
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                course._change_regimen()
        return course

    @property
    def helps(self) -> float:
        return CONTROL_KINDS[self.kind][1]

    def adherence_code(self) -> str:
        """服药依从性 as recorded: 1 规律, 2 间断, 3 不服药."""
        roll = self.rng.random()
        if self.kind == "good":
            return "1" if roll < 0.95 else "2"
        if self.kind == "partial":
            return "1" if roll < 0.7 else "2"
        return "2" if roll < 0.8 else "3"

    def reaches_referral(self) -> bool:
        return self.rng.random() < CONTROL_KINDS[self.kind][2]

    def level(self, day: date) -> float:
        """The patient's expected level on this day, before the reading's own scatter."""
        winter = {12: 1.0, 1: 1.0, 2: 0.6, 6: -0.6, 7: -1.0, 8: -0.8}.get(day.month, 0.0)
        season = winter * (4 if self.disease is Disease.HYPERTENSION else 0.25)
        return self.set_point + self.excess - self.relief + season

    def age_a_little(self) -> None:
        """Between visits: the level creeps up with the years and a recent change's extra effect wears off."""
        hypertension = self.disease is Disease.HYPERTENSION
        self.set_point += self.rng.gauss(0.1, 0.8) if hypertension else self.rng.gauss(0.01, 0.08)
        self.relief *= 0.6

    def readings(self, day: date, *, self_measured: bool = False) -> Readings:
        """One visit's readings around the patient's level."""
        rng = self.rng
        if self.disease is Disease.HYPERTENSION:
            sbp = min(228.0, max(98.0, rng.gauss(self.level(day), 8)))
        else:
            sbp = min(200.0, max(98.0, rng.gauss(self.bp_base, 9)))
        dbp = min(sbp - 22, max(56.0, 0.45 * sbp + rng.gauss(21, 5)))
        glucose = None
        if self.disease is Disease.DIABETES:
            glucose = round(min(24.0, max(4.0, rng.gauss(self.level(day), 0.75))), 1)
        heart_rate = int(min(98, max(56, rng.gauss(75, 8))))
        if self_measured:
            return Readings(sbp=int(sbp), dbp=int(dbp), fasting_glucose=glucose, heart_rate=heart_rate)
        return Readings(sbp=_even(sbp), dbp=_even(min(dbp, sbp - 22)), fasting_glucose=glucose, heart_rate=heart_rate)

    def intensify(self) -> list[dict[str, str]]:
        """The doctor adds a drug or raises a dose; returns the 用药调整意见 rows."""
        advice = self._change_regimen()
        hypertension = self.disease is Disease.HYPERTENSION
        self.excess = 0.0
        self.relief += (9 if hypertension else 1.1) * self.helps
        return advice

    def after_referral(self, *, arrived: bool) -> None:
        """The hospital's regimen, when the patient got there: stronger, and better kept to for a while."""
        self.intensify()
        if arrived:
            hypertension = self.disease is Disease.HYPERTENSION
            self.relief += (self.rng.uniform(8, 14) if hypertension else self.rng.uniform(1.0, 1.8)) * self.helps
            self.set_point -= 1 if hypertension else 0.1

    def _change_regimen(self) -> list[dict[str, str]]:
        """Add a drug or raise a dose (for diabetes, finally insulin); returns the 用药调整意见 rows."""
        if len(self.regimen) < 3 and (drug := self._next_drug()) is not None:
            self.regimen.append([drug.name, drug.times, drug.dose])
            return [{"name": drug.name, "dose": f"每日{drug.times}次，每次{drug.dose}"}]
        by_name = {drug.name: drug for drug in self.drugs}
        for row in self.regimen:
            higher = by_name[row[0]].higher
            if higher is not None and row[2] != higher:
                row[2] = higher
                return [{"name": row[0], "dose": f"加量至每日{row[1]}次，每次{row[2]}"}]
        if self.disease is Disease.DIABETES and self.insulin is None and self.rng.random() < 0.3:
            self.insulin = self.rng.choice(INSULINS)
            return [{"name": self.insulin[0], "dose": self.insulin[1]}]
        return []

    def switch_for_reaction(self) -> tuple[str, list[dict[str, str]]]:
        """An adverse reaction to one drug: the note, and the drug that replaces it (or none)."""
        old = self.regimen.pop(self.rng.randrange(len(self.regimen)))[0]
        note = f"服用{old}后{ADVERSE_REACTIONS.get(old, '不适')}"
        drug = self._next_drug(avoid=old)
        if drug is None:
            return note, [{"name": old, "dose": "停用"}]
        self.regimen.append([drug.name, drug.times, drug.dose])
        return note, [{"name": drug.name, "dose": f"停用{old}，改为每日{drug.times}次，每次{drug.dose}"}]

    def _next_drug(self, avoid: str = "") -> Drug | None:
        """The doctor's usual next choice: a class the patient is not on yet."""
        taken = {drug.kind for drug in self.drugs if any(row[0] == drug.name for row in self.regimen)}
        choices = [drug for drug in self.drugs if drug.kind not in taken and drug.name != avoid]
        if not choices:
            return None
        return self.rng.choices(choices, weights=[drug.weight for drug in choices])[0]

    @property
    def drugs(self) -> tuple[Drug, ...]:
        return HYPERTENSION_DRUGS if self.disease is Disease.HYPERTENSION else DIABETES_DRUGS

    def medications(self) -> list[dict[str, str]]:
        return [{"name": name, "times_per_day": times, "dose": dose} for name, times, dose in self.regimen]

    def complication(self) -> str:
        self.complications += 1
        choices = HYPERTENSION_COMPLICATIONS if self.disease is Disease.HYPERTENSION else DIABETES_COMPLICATIONS
        return self.rng.choice(choices)
