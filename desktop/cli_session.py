"""What every command-line command shares: printing a line, opening the data directory, signing in."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from desktop.errors import UserFacingError
from desktop.paths import DataPaths, resolve_data_dir

PASSWORD_ENV = "TOWNSHIP_DESK_PASSWORD"
MAX_REASONS_SHOWN = 50
EXIT_OK, EXIT_FAILED = 0, 1


def say(text: str) -> None:
    """Print one line to the terminal at once."""
    print(text, flush=True)


def open_data(args: argparse.Namespace):  # -> App, imported lazily to keep `--help` quick
    """Open the data directory named by `--data-dir` (or the default), with logging configured."""
    from desktop.app import open_app
    from desktop.logs import configure_logging

    data_dir = resolve_data_dir(args.data_dir)
    configure_logging(DataPaths(data_dir), verbose=args.verbose)
    return open_app(data_dir)


def authenticate(app, username: str | None):  # -> Actor
    """Sign `--user` in with the password from TOWNSHIP_DESK_PASSWORD; refuse an initial password."""
    from desktop.services.auth import sign_in

    if not username:
        raise UserFacingError("该命令需要 --user 用户名（密码取自环境变量 TOWNSHIP_DESK_PASSWORD）。")
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        raise UserFacingError(f"请通过环境变量 {PASSWORD_ENV} 提供 {username} 的密码。")
    result = sign_in(app.db, username, password)
    if result.must_change_password:
        raise UserFacingError("该账户仍在使用初始密码，请先在程序中登录并修改密码。")
    return result.actor


def run_import(job, args: argparse.Namespace) -> int:  # job: an import job of desktop.transfer
    """Run an import job in the terminal: progress, the first rejected rows, the error workbook, the summary."""
    import threading

    from desktop.jobs import print_progress
    from desktop.transfer.resident_import import ImportMode, write_error_workbook

    result = job(abort=threading.Event(), progress=print_progress)
    for rejected in result.rejected[:MAX_REASONS_SHOWN]:
        say(rejected.reason)
    if len(result.rejected) > MAX_REASONS_SHOWN:
        say(f"……另有 {len(result.rejected) - MAX_REASONS_SHOWN} 行有错误（完整清单请用 --errors 输出）。")
    if args.errors and result.rejected:
        say(f"错误清单已写入：{write_error_workbook(result, Path(args.errors))}")
    say(result.message())
    say(result.summary_line())
    return EXIT_FAILED if result.rejected and job.mode is ImportMode.ALL_OR_NOTHING else EXIT_OK
