"""Importing a 50,000-row residents' roster into the demo branch (target: within 10 s).

The roster is written the way county offices send it: a title row above the header,
village names instead of codes, dates as text in several shapes and as date cells,
phones as numbers, key-population columns with dates or 是. The import runs in
"valid rows only" mode; then the same file is imported again, which must change nothing.
Prints the seconds of each run and rows per second beside the bare read of the same file
(every row through the import's reader, python-calamine; and openpyxl's read-only mode, the
reader before it), and the target. With BENCH_PROFILE=1 the roster also carries five columns
of the 个人基本信息表 (血型, 文化程度, 药物过敏史, 既往疾病, 燃料类型) as labels.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROWS = int(os.environ.get("BENCH_ROWS", "50000"))
TARGET_SECONDS = 10.0
HEADER = ("姓名", "性别", "出生日期", "身份证号码", "民族", "联系电话", "家庭住址", "村名", "与户主关系",
          "医保类型", "建档日期", "高血压", "糖尿病")
WITH_PROFILE = os.environ.get("BENCH_PROFILE") == "1"
PROFILE_HEADER = ("血型", "文化程度", "药物过敏史", "既往疾病", "燃料类型")


def _date_text(rng: random.Random, day: date) -> object:
    shape = rng.randrange(4)
    return (day, f"{day.year}.{day.month}.{day.day}", f"{day:%Y%m%d}", f"{day.year}年{day.month}月{day.day}日")[shape]


def write_roster(path: Path, rows: int, *, county: str, villages: list[str]) -> None:
    """A roster of `rows` invented residents (IDs valid for `county`, none already in the demo)."""
    from desktop.demo.residents import random_household
    from desktop.rules.idnumbers import make_id
    from desktop.transfer.xlsx_stream import SheetWriter

    rng, today, used = random.Random(7), date.today(), set()
    header = HEADER + PROFILE_HEADER if WITH_PROFILE else HEADER
    writer = SheetWriter(path, sheet="花名册", widths=[12] * len(header), rows=rows + 1, text_columns=(3,),
                         shared_strings=True)
    writer.write_row(["青山镇居民健康档案花名册（2026 年）"])
    writer.write_header(header)
    written = 0
    while written < rows:
        village = rng.choice(villages)
        for person in random_household(rng, today):
            number = make_id(county, person.birth, rng.randrange(250, 499) * 2 + (person.sex == "1"))
            if number in used or written >= rows:
                continue
            used.add(number)
            age = (today - person.birth).days // 365
            hypertension = _date_text(rng, today - timedelta(days=rng.randrange(3000))) if age > 40 and rng.random() < 0.2 else None
            profile = _profile_cells(rng, hypertension) if WITH_PROFILE else ()
            writer.write_row((person.name, "男" if person.sex == "1" else "女", _date_text(rng, person.birth), number,
                              "汉族", 13800000000 + rng.randrange(10**8), f"{village}{rng.randint(1, 99)}号", village,
                              {"02": "户主", "10": "配偶", "20": "儿子", "30": "女儿"}.get(person.relation, "其他"),
                              "城乡居民基本医疗保险", _date_text(rng, max(person.birth, today - timedelta(days=900))),
                              hypertension, "是" if age > 40 and rng.random() < 0.08 else None, *profile))
            written += 1
    writer.close()


def _profile_cells(rng: random.Random, hypertension: object) -> tuple[object, ...]:
    """血型, 文化程度, 药物过敏史, 既往疾病, 燃料类型 as a clerk types them."""
    disease = "高血压（2015-03）" if hypertension else "无"
    return (rng.choice(("A型", "B型", "O型", "AB型")), rng.choice(("小学", "初中", "高中")),
            rng.choice(("无", "无", "青霉素")), disease, rng.choice(("液化气", "柴火")))


def bare_reads(path: Path) -> list[tuple[str, float, int]]:
    """(reader, seconds, rows) for reading every row of the file and doing nothing with it."""
    from openpyxl import load_workbook

    from desktop.transfer.sheets import SpreadsheetFile

    timings = []
    started = time.perf_counter()
    book = SpreadsheetFile(path)
    count = sum(1 for sheet in book.sheets() for _ in sheet.rows())
    book.close()
    timings.append(("bare read (calamine)", time.perf_counter() - started, count))
    started = time.perf_counter()
    workbook = load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    timings.append(("bare read (openpyxl)", time.perf_counter() - started, count))
    return timings


def main() -> None:
    from sqlalchemy import select

    from desktop.app import open_app
    from desktop.demo import build_demo
    from desktop.jobs import no_progress
    from desktop.models import Account, Branch, Village
    from desktop.services.auth import actor_of
    from desktop.transfer.resident_import import ImportMode, ResidentImport

    with tempfile.TemporaryDirectory() as folder:
        app = open_app(Path(folder) / "data")
        build_demo(app.db)
        with app.db.read() as session:
            county = session.get(Branch, 1).county_code
            villages = list(session.scalars(select(Village.name)))
            actor = actor_of(session.scalars(select(Account).where(Account.username == "luru1")).one())
        roster = Path(folder) / "roster.xlsx"
        started = time.perf_counter()
        write_roster(roster, ROWS, county=county, villages=villages)
        print(f"roster of {ROWS} rows written in {time.perf_counter() - started:.1f} s "
              f"({roster.stat().st_size / 1e6:.1f} MB)")
        for label, seconds, count in bare_reads(roster):
            print(f"{label:<22} {seconds:6.1f} s  {count / seconds:7.0f} rows/s")
        for label in ("first import", "same file again"):
            job = ResidentImport(app.db, actor, roster, ImportMode.VALID_ONLY)
            started = time.perf_counter()
            result = job(abort=threading.Event(), progress=no_progress)
            seconds = time.perf_counter() - started
            print(f"{label:<22} {seconds:6.1f} s  {ROWS / seconds:7.0f} rows/s  {result.summary_line()}")
        print(f"target: {ROWS} rows within {TARGET_SECONDS:.0f} s")
        app.close()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
