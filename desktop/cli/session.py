"""What every command-line command shares: printing a line, opening the data directory, signing in."""

from __future__ import annotations

import argparse
import os
import sys

from desktop.errors import UserFacingError
from desktop.paths import DataPaths, resolve_data_dir

PASSWORD_ENV = "TOWNSHIP_DESK_PASSWORD"
MAX_REASONS_SHOWN = 50
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
USER_HELP = "操作人用户名（密码取自环境变量 TOWNSHIP_DESK_PASSWORD）"


def say(text: str) -> None:
    """Print one line to the terminal at once."""
    print(text, flush=True)


_opened: list = []  # the apps this command opened, closed by `close_opened` when it ends


def close_opened() -> None:
    """Close every app the command opened, so no pooled connection outlives it (and the file can move)."""
    while _opened:
        _opened.pop().close()


def open_data(args: argparse.Namespace):  # -> App, imported lazily to keep `--help` quick
    """Open the data directory named by `--data-dir` (or the default), with logging configured."""
    from desktop.app import open_app
    from desktop.logs import configure_logging
    from desktop.sqlite_driver import is_plain

    data_dir = resolve_data_dir(args.data_dir)
    configure_logging(DataPaths(data_dir), verbose=args.verbose)
    was_plain = is_plain(DataPaths(data_dir).database)
    app = open_app(data_dir)
    _opened.append(app)
    if was_plain and app.pending_recovery_key:
        say("数据库已加密（加密前已做校验备份，备份也已加密）。")
        show_recovery_key(app, keep=True)
    return app


def show_recovery_key(app, *, keep: bool = False) -> None:  # app: App
    """Print a recovery key not yet shown, with the sentence to write it down; forget it unless `keep`.

    After an upgrade the key is kept until an admin has seen it in the window too: whoever ran
    the upgrading command may not be the admin.
    """
    from desktop.recovery_key import write_down_text

    if app.pending_recovery_key is None:
        return
    say(write_down_text(app.pending_recovery_key))
    if not keep:
        app.recovery_key_shown()


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


def suggest_restore(args: argparse.Namespace) -> None:
    """Name the newest good backup to restore from (after a failed check or a corrupt database)."""
    from desktop.backups import newest_good_backup

    backup = newest_good_backup(DataPaths(resolve_data_dir(args.data_dir)))
    if backup is not None:
        print(f"可从最近的完好备份恢复：township-desk restore \"{backup.path}\"", file=sys.stderr)
    else:
        print("数据目录中没有可用的备份。", file=sys.stderr)
