"""The public status page: one server-rendered HTML table of approved sites, every value escaped, no JavaScript.

Sites waiting for approval (and revoked ones) appear only as counts: their ids, names and
fingerprints are for the administrator at the server (`head-hospital sites list`), since a
site id read here must not help anyone enrol in its place.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from html import escape

from head_hospital.db import HeadDatabase
from head_hospital.models import SITE_APPROVED, SITE_PENDING, SITE_REVOKED
from head_hospital.sites import STATUS_NAMES, list_sites

_CHINA = timezone(timedelta(hours=8))
_COLUMNS = ("单位名称", "站点编号", "密钥指纹", "状态", "最近联系", "最近序号", "总院存档记录数", "未完成上传",
            "被拒记录数")
_STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
th, td { border: 1px solid #bbb; padding: 4px 10px; text-align: left; }
th { background: #eef; }
td.number { text-align: right; }
code { font-size: 95%; }
.pending { color: #a60; } .approved { color: #070; } .revoked { color: #b00; }
"""


def _local(text: str | None) -> str:
    if not text:
        return "从未"
    moment = datetime.fromisoformat(text).astimezone(_CHINA)
    return moment.strftime("%Y-%m-%d %H:%M")


def _row(site: dict) -> str:
    status = site["status"]
    cells = (
        f"<td>{escape(site['name'])}</td>",
        f"<td><code>{escape(site['site_id'])}</code></td>",
        f"<td><code>{escape(site['fingerprint'])}</code></td>",
        f'<td class="{escape(status)}">{escape(STATUS_NAMES.get(status, status))}</td>',
        f"<td>{escape(_local(site['last_contact']))}</td>",
        f'<td class="number">{int(site["last_seq"])}</td>',
        f'<td class="number">{int(site["records"])}</td>',
        f'<td class="number">{int(site["pending_uploads"])}</td>',
        f'<td class="number">{int(site["rejected_records"])}</td>',
    )
    return "<tr>" + "".join(cells) + "</tr>"


def render_status_page(db: HeadDatabase) -> str:
    """The whole page as HTML text."""
    every = list_sites(db)
    sites = [site for site in every if site["status"] == SITE_APPROVED]
    pending = sum(site["status"] == SITE_PENDING for site in every)
    revoked = sum(site["status"] == SITE_REVOKED for site in every)
    header = "".join(f"<th>{escape(name)}</th>" for name in _COLUMNS)
    rows = "\n".join(_row(site) for site in sites) or f'<tr><td colspan="{len(_COLUMNS)}">尚无已批准的站点。</td></tr>'
    now = datetime.now(UTC).astimezone(_CHINA).strftime("%Y-%m-%d %H:%M")
    fingerprint = escape(db.keys.public.fingerprint)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(db.name)} · 数据接收状态</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(db.name)} · 分院数据接收状态</h1>"
        f"<p>总院密钥指纹：<code>{fingerprint}</code>　页面生成时间：{now}（北京时间）</p>"
        f"<table><thead><tr>{header}</tr></thead><tbody>\n{rows}\n</tbody></table>"
        f"<p>已批准 {len(sites)} 个站点；待审核 {pending} 个，已吊销 {revoked} 个（详情请在服务器上运行 "
        "<code>head-hospital sites list</code> 查看）。批准站点请在服务器上运行 "
        "<code>head-hospital sites approve 站点编号 --fingerprint 指纹</code>，指纹须与分院电话核对。</p>"
        "</body></html>"
    )
