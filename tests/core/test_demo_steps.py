"""The demo is a list of steps: each runs in order with the shared generator and its share of the progress bar."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from desktop.app import App
from desktop.db import Database
from desktop.demo import DEMO_STEPS, build_demo
from desktop.demo.steps import DemoContext, DemoStep
from desktop.models import Resident


def test_the_existing_areas_are_steps_in_order() -> None:
    assert [step.key for step in DEMO_STEPS] == ["org", "residents", "followups", "record_moves"]
    assert all(step.label and step.weight > 0 for step in DEMO_STEPS)


def test_a_new_step_runs_after_the_others_and_sees_their_results(empty_app: App) -> None:
    seen: list[tuple[int, int, float]] = []

    def count_step(db: Database, rng: random.Random, context: DemoContext) -> None:
        with db.read() as session:
            residents = session.scalar(select(func.count(Resident.id)))
        context.progress(0.5, "半程")
        seen.append((residents, context.residents_added, rng.random()))
        context.made["count"] = residents

    reports: list[tuple[float, str]] = []
    extra = DemoStep("count", "正在清点……", count_step, weight=1.0)
    result = build_demo(empty_app.db, seed=11, residents=40, steps=(*DEMO_STEPS, extra),
                        progress=lambda fraction, message: reports.append((fraction, message)))
    assert result.created and result.residents_added >= 40 and result.accounts
    ((residents, added, _),) = seen
    assert residents == added == result.residents_added
    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    messages = [message for _, message in reports]
    for step in (*DEMO_STEPS, extra):
        assert step.label in messages
    assert messages.index("正在清点……") < messages.index("半程") < messages.index("演示数据已就绪")
    total = sum(step.weight for step in DEMO_STEPS) + 1.0
    assert any(abs(fraction - (1 - 0.5 / total)) < 1e-9 and message == "半程" for fraction, message in reports)
