"""The head-hospital command line: sites, keys, catalogues, the county summary; and the status page."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from head_support import new_branch
from openpyxl import load_workbook
from server_support import run_cli

from head_hospital.app import create_app
from head_hospital.db import HeadDatabase
from head_hospital.feed import feed_envelope
from head_hospital.ingest import ingest
from township_wire.envelope import EnvelopeKind, open_envelope


def test_sites_are_listed_approved_by_fingerprint_and_revoked(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db, approved=False, name="白水乡卫生院")
    url = sqlite_db.url
    listed = [json.loads(line) for line in run_cli("sites", "list", "--json", "--db", url).stdout.splitlines()]
    assert [(row["site_id"], row["name"], row["fingerprint"], row["status"]) for row in listed] == [
        (branch.site_id, "白水乡卫生院", branch.keys.public.fingerprint, "pending")]
    wrong = run_cli("sites", "approve", branch.site_id, "--fingerprint", "0000-1111", "--db", url)
    assert wrong.returncode == 1 and "指纹不符" in wrong.stderr
    typed = branch.keys.public.fingerprint.replace("-", "").lower()
    done = run_cli("sites", "approve", branch.site_id, "--fingerprint", typed, "--db", url)
    assert done.returncode == 0 and "已批准" in done.stdout
    assert run_cli("sites", "revoke", branch.site_id, "--db", url).returncode == 0
    listed = json.loads(run_cli("sites", "list", "--json", "--db", url).stdout)
    assert listed["status"] == "revoked" and listed["revoked_at"]
    assert run_cli("sites", "approve", "nobody", "--fingerprint", typed, "--db", url).returncode == 1


def test_keys_usage_and_plain_paths(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "..." / "head.sqlite"
    path.parent.mkdir(parents=True)
    first = run_cli("keys", "--db", str(path))
    assert first.returncode == 0 and len(first.stdout.strip()) == 39
    assert run_cli("keys", "--db", f"sqlite:///{path}").stdout == first.stdout, "the key is made once"
    assert run_cli("keys").returncode == 2
    assert run_cli("summary", "--db", str(path), "--period", "2026-13").returncode == 1


def test_a_published_catalogue_reaches_every_site(sqlite_db: HeadDatabase, tmp_path: Path) -> None:
    branches = [new_branch(sqlite_db), new_branch(sqlite_db)]
    source = tmp_path / "diseases.json"
    source.write_text(json.dumps({"title": "转诊病种目录", "items": [{"code": "I10", "name": "高血压"}]},
                                 ensure_ascii=False), encoding="utf-8")
    for version in (1, 2):
        done = run_cli("catalogue", "publish", "referral_diseases", str(source), "--db", sqlite_db.url)
        assert done.returncode == 0 and f"第 {version} 版" in done.stdout
    for branch in branches:
        page = open_envelope(EnvelopeKind.FEED, feed_envelope(sqlite_db, branch.site_id, after=0),
                             sqlite_db.keys.public)
        versions = [open_envelope(EnvelopeKind.CATALOGUE, e["payload"], sqlite_db.keys.public)["version"]
                    for e in page["entries"]]
        assert versions == [1, 2]
    source.write_text("{broken", encoding="utf-8")
    assert run_cli("catalogue", "publish", "x", str(source), "--db", sqlite_db.url).returncode == 1


def _report(branch, period: str, figures: list[tuple[str, str, int, int]]) -> dict[str, bytes]:
    body = {"period": period, "kind": "indicators", "site_id": branch.site_id, "branch_name": branch.name,
            "period_start": "2026-07-01", "period_end": "2026-09-30",
            "figures": [{"code": c, "name": n, "numerator": a, "denominator": b} for c, n, a, b in figures]}
    return {f"{period}.json": json.dumps(body, ensure_ascii=False).encode("utf-8"), f"{period}.xlsx": b"PK"}


def test_summary_sums_the_sites_reports(head_db: HeadDatabase, tmp_path: Path) -> None:
    first, second = new_branch(head_db, name="青山镇卫生院"), new_branch(head_db, name="白水乡卫生院")
    silent = new_branch(head_db, name="石桥镇卫生院")
    htn, elderly = ("htn_standard", "高血压规范管理率"), ("elderly_care", "老年人健康管理率")
    ingest(head_db, first.package(head_db, [first.record("village"), first.record("staff")],
                                  reports=_report(first, "2026-Q3", [(*htn, 40, 50), (*elderly, 10, 20)])),
           channel="network")
    ingest(head_db, second.package(head_db, [second.record("village")],
                                   reports=_report(second, "2026-Q3", [(*htn, 30, 50)])), channel="usb")
    head_db.dispose()
    done = run_cli("summary", "--period", "2026-Q3", "--json", "--db", head_db.url, "--out", str(tmp_path / "s.xlsx"))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])
    by_code = {item["code"]: item for item in summary["indicators"]}
    assert (by_code["htn_standard"]["numerator"], by_code["htn_standard"]["denominator"]) == (70, 100)
    assert by_code["htn_standard"]["rate"] == 0.7 and by_code["htn_standard"]["sites"] == 2
    assert by_code["elderly_care"]["rate"] == 0.5
    assert len(summary["sites"]) == 3
    assert [row["name"] for row in summary["missing"]] == [silent.name]
    counts = {(row["name"], row["type"]): row["count"] for row in summary["records"]}
    assert counts == {("青山镇卫生院", "village"): 1, ("青山镇卫生院", "staff"): 1, ("白水乡卫生院", "village"): 1}
    workbook = load_workbook(tmp_path / "s.xlsx")
    assert workbook.sheetnames == ["县域汇总", "分院明细", "未上报分院", "记录数"]
    sheet = workbook["县域汇总"]
    assert [cell.value for cell in sheet[1]][:5] == ["指标代码", "指标名称", "分子合计", "分母合计", "率"]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "htn_standard")
    assert row[2:5] == (70, 100, 0.7)
    assert sheet.cell(row=2, column=5).number_format == "0.00%"


def test_status_page_lists_sites_with_escaped_text(sqlite_db: HeadDatabase) -> None:
    branch = new_branch(sqlite_db, name="<script>alert(1)</script>卫生院")
    ingest(sqlite_db, branch.package(sqlite_db, [branch.record("village"), branch.record("spaceship")]),
           channel="network")
    new_branch(sqlite_db, approved=False, name="石桥镇卫生院")
    with TestClient(create_app(sqlite_db)) as client:
        page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;卫生院" in html
    assert "石桥镇卫生院" not in html and "待审核 1 个" in html and "已批准" in html, "a pending site shows as a count"
    assert branch.keys.public.fingerprint in html and branch.site_id in html
    row = html[html.index("&lt;script&gt;"):]
    row = row[:row.index("</tr>")]
    cells = [cell.split(">", 1)[1] for cell in row.split("<td")[1:]]
    assert [cell.removesuffix("</td>") for cell in cells[-4:]] == ["1", "1", "0", "1"]
