"""`township-desk gui|init|demo|check|backup|restore|audit`: setting up and looking after the branch."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from desktop.cli.registry import command
from desktop.cli.session import (
    EXIT_FAILED,
    EXIT_OK,
    PASSWORD_ENV,
    authenticate,
    open_data,
    say,
    show_recovery_key,
    suggest_restore,
)
from desktop.errors import UserFacingError, ValidationError
from desktop.paths import DataPaths, resolve_data_dir

SYSTEM_RANK = 10


def _add_gui(commands) -> None:
    gui = commands.add_parser("gui", help="打开窗口（默认）")
    gui.add_argument("--demo-if-empty", action="store_true", help="数据目录为空时先创建演示分院")


def _add_init(commands) -> None:
    init = commands.add_parser("init", help="设置新分院（不会覆盖已有数据）")
    init.add_argument("--county-code", required=True, help="6 位县（区）代码")
    init.add_argument("--township-code", required=True, help="3 位乡镇代码")
    init.add_argument("--branch-name", required=True, help="分院（乡镇卫生院）名称")
    init.add_argument("--head-hospital", required=True, help="总院（牵头医院）名称")
    init.add_argument("--admin", required=True, help="管理员用户名")
    init.add_argument("--admin-name", default="系统管理员", help="管理员姓名")
    init.add_argument("--village", action="append", default=[], metavar="CODE:NAME[:CLINIC]",
                      help="村（可重复），例如 101:柳树村:柳树村卫生室")


def _add_demo(commands) -> None:
    demo = commands.add_parser("demo", help="创建（或补充）演示分院")
    demo.add_argument("--seed", type=int, default=2026, help="随机种子，同一种子得到同样的数据")
    demo.add_argument("--residents", type=int, default=None, metavar="N",
                      help="补足到 N 名居民（默认 3000；已有的不动）")


def _add_check(commands) -> None:
    commands.add_parser("check", help="完整性检查：完好时退出码 0，否则 1")


def _add_backup(commands) -> None:
    backup = commands.add_parser("backup", help="备份数据库")
    backup.add_argument("--out", help="备份文件路径（默认放在数据目录的 backups/ 下）")
    backup.add_argument("--user", help="操作人用户名（必需；密码取自 TOWNSHIP_DESK_PASSWORD），记入审计")


def _add_restore(commands) -> None:
    restore = commands.add_parser("restore", help="从备份恢复（先校验备份，原数据库另存）")
    restore.add_argument("file", help="备份文件")
    restore.add_argument("--user", help="系统管理员用户名（当前数据库完好时必需）")
    restore.add_argument("--recovery-key", metavar="KEY",
                         help="恢复密钥（在另一台电脑上恢复，或本机密钥文件丢失时）：8 组 6 位数字")


def _add_audit(commands) -> None:
    audit = commands.add_parser("audit", help="审计日志")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit_commands.add_parser("verify", help="校验审计链并与锚点文件、备份核对：完整时退出码 0，否则指出缺失或改写之处并退出 1")


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


@command("gui", add_parser=_add_gui, rank=SYSTEM_RANK)
def cmd_gui(args: argparse.Namespace) -> int:
    """Open the window."""
    from desktop.ui.main import run_gui

    return run_gui(data_dir=resolve_data_dir(args.data_dir), demo_if_empty=getattr(args, "demo_if_empty", False),
                   verbose=args.verbose)


@command("init", add_parser=_add_init, rank=SYSTEM_RANK + 1)
def cmd_init(args: argparse.Namespace) -> int:
    """Set up a new branch in an empty data directory."""
    from desktop.errors import AlreadySetUp
    from desktop.services.branch import BranchSetup, setup_branch

    app = open_data(args)
    if app.is_set_up():
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
    show_recovery_key(app)
    return EXIT_OK


@command("demo", add_parser=_add_demo, rank=SYSTEM_RANK + 2)
def cmd_demo(args: argparse.Namespace) -> int:
    """Create (or top up) the demo branch."""
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
    show_recovery_key(app)
    return EXIT_OK


@command("check", add_parser=_add_check, rank=SYSTEM_RANK + 3)
def cmd_check(args: argparse.Namespace) -> int:
    """A full integrity check of the database."""
    from desktop.backups import local_key
    from desktop.db import check_openable, run_check

    paths = DataPaths(resolve_data_dir(args.data_dir))
    if not paths.database.exists():
        say(f"数据目录中没有数据库：{paths.database}")
        return EXIT_FAILED
    key = local_key(paths)
    revision = check_openable(paths.database, key=key)
    problems = run_check(paths.database, key=key, full=True)
    if problems:
        say("数据库完整性检查未通过：")
        for problem in problems[:20]:
            say(f"  {problem}")
        suggest_restore(args)
        return EXIT_FAILED
    say(f"数据库完好（integrity_check 通过，结构版本 {revision}）：{paths.database}")
    return EXIT_OK


@command("backup", add_parser=_add_backup, rank=SYSTEM_RANK + 4)
def cmd_backup(args: argparse.Namespace) -> int:
    """Back the database up as a signed-in person with the permission (a backup holds every record: audited)."""
    from desktop.backups import create_backup
    from desktop.services.backup import record_backup
    from desktop.services.permissions import Permission, require

    app = open_data(args)
    actor = authenticate(app, args.user)
    require(actor, Permission.BACKUP)
    target = create_backup(app.paths, reason="manual", out=Path(args.out).resolve() if args.out else None)
    record_backup(app.db, actor, target)
    say(f"已备份并校验：{target}")
    return EXIT_OK


@command("restore", add_parser=_add_restore, rank=SYSTEM_RANK + 5)
def cmd_restore(args: argparse.Namespace) -> int:
    """Restore from a backup, keeping the current database aside."""
    from desktop.services.backup import restore_from

    paths = DataPaths(resolve_data_dir(args.data_dir))
    aside, restored_by = restore_from(paths, Path(args.file).resolve(), username=args.user,
                                      password=os.environ.get(PASSWORD_ENV), recovery_key=args.recovery_key)
    if aside is not None:
        say(f"原数据库已另存为：{aside}")
    say(f"已从备份恢复：{args.file}（操作人 {restored_by}）")
    return EXIT_OK


@command("audit", add_parser=_add_audit, rank=SYSTEM_RANK + 6)
def cmd_audit(args: argparse.Namespace) -> int:
    """Verify the audit chain and hold it against its anchors (the anchor file, the backups)."""
    from desktop.services.audit_verify import report_lines, verify_audit

    app = open_data(args)
    report = verify_audit(app.db)
    for line in report_lines(report):
        say(line)
    return EXIT_OK if report.intact else EXIT_FAILED
