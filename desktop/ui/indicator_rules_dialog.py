"""指标统计规则: how the branch counts month, quarter and year indicators, and the diabetes enrolment age."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QSpinBox, QWidget

from desktop.rules.chronic_indicators import ControlBasis, IndicatorRules
from desktop.services.settings import (
    INDICATOR_RULE_BOUNDS,
    INDICATOR_RULE_LABELS,
    indicator_rule_problems,
    set_indicator_rules,
)
from desktop.ui.context import UiContext
from desktop.ui.form_dialog import FormDialog, Work, combine_errors, hint_label
from desktop.ui.forms import combo

HINT = ("规范管理率按时间进度计：每年 4 次面访，季度末分别应完成 1、2、3 次，年末 4 次；年度健康体检在年度统计时要求。"
        "控制率在年度统计时计全部在管患者，月度和季度按上面的选择。")


def _spin(name: str, value: int) -> QSpinBox:
    _label, unit, low, high = INDICATOR_RULE_BOUNDS[name]
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setSuffix(f" {unit}")
    return spin


class IndicatorRulesDialog(FormDialog):
    """The control-rate basis, proration, the months before the annual check is asked, 常住 basis, diabetes age."""

    def __init__(self, ctx: UiContext, rules: IndicatorRules, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "指标统计规则", parent)
        labels = INDICATOR_RULE_LABELS
        self.basis = self.add_field(labels["control_basis"], "control_basis",
                                    combo([(basis.label, basis.value) for basis in ControlBasis], rules.control_basis))
        self.prorate = self.add_field(labels["prorate_enrolment"], "prorate_enrolment",
                                      QCheckBox("按纳入后的整月数折算（如 12 月纳入者当年不要求随访）"))
        self.prorate.setChecked(rules.prorate_enrolment)
        self.min_months = self.add_field(labels["annual_check_min_months"], "annual_check_min_months",
                                         _spin("annual_check_min_months", rules.annual_check_min_months))
        self.registered_only = self.add_field(labels["registered_only"], "registered_only",
                                              QCheckBox("只计常住类型为户籍者（默认户籍和非户籍都计）"))
        self.registered_only.setChecked(rules.registered_only)
        self.diabetes_age = self.add_field(labels["diabetes_minimum_age"], "diabetes_minimum_age",
                                           _spin("diabetes_minimum_age", rules.diabetes_minimum_age))
        self.form.addRow("", hint_label(HINT))
        self.finish()

    def values(self) -> IndicatorRules:
        """The rules as chosen."""
        return IndicatorRules(control_basis=self.basis.currentData(), prorate_enrolment=self.prorate.isChecked(),
                              annual_check_min_months=self.min_months.value(),
                              registered_only=self.registered_only.isChecked(),
                              diabetes_minimum_age=self.diabetes_age.value())

    def submit(self) -> Work:
        rules = self.values()
        combine_errors(indicator_rule_problems(rules))
        ctx = self.ctx
        return lambda: set_indicator_rules(ctx.db, ctx.actor, rules)
