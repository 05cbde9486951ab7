"""`township-desk enrol` and `township-desk sync [status|export DIR|import FILE]`.

Registered in desktop/cli/registry.py. Sending and USB files need `--user` (password from
TOWNSHIP_DESK_PASSWORD); `sync status` only reads counters and needs no sign-in.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from desktop.cli.registry import command
from desktop.cli.session import EXIT_FAILED, EXIT_OK, USER_HELP, authenticate, open_data, say


def _add_enrol(commands) -> None:  # commands: argparse._SubParsersAction
    enrol = commands.add_parser("enrol", help="向总院登记本分院（打印站点标识和密钥指纹，供总院管理员核对）")
    enrol.add_argument("--server", required=True, help="总院接收服务地址，例如 http://10.0.0.5:8400")
    enrol.add_argument("--user", required=True, help="系统管理员用户名（密码取自 TOWNSHIP_DESK_PASSWORD）")
    enrol.add_argument("--new-keys", action="store_true",
                       help="更换本分院密钥（以原密钥签名），新密钥须总院管理员重新核对指纹后批准")


def _add_sync(commands) -> None:  # commands: argparse._SubParsersAction
    sync = commands.add_parser("sync", help="与总院同步（最后一行：sent N, applied A, rejected R, received D）")
    sync.add_argument("action", nargs="?", choices=("now", "status", "export", "import"), default="now",
                      help="now 立即同步（默认）；status 同步状态；export DIR 写出U盘数据包；import FILE 导入总院回执")
    sync.add_argument("path", nargs="?", help="export 的目标文件夹或 import 的回执文件")
    sync.add_argument("--server", help="本次使用的总院地址（默认用登记时的地址）")
    sync.add_argument("--json", action="store_true", help="status 以 JSON 输出")
    sync.add_argument("--user", help=USER_HELP)


@command("enrol", add_parser=_add_enrol, rank=60)
def cmd_enrol(args: argparse.Namespace) -> int:
    from desktop.sync.enrolment import enrol

    app = open_data(args)
    try:
        actor = authenticate(app, args.user)
        result = enrol(app.db, actor, args.server, new_keys=args.new_keys)
    finally:
        app.close()
    say(f"总院：{result.head_name}，总院密钥指纹 {result.head_fingerprint}")
    say(f"登记状态：{'已批准' if result.status == 'approved' else '等待总院管理员核对批准'}")
    say("请把下面两行读给总院管理员核对：")
    say(f"site id: {result.site_id}")
    say(f"fingerprint: {result.fingerprint}")
    return EXIT_OK


@command("sync", add_parser=_add_sync, rank=60)
def cmd_sync(args: argparse.Namespace) -> int:
    app = open_data(args)
    try:
        if args.action == "status":
            return _status(app, args)
        actor = authenticate(app, args.user)
        if args.action in ("export", "import") and not args.path:
            say(f"sync {args.action} 需要{'目标文件夹' if args.action == 'export' else '回执文件'}。")
            return 2
        handler = {"now": _now, "export": _export, "import": _import}[args.action]
        return handler(app, actor, args)
    finally:
        app.close()


def _now(app, actor, args: argparse.Namespace) -> int:
    from desktop.jobs import print_progress
    from desktop.sync.client import sync_now

    outcome = sync_now(app.db, actor, server_url=args.server, progress=print_progress)
    say(outcome.message())
    say(outcome.line())
    return EXIT_OK


def _status(app, args: argparse.Namespace) -> int:
    from desktop.sync.status import sync_status

    status = sync_status(app.db)
    if args.json:
        say(json.dumps(status.to_json(), ensure_ascii=False))
        return EXIT_OK
    if not status.enrolled:
        say("尚未向总院登记。")
    else:
        say(f"总院：{status.head_name}（{status.server_url}），本分院密钥指纹 {status.fingerprint}")
        say(f"最近成功同步：{status.last_success or '从未'}；已发数据包序号 {status.seq}，下发进度 {status.checkpoint}")
    for item in status.types:
        say(f"  {item.label}：待发送 {item.pending + item.in_flight}，被退回 {item.error}，已同步 {item.synced}")
    say(f"unsent {status.unsent}, rejected {status.errors}")
    return EXIT_OK


def _export(app, actor, args: argparse.Namespace) -> int:
    from desktop.sync.usb import export_package

    result = export_package(app.db, actor, Path(args.path))
    say(result.message())
    return EXIT_OK if result.verified else EXIT_FAILED


def _import(app, actor, args: argparse.Namespace) -> int:
    from desktop.sync.usb import import_return

    result = import_return(app.db, actor, Path(args.path))
    say(result.message())
    receipt = result.receipt
    say(f"sent {receipt.sent}, applied {receipt.applied}, rejected {receipt.rejected}, received {result.received}")
    return EXIT_OK
