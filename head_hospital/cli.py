"""`head-hospital`: run the receiving service and administer it from the server's terminal.

Exit codes: 0 done, 1 refused or failed (a Chinese message on stderr), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from head_hospital.db import HeadDatabase, open_database
from head_hospital.enrol_limits import EnrolLimits
from township_wire.errors import UserFacingError

_DEFAULT_LIMITS = EnrolLimits()


def _say(text: str) -> None:
    print(text, flush=True)


def _serve(args: argparse.Namespace, db: HeadDatabase) -> int:
    import uvicorn

    from head_hospital.app import create_app

    limits = EnrolLimits(per_address=args.enrol_per_hour, max_pending=args.max_pending)
    _say(f"{db.name} 接收服务：http://{args.host}:{args.port}/  密钥指纹 {db.keys.public.fingerprint}")
    uvicorn.run(create_app(db, enrol_limits=limits), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _sites_list(args: argparse.Namespace, db: HeadDatabase) -> int:
    from head_hospital.sites import STATUS_NAMES, list_sites

    for site in list_sites(db):
        if args.json:
            _say(json.dumps(site, ensure_ascii=False))
        else:
            _say(f"{site['site_id']}\t{site['name']}\t{site['fingerprint']}\t{STATUS_NAMES[site['status']]}"
                 f"\t最近序号 {site['last_seq']}\t记录 {site['records']}")
    return 0


def _sites_approve(args: argparse.Namespace, db: HeadDatabase) -> int:
    from head_hospital.sites import approve

    site = approve(db, args.site_id, args.fingerprint)
    _say(f"已批准站点 {site.site_id}（{site.name}），指纹 {site.fingerprint}")
    return 0


def _sites_revoke(args: argparse.Namespace, db: HeadDatabase) -> int:
    from head_hospital.sites import revoke

    site = revoke(db, args.site_id)
    _say(f"已吊销站点 {site.site_id}（{site.name}）的密钥，之后用该密钥签发的请求和数据包一律拒收。")
    return 0


def _sites_audit(args: argparse.Namespace, db: HeadDatabase) -> int:
    from head_hospital.anchors import site_audit

    audit = site_audit(db, args.site_id)
    if args.json:
        _say(json.dumps(audit, ensure_ascii=False))
    else:
        for anchor in audit["anchors"]:
            since = f"\t此前第 {anchor['since_seq']} 条 {(anchor['since_hash'] or '（缺失）')[:16]}" \
                if anchor["since_seq"] is not None else ""
            _say(f"数据包 {anchor['package_seq']}\t审计记录到第 {anchor['seq']} 条\t{anchor['entry_hash'][:16]}"
                 f"\t记于 {anchor['at']}{since}")
        if not audit["anchors"]:
            _say(f"站点 {args.site_id} 尚未送来带审计锚点的数据包。")
        for problem in audit["problems"]:
            _say(f"不一致：{problem}")
        if audit["anchors"] and audit["consistent"]:
            _say(f"站点 {args.site_id} 的 {len(audit['anchors'])} 个审计锚点前后一致。")
    return 0 if audit["consistent"] else 1


def _sites_reset(args: argparse.Namespace, db: HeadDatabase) -> int:
    import getpass

    from head_hospital.sites import reset

    site = reset(db, args.site_id, by=getpass.getuser())
    _say(f"已重置站点 {site.site_id}（{site.name}）：原密钥（指纹 {site.fingerprint}）作废，"
         "该站点可用新密钥重新登记，登记后仍须电话核对指纹再批准。此操作已记入日志。")
    return 0


def _import(args: argparse.Namespace, db: HeadDatabase) -> int:
    from township_wire.envelope import EnvelopeKind, open_envelope
    from head_hospital.usb import import_usb

    result = import_usb(db, Path(args.file), receipt_out=Path(args.receipt_out) if args.receipt_out else None)
    ingested = result.ingested
    totals = open_envelope(EnvelopeKind.RECEIPT, ingested.receipt, db.keys.public)["totals"]
    kind = "重复导入，返回原回执" if ingested.replay else "已导入"
    _say(f"{kind}：站点 {ingested.site_id} 数据包 {ingested.package_id}；" + "，".join(
        f"{_RESULT_NAMES[name]} {count}" for name, count in totals.items()))
    if result.return_file is not None:
        _say(f"回执文件：{result.return_file}")
    return 0


_RESULT_NAMES = {"applied": "已接收", "duplicate": "重复", "stale": "版本过期", "not_owner": "非本站点记录",
                 "invalid": "无效"}


def _summary(args: argparse.Namespace, db: HeadDatabase) -> int:
    from head_hospital.summary import county_summary, write_workbook

    summary = county_summary(db, args.period)
    if args.out:
        write_workbook(summary, Path(args.out))
        _say(f"已写出 {args.out}")
    if args.json:
        _say(json.dumps(summary, ensure_ascii=False))
    elif not args.out:
        for item in summary["indicators"]:
            rate = "—" if item["rate"] is None else f"{item['rate']:.2%}"
            _say(f"{item['code']}\t{item['name']}\t{item['numerator']}/{item['denominator']}\t{rate}")
    return 0


def _catalogue_publish(args: argparse.Namespace, db: HeadDatabase) -> int:
    from head_hospital.feed import publish_catalogue, read_catalogue_file

    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserFacingError(f"无法读取目录文件 {args.file}：{error}") from error
    title, items = read_catalogue_file(args.name, text)
    version = publish_catalogue(db, args.name, title=title, items=items)
    _say(f"已发布目录 {args.name} 第 {version} 版（{len(items)} 项），各站点下次同步时收到。")
    return 0


def _keys(args: argparse.Namespace, db: HeadDatabase) -> int:
    public = db.keys.public
    if args.json:
        _say(json.dumps({"name": db.name, "fingerprint": public.fingerprint, "key_id": public.key_id,
                         **public.to_json()}, ensure_ascii=False))
    else:
        _say(public.fingerprint)
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"应为正整数：{text}") from error
    if value < 1:
        raise argparse.ArgumentTypeError(f"应为正整数：{text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="head-hospital", description="县域医共体总院数据接收服务")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(sub: argparse._SubParsersAction, name: str, handler: Callable, help_text: str):
        child = sub.add_parser(name, help=help_text)
        child.add_argument("--db", required=True, help="数据库地址（postgresql+psycopg://...）或 SQLite 文件路径")
        child.set_defaults(handler=handler)
        return child

    serve = command(commands, "serve", _serve, "启动接收服务")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--name", help="总院名称（首次启动时写入）")
    serve.add_argument("--log-level", default="warning")
    serve.add_argument("--enrol-per-hour", type=_positive, default=_DEFAULT_LIMITS.per_address,
                       help="同一地址每小时最多登记次数")
    serve.add_argument("--max-pending", type=_positive, default=_DEFAULT_LIMITS.max_pending,
                       help="同时待审核站点数上限，超出时新站点登记被拒绝")
    sites = commands.add_parser("sites", help="站点登记管理").add_subparsers(dest="sites_command", required=True)
    command(sites, "list", _sites_list, "列出站点").add_argument("--json", action="store_true")
    approve = command(sites, "approve", _sites_approve, "核对指纹后批准站点")
    approve.add_argument("site_id")
    approve.add_argument("--fingerprint", required=True)
    command(sites, "revoke", _sites_revoke, "吊销站点密钥").add_argument("site_id")
    audit = command(sites, "audit", _sites_audit, "站点审计锚点是否前后一致（不一致时退出码 1）")
    audit.add_argument("site_id")
    audit.add_argument("--json", action="store_true")
    command(sites, "reset", _sites_reset, "重置站点密钥（原密钥丢失时），允许其用新密钥重新登记").add_argument("site_id")
    usb = command(commands, "import", _import, "导入 U 盘数据包")
    usb.add_argument("file")
    usb.add_argument("--receipt-out", help="回执文件写入的目录")
    summary = command(commands, "summary", _summary, "县域汇总")
    summary.add_argument("--period", required=True, help="统计期：2026-10 或 2026-Q3")
    summary.add_argument("--out", help="写出 Excel 文件")
    summary.add_argument("--json", action="store_true")
    catalogue = commands.add_parser("catalogue", help="目录").add_subparsers(dest="catalogue_command", required=True)
    publish = command(catalogue, "publish", _catalogue_publish, "签发目录新版本并下发各站点")
    publish.add_argument("name")
    publish.add_argument("file")
    command(commands, "keys", _keys, "显示总院密钥指纹").add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        db = open_database(args.db, name=getattr(args, "name", None) if args.command == "serve" else None)
    except UserFacingError as error:
        print(error.message, file=sys.stderr)
        return 1
    try:
        return args.handler(args, db)
    except UserFacingError as error:
        print(error.message, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 1
    finally:
        db.dispose()
