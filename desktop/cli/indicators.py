"""`township-desk indicators`: a year's, quarter's or month's indicators, one indicator's people, or a workbook.

`--period 2026` (or `--year 2026`, as before), `--period 2026-Q1` or `--period 2026-03`; the
figures are counted by the period rules and the rule used is printed after them.
"""

from __future__ import annotations

import argparse
import json
import threading
from pathlib import Path

from desktop.cli.followups import FOLLOWUPS_RANK, _village_id
from desktop.cli.registry import command
from desktop.cli.session import EXIT_OK, USER_HELP, authenticate, open_data, say


def add_indicators_parser(commands) -> None:  # commands: argparse._SubParsersAction
    """The `indicators` command."""
    indicators = commands.add_parser("indicators", help="管理指标（规范管理率、控制率、健康管理率）及明细")
    when = indicators.add_mutually_exclusive_group(required=True)
    when.add_argument("--period", metavar="YYYY|YYYY-Qn|YYYY-MM", help="统计期：年度 2025、季度 2025-Q1 或月份 2025-03")
    when.add_argument("--year", type=int, help="年度，例如 2025（同 --period 2025）")
    indicators.add_argument("--village", metavar="CODE", help="只算该村（3 位村代码）")
    indicators.add_argument("--code", help="指标代码，例如 ht_control")
    indicators.add_argument("--list", action="store_true", help="列出该指标分母中的每个人、是否计入及原因（需 --code）")
    indicators.add_argument("--json", action="store_true", help="每项指标（或每人）一行 JSON")
    indicators.add_argument("--out", metavar="FILE.xlsx", help="把指标及明细导出到 Excel")
    indicators.add_argument("--user", required=True, help=USER_HELP)


@command("indicators", add_parser=add_indicators_parser, rank=FOLLOWUPS_RANK)
def cmd_indicators(args: argparse.Namespace) -> int:
    """Print (or export) a period's indicators, or one indicator's people."""
    app = open_data(args)
    try:
        return _indicators(app, authenticate(app, args.user), args)
    finally:
        app.close()


def _period(args: argparse.Namespace):
    from desktop.clock import now
    from desktop.services.indicators import period_of

    return period_of(args.period if args.period is not None else args.year, now().date())


def _indicators(app, actor, args: argparse.Namespace) -> int:
    from desktop.errors import UserFacingError
    from desktop.services.access_audit import refusals_audited
    from desktop.services.indicators import DEFINITIONS, drill_down, indicator_report

    if args.code is not None and args.code not in DEFINITIONS:
        raise UserFacingError(f"没有指标“{args.code}”。可用的指标代码：{'、'.join(DEFINITIONS)}。")
    if args.list and (args.code is None or not DEFINITIONS[args.code].has_people):
        with_people = "、".join(code for code, d in DEFINITIONS.items() if d.has_people)
        raise UserFacingError(f"--list 需要 --code，且该指标有人员明细（{with_people}）。")
    period = _period(args)
    if args.out:
        with refusals_audited(app.db, actor, f"导出管理指标《{Path(args.out).name}》"):
            return _indicators_out(app, actor, args, period, _village_id(app, actor, args.village))
    village_id = _village_id(app, actor, args.village)
    report = indicator_report(app.db, actor, period, village_id=village_id)
    if args.list:
        _people(drill_down(app.db, actor, report, args.code, village_id=village_id,
                           verdicts=report.people[args.code]), as_json=args.json)
    else:
        _figures(report, args.code, as_json=args.json)
    return EXIT_OK


def _indicators_out(app, actor, args: argparse.Namespace, period, village_id: int | None) -> int:
    from desktop.jobs import print_progress
    from desktop.transfer.indicators_export import IndicatorsExport

    job = IndicatorsExport(app.db, actor, Path(args.out).resolve(), year=period.year, village_id=village_id,
                           period=period)
    say(job(abort=threading.Event(), progress=print_progress).message())
    return EXIT_OK


def _figures(report, code: str | None, *, as_json: bool) -> None:
    from desktop.services.indicator_base import source_of
    from desktop.services.indicators import DEFINITIONS

    for each in ([code] if code else list(DEFINITIONS)):
        figure = report.branch(each)
        if as_json:
            say(json.dumps({"code": each, "name": figure.name, "period": report.period.name,
                            "numerator": figure.numerator, "denominator": figure.denominator, "value": figure.value,
                            "rule": report.rules.get(source_of(each).key, "")}, ensure_ascii=False))
        else:
            value = "—" if figure.value is None else f"{figure.value * 100:.1f}%"
            say(f"{figure.name}（{each}）：{figure.numerator} / {figure.denominator:g} = {value}")
    if not as_json:
        say(f"统计口径：{report.rule_text}")


def _people(people, *, as_json: bool) -> None:  # people: the drill-down's PersonVerdicts (audited when read)
    for verdict in sorted(people, key=lambda v: v.record_no):
        if as_json:
            say(json.dumps({"record_no": verdict.record_no, "name": verdict.name, "counted": verdict.counts,
                            "reason": verdict.reason}, ensure_ascii=False))
        else:
            say(f"{verdict.record_no}  {verdict.name}  {'计入' if verdict.counts else '未计入：' + (verdict.reason or '')}")
    if not as_json:
        counted = sum(v.counts for v in people)
        say(f"共 {len(people)} 人，计入 {counted} 人。")
