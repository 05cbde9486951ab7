"""The command line: `township-desk [--data-dir DIR] COMMAND`. Every command is a thin call into the core."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from desktop import APP_TITLE, __version__
from desktop.cli_followups import add_followups_parsers, cmd_followups, cmd_indicators
from desktop.cli_print import add_print_parser, cmd_print
from desktop.cli_residents import add_residents_parser, cmd_residents
from desktop.cli_session import PASSWORD_ENV, authenticate, open_data, say
from desktop.cli_sync import add_sync_parsers, cmd_enrol, cmd_sync
from desktop.errors import DatabaseCorrupt, UserFacingError, ValidationError
from desktop.paths import DataPaths, resolve_data_dir

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="township-desk", description=f"{APP_TITLE}（township-desk）")
    parser.add_argument("--version", action="version", version=f"township-desk {__version__}")
    parser.add_argument("--data-dir", help="数据目录（默认按系统规范；也可用环境变量 TOWNSHIP_DESK_DATA）")
    parser.add_argument("-v", "--verbose", action="store_true", help="在终端输出日志")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = commands.add_parser("gui", help="打开窗口（默认）")
    gui.add_argument("--demo-if-empty", action="store_true", help="数据目录为空时先创建演示分院")

    init = commands.add_parser("init", help="设置新分院（不会覆盖已有数据）")
    init.add_argument("--county-code", required=True, help="6 位县（区）代码")
    init.add_argument("--township-code", required=True, help="3 位乡镇代码")
    init.add_argument("--branch-name", required=True, help="分院（乡镇卫生院）名称")
    init.add_argument("--head-hospital", required=True, help="总院（牵头医院）名称")
    init.add_argument("--admin", required=True, help="管理员用户名")
    init.add_argument("--admin-name", default="系统管理员", help="管理员姓名")
    init.add_argument("--village", action="append", default=[], metavar="CODE:NAME[:CLINIC]",
                      help="村（可重复），例如 101:柳树村:柳树村卫生室")

    demo = commands.add_parser("demo", help="创建（或补充）演示分院")
    demo.add_argument("--seed", type=int, default=2026, help="随机种子，同一种子得到同样的数据")
    demo.add_argument("--residents", type=int, default=None, metavar="N",
                      help="补足到 N 名居民（默认 3000；已有的不动）")

    commands.add_parser("check", help="完整性检查：完好时退出码 0，否则 1")

    backup = commands.add_parser("backup", help="备份数据库")
    backup.add_argument("--out", help="备份文件路径（默认放在数据目录的 backups/ 下）")
    backup.add_argument("--user", help="操作人用户名（密码取自 TOWNSHIP_DESK_PASSWORD），记入审计")

    restore = commands.add_parser("restore", help="从备份恢复（先校验备份，原数据库另存）")
    restore.add_argument("file", help="备份文件")
    restore.add_argument("--user", help="系统管理员用户名（当前数据库完好时必需）")

    audit = commands.add_parser("audit", help="审计日志")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit_commands.add_parser("verify", help="校验审计链：完整时退出码 0，否则指出第一条断点并退出 1")
    add_residents_parser(commands)
    add_followups_parsers(commands)
    add_print_parser(commands)
    add_sync_parsers(commands)
    return parser


def _password_from_env_or_prompt(*, confirm: bool) -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    if not sys.stdin.isatty():
        raise UserFacingError(f"请通过环境变量 {PASSWORD_ENV} 提供密码。")
    password = getpass.getpass("密码：")
    if confirm and getpass.getpass("再次输入密码：") != password:
        raise UserFacingError("两次输入的密码不一致。")
    return password


def _parse_village(text: str):  # -> VillageInput
    from desktop.services.branch import VillageInput

    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise ValidationError.single("village", f"村参数“{text}”格式应为 代码:村名[:卫生室名]。")
    return VillageInput(*[part.strip() for part in parts])


def cmd_init(args: argparse.Namespace) -> int:
    from desktop.services.branch import BranchSetup, setup_branch

    app = open_data(args)
    if app.is_set_up():
        from desktop.errors import AlreadySetUp

        raise AlreadySetUp()
    setup = BranchSetup(
        county_code=args.county_code,
        township_code=args.township_code,
        name=args.branch_name,
        head_hospital_name=args.head_hospital,
        admin_username=args.admin,
        admin_display_name=args.admin_name,
        admin_password=_password_from_env_or_prompt(confirm=True),
        villages=tuple(_parse_village(v) for v in args.village),
    )
    branch = setup_branch(app.db, setup)
    say(f"已设置分院：{branch.name}（{branch.record_prefix}），数据目录 {app.paths.root}")
    say(f"管理员 {args.admin} 首次登录时须修改初始密码。")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from desktop.demo import DEFAULT_RESIDENTS, build_demo
    from desktop.jobs import print_progress

    if args.residents is not None and not 0 <= args.residents <= 1_000_000:
        raise UserFacingError("--residents 应在 0 到 1000000 之间。")
    app = open_data(args)
    target = DEFAULT_RESIDENTS if args.residents is None else args.residents
    result = build_demo(app.db, seed=args.seed, residents=target, progress=print_progress)
    say(("已创建演示分院" if result.created else "演示分院已存在") + f"，数据目录 {app.paths.root}")
    if result.residents_added:
        say(f"新增演示居民 {result.residents_added} 人")
    say(result.sign_in_text())
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from desktop.db import check_openable, run_check

    paths = DataPaths(resolve_data_dir(args.data_dir))
    if not paths.database.exists():
        say(f"数据目录中没有数据库：{paths.database}")
        return EXIT_FAILED
    revision = check_openable(paths.database)
    problems = run_check(paths.database, full=True)
    if problems:
        say("数据库完整性检查未通过：")
        for problem in problems[:20]:
            say(f"  {problem}")
        _suggest_restore(args)
        return EXIT_FAILED
    say(f"数据库完好（integrity_check 通过，结构版本 {revision}）：{paths.database}")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    from desktop.backups import create_backup
    from desktop.services.backup import record_backup
    from desktop.services.permissions import Permission, require

    app = open_data(args)
    actor = authenticate(app, args.user) if args.user else None
    if actor is not None:
        require(actor, Permission.BACKUP)
    target = create_backup(app.paths, reason="manual", out=Path(args.out).resolve() if args.out else None)
    if actor is not None:
        record_backup(app.db, actor, target)
    say(f"已备份并校验：{target}")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from desktop.services.backup import restore_from

    paths = DataPaths(resolve_data_dir(args.data_dir))
    aside, restored_by = restore_from(paths, Path(args.file).resolve(), username=args.user,
                                      password=os.environ.get(PASSWORD_ENV))
    if aside is not None:
        say(f"原数据库已另存为：{aside}")
    say(f"已从备份恢复：{args.file}（操作人 {restored_by}）")
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    from desktop.services.audit import verify_chain

    app = open_data(args)
    report = verify_chain(app.db)
    if report.intact:
        say(f"审计日志完整：共 {report.checked} 条。")
        return EXIT_OK
    say(f"审计日志在第 {report.first_bad_seq} 条处断裂：{report.problem}")
    return EXIT_FAILED


def cmd_gui(args: argparse.Namespace) -> int:
    from desktop.ui.main import run_gui

    return run_gui(data_dir=resolve_data_dir(args.data_dir), demo_if_empty=getattr(args, "demo_if_empty", False),
                   verbose=args.verbose)


COMMANDS: dict[str, Handler] = {
    "gui": cmd_gui,
    "init": cmd_init,
    "demo": cmd_demo,
    "check": cmd_check,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "audit": cmd_audit,
    "residents": cmd_residents,
    "followups": cmd_followups,
    "indicators": cmd_indicators,
    "print": cmd_print,
    "enrol": cmd_enrol,
    "sync": cmd_sync,
}


def _report(error: UserFacingError, args: argparse.Namespace) -> None:
    if isinstance(error, ValidationError):
        for message in error.errors.values():
            print(f"错误：{message}", file=sys.stderr)
    else:
        print(f"错误：{error.message}", file=sys.stderr)
    if error.details and args.verbose:
        print(error.details, file=sys.stderr)
    if isinstance(error, DatabaseCorrupt) and args.command != "restore":
        _suggest_restore(args)


def _suggest_restore(args: argparse.Namespace) -> None:
    from desktop.backups import newest_good_backup

    backup = newest_good_backup(DataPaths(resolve_data_dir(args.data_dir)))
    if backup is not None:
        print(f"可从最近的完好备份恢复：township-desk restore \"{backup.path}\"", file=sys.stderr)
    else:
        print("数据目录中没有可用的备份。", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `township-desk` console script."""
    args = _parser().parse_args(argv)
    command = args.command or "gui"
    try:
        return COMMANDS[command](args)
    except UserFacingError as error:
        _report(error, args)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130
