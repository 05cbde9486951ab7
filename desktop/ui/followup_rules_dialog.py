"""随访规则与患病率: the branch's follow-up targets and thresholds and the prevalence per disease."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QLineEdit, QWidget

from desktop.rules.followup import DEFAULT_RULES, Disease, FollowupRules
from desktop.rules.numbers import decimal_or_none
from desktop.services.settings import (
    DEFAULT_PREVALENCE,
    PREVALENCE_FIELDS,
    PREVALENCE_LABELS,
    RULE_BOUNDS,
    rule_problems,
    set_followup_rules,
)
from desktop.ui.context import UiContext
from desktop.ui.form_dialog import FormDialog, Work, combine_errors, hint_label


def rules_summary(rules: FollowupRules, rates: dict[Disease, float]) -> str:
    """One line per setting that differs from the national default (or a note that none does)."""
    lines = [f"{label}：{getattr(rules, name):g} {unit}（默认 {getattr(DEFAULT_RULES, name):g}）"
             for name, (label, unit, _low, _high) in RULE_BOUNDS.items()
             if getattr(rules, name) != getattr(DEFAULT_RULES, name)]
    lines += [f"{PREVALENCE_LABELS[d]}：{percent_text(rates[d])} %（默认 {percent_text(DEFAULT_PREVALENCE[d])} %）"
              for d in DEFAULT_PREVALENCE if rates[d] != DEFAULT_PREVALENCE[d]]
    return "\n".join(lines) or "全部按国家规范默认值。"


def percent_text(rate: float) -> str:
    """A stored rate (0.275) as the percentage people type and read (27.5)."""
    return f"{round(rate * 100, 4):g}"


def rate_of_percent(percent: float) -> float:
    """A typed percentage (27.5) as the stored rate (0.275)."""
    return round(percent / 100, 6)


def _number(text: str) -> float | None:
    return decimal_or_none(text.strip().removesuffix("%").removesuffix("％"))


RULES_HELP = ("控制目标：低于该值为控制满意。老年患者指年龄不低于“老年患者年龄”者。"
              "患病率按百分数填写（如 27.5 表示 27.5%），用于估算辖区患者数（健康管理率的分母）。")


class FollowupRulesDialog(FormDialog):
    """Every configurable target, threshold and interval, with the prevalence per disease."""

    def __init__(self, ctx: UiContext, rules: FollowupRules, rates: dict[Disease, float],
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, "随访规则与患病率", parent)
        self.edits: dict[str, QLineEdit] = {}
        for name, (label, unit, low, high) in RULE_BOUNDS.items():
            self._add(name, f"{label}（{unit}）", f"{getattr(rules, name):g}", f"{low:g}–{high:g}")
        for disease, name in PREVALENCE_FIELDS.items():
            self._add(name, f"{PREVALENCE_LABELS[disease]}（%）", percent_text(rates[disease]), "0–100，如 27.5")
        # Under the form, not in it: a wrapped label in a form row is given one line's height and is cut off.
        self.layout().insertWidget(1, hint_label(RULES_HELP))
        self.finish()

    def _add(self, name: str, label: str, value: str, hint: str) -> None:
        edit = QLineEdit(value)
        edit.setPlaceholderText(hint)
        edit.setToolTip(hint)
        self.edits[name] = self.add_field(label, name, edit)

    def values(self) -> tuple[FollowupRules, dict[Disease, float]]:
        """The typed rules and prevalence; a field that is not a number is named in the error."""
        numbers = {name: _number(edit.text()) for name, edit in self.edits.items()}
        combine_errors({name: f"{_label(name)}“{self.edits[name].text().strip()}”不是数字。"
                        for name, number in numbers.items() if number is None})
        rules = replace(DEFAULT_RULES, **{name: _typed(name, numbers[name]) for name in RULE_BOUNDS})
        combine_errors({name: f"{_label(name)}应在 0 与 100 之间（填百分数，如 27.5 表示 27.5%）。"
                        for name in PREVALENCE_FIELDS.values() if not 0 < numbers[name] < 100})
        rates = {disease: rate_of_percent(numbers[name]) for disease, name in PREVALENCE_FIELDS.items()}
        return rules, rates

    def submit(self) -> Work:
        rules, rates = self.values()
        combine_errors(rule_problems(rules, rates))
        ctx = self.ctx
        return lambda: set_followup_rules(ctx.db, ctx.actor, rules, rates)


def _typed(name: str, number: float) -> int | float:
    """Whole numbers for the whole-number rules (a fraction stays, for the service to refuse)."""
    whole = isinstance(getattr(DEFAULT_RULES, name), int) and number == int(number)
    return int(number) if whole else number


def _label(name: str) -> str:
    if name in RULE_BOUNDS:
        return RULE_BOUNDS[name][0]
    return next(PREVALENCE_LABELS[d] for d, field in PREVALENCE_FIELDS.items() if field == name)
