"""老年人生活自理能力评估表: the five items, the four levels with their scores, the ticked level, total and result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from desktop.printing.draw import BOX, MARGIN, Cell, form_header, tick, write
from desktop.printing.sheet import THICK, THIN, Sheet
from desktop.rules.elderly import SELF_CARE_ITEMS, Dependence, self_care_level

TITLE = "老年人生活自理能力评估表"
INTRO = ("该表为自评表，根据下表中 5 个方面进行评估，将各方面判断评分汇总后，0～3 分者为可自理；4～8 分者为轻度依赖；"
         "9～18 分者为中度依赖；≥19 分者为不能自理。")
# item -> (what it covers, the description under each level), as printed on the national form.
DESCRIPTIONS: dict[str, tuple[str, tuple[str, str, str, str]]] = {
    "eating": ("使用餐具将饭菜送入口、咀嚼、吞咽等活动",
               ("独立完成", "—", "需要协助，如切碎、搅拌食物等", "完全需要帮助")),
    "grooming": ("梳头、洗脸、刷牙、剃须、洗澡等活动",
                 ("独立完成", "能独立地洗头、梳头、洗脸、刷牙、剃须等；洗澡需要协助",
                  "在协助下和适当的时间内，能完成部分梳洗活动", "完全需要帮助")),
    "dressing": ("穿衣裤、袜子、鞋子等活动",
                 ("独立完成", "—", "需要协助，在适当的时间内完成部分穿衣", "完全需要帮助")),
    "toileting": ("小便、大便等活动及自控",
                  ("不需协助，可自控", "偶尔失禁，但基本上能如厕或使用便具",
                   "经常失禁，在很多提示和协助下尚能如厕或使用便具", "完全失禁，完全需要帮助")),
    "activity": ("站立、室内行走、上下楼梯、户外活动",
                 ("独立完成所有活动", "借助较小的外力或辅助装置能完成站立、行走、上下楼梯等",
                  "借助较大的外力才能完成站立、行走，不能上下楼梯", "卧床不起，活动完全需要帮助")),
}
ITEM_W, LEVEL_W = 46.0, 28.0
TOP = 44.0
HEAD_H, DESC_H, SCORE_H, TOTAL_H = 8.0, 24.0, 8.0, 12.0


@dataclass(frozen=True)
class SelfCareRecord:
    """One assessment as printed: who, when, by whom, the level chosen per item (Dependence values)."""

    name: str
    record_no: str
    check_date: date
    doctor_name: str
    answers: dict[str, int]


def self_care_sheet(record: SelfCareRecord) -> Sheet:
    """The assessment on one A4 page."""
    sheet = Sheet()
    form_header(sheet, TITLE, record.name, record.record_no)
    day = record.check_date
    write(sheet, Cell(MARGIN, 32, sheet.width - 2 * MARGIN, 11), INTRO, 8.5, align="left", pad=0)
    columns = _columns(sheet)
    y = _head(sheet, columns, TOP)
    total = 0
    for number, item in enumerate(SELF_CARE_ITEMS, start=1):
        chosen = record.answers.get(item)
        total += SELF_CARE_ITEMS[item][1][chosen] if chosen is not None else 0
        y = _item(sheet, columns, y, number, item, chosen)
    complete = all(item in record.answers for item in SELF_CARE_ITEMS)
    y = _total(sheet, columns, y, total if complete else None)
    sheet.rect(MARGIN, TOP, sheet.width - 2 * MARGIN, y - TOP, THICK)
    write(sheet, Cell(MARGIN, y + 4, 120, 7), f"评估日期：{day.year}年{day.month}月{day.day}日", 10, align="left", pad=0)
    write(sheet, Cell(sheet.width - MARGIN - 70, y + 4, 70, 7), f"评估医生签名：{record.doctor_name}", 10,
          align="right", pad=0)
    return sheet


def _columns(sheet: Sheet) -> list[float]:
    """Left edges of the item column, the four level columns and the score column, then the right edge."""
    edges = [MARGIN, MARGIN + ITEM_W]
    for _ in range(4):
        edges.append(edges[-1] + LEVEL_W)
    return edges + [sheet.width - MARGIN]


def _head(sheet: Sheet, edges: list[float], y: float) -> float:
    """评估事项、内容与评分 | 程度等级 (可自理 … 不能自理) | 判断评分, over two rows."""
    write(sheet, Cell(edges[0], y, ITEM_W, 2 * HEAD_H), "评估事项、内容与评分", 9.5)
    write(sheet, Cell(edges[1], y, 4 * LEVEL_W, HEAD_H), "程度等级", 9.5)
    write(sheet, Cell(edges[5], y, edges[6] - edges[5], 2 * HEAD_H), "判断评分", 9.5)
    for level in Dependence:
        write(sheet, Cell(edges[1 + level], y + HEAD_H, LEVEL_W, HEAD_H), level.label, 9.5)
    sheet.line(edges[1], y + HEAD_H, edges[5], y + HEAD_H, THIN)
    for x in edges[1:6]:
        sheet.line(x, y if x in (edges[1], edges[5]) else y + HEAD_H, x, y + 2 * HEAD_H, THIN)
    sheet.line(edges[0], y + 2 * HEAD_H, edges[6], y + 2 * HEAD_H, THIN)
    return y + 2 * HEAD_H


def _item(sheet: Sheet, edges: list[float], y: float, number: int, item: str, chosen: int | None) -> float:
    """The item's description row and its 评分 row; the chosen level's box is ticked."""
    label, scores = SELF_CARE_ITEMS[item]
    covers, levels = DESCRIPTIONS[item]
    write(sheet, Cell(edges[0], y, ITEM_W, DESC_H), f"（{number}）{label}：{covers}", 9, align="left")
    write(sheet, Cell(edges[0], y + DESC_H, ITEM_W, SCORE_H), "评分", 9, align="left")
    for level in Dependence:
        x = edges[1 + level]
        write(sheet, Cell(x, y, LEVEL_W, DESC_H), levels[level], 8.5)
        tick(sheet, x + 6, y + DESC_H + (SCORE_H - BOX) / 2, ticked=chosen == level)
        write(sheet, Cell(x + 6 + BOX, y + DESC_H, LEVEL_W - 12 - BOX, SCORE_H), str(scores[level]), 10)
    if chosen is not None:
        write(sheet, Cell(edges[5], y, edges[6] - edges[5], DESC_H + SCORE_H), str(scores[chosen]), 12)
    sheet.line(edges[0], y + DESC_H, edges[5], y + DESC_H, THIN)
    for x in edges[1:6]:
        sheet.line(x, y, x, y + DESC_H + SCORE_H, THIN)
    bottom = y + DESC_H + SCORE_H
    sheet.line(edges[0], bottom, edges[6], bottom, THIN)
    return bottom


def _total(sheet: Sheet, edges: list[float], y: float, total: int | None) -> float:
    """总评分 with the total, and the result level ticked among the four."""
    write(sheet, Cell(edges[0], y, ITEM_W, TOTAL_H), "总评分", 10)
    level = self_care_level(total) if total is not None else None
    for option in Dependence:
        x = edges[1 + option]
        tick(sheet, x + 3, y + (TOTAL_H - BOX) / 2, ticked=option is level)
        write(sheet, Cell(x + 3 + BOX, y, LEVEL_W - 3 - BOX, TOTAL_H), option.label, 9.5)
    if total is not None:
        write(sheet, Cell(edges[5], y, edges[6] - edges[5], TOTAL_H), f"{total} 分", 12)
    for x in (edges[1], edges[5]):
        sheet.line(x, y, x, y + TOTAL_H, THIN)
    return y + TOTAL_H
