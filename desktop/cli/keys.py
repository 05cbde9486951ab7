"""`township-desk key rotate --user NAME`: a new recovery key, the database and its backups re-encrypted."""

from __future__ import annotations

import argparse

from desktop.cli.registry import command
from desktop.cli.session import EXIT_OK, USER_HELP, authenticate, open_data, say

KEYS_RANK = 17


def _add_key(commands) -> None:
    key = commands.add_parser("key", help="数据库密钥与恢复密钥")
    actions = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    rotate = actions.add_parser("rotate", help="更换恢复密钥并重新加密数据库和备份（系统管理员）")
    rotate.add_argument("--user", required=True, help=USER_HELP)


@command("key", add_parser=_add_key, rank=KEYS_RANK)
def cmd_key(args: argparse.Namespace) -> int:
    """Rotate the database key (the only action for now)."""
    from desktop.recovery_key import write_down_text
    from desktop.services.keys import rotate_key

    app = open_data(args)
    try:
        actor = authenticate(app, args.user)
        rotation = rotate_key(app, actor)
        say(f"已先备份并校验：{rotation.backup}")
        say(f"数据库已用新密钥重新加密；备份文件夹中的 {rotation.resealed_backups} 份备份也已重新加密。")
        for left in rotation.backups_left:
            say(f"  未能重新加密（用其他密钥加密，仍需原恢复密钥）：{left}")
        say("原恢复密钥从此不能再打开本数据库及上述备份；已拷到别处（如 U 盘）的旧备份仍只能用原恢复密钥打开。")
        say(write_down_text(rotation.recovery_key))
        app.recovery_key_shown()
    finally:
        app.close()
    return EXIT_OK
