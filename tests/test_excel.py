"""The Excel workbooks for people (helpers.present.excel, helpers.exports.save_xlsx) and
the CSVs with a byte-order mark: sheet names and headers in the report's language,
number formats, frozen and filtered headers, widths, no text where a number belongs,
dates as dates, and pay that adds up to the fen exactly as on the statements."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from helpers import exports
from helpers.exports import Sheet, save_csv, save_xlsx, text_width
from helpers.notebooks import leadership as L
from helpers.notebooks import quarterly as Q
from helpers.present.excel import pay_totals, scorecard_sheets

BAD_TEXT = {"inf", "-inf", "nan", "nat", "none", "<na>"}
PAYROLL = {"zh": ["工号", "姓名", "团队", "考核期", "状态", "等级", "总分", "在岗比例", "绩效工资", "调整合计", "尾差",
                  "应发合计"],
           "en": ["Manager ID", "Name", "Team", "Period", "Status", "Grade", "Total score", "Share of period employed",
                  "Variable pay", "Adjustments", "Rounding difference", "Total pay"]}


def _half_up(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def team(demo_params, tmp_path_factory):
    """east-1 of the demo built and saved in process, in Chinese and in English."""
    from helpers.context.workbook import open_team

    out = {}
    for lang in ("zh", "en"):
        folder = tmp_path_factory.mktemp(f"xl_{lang}")
        ctx = open_team(demo_params, "east-1", output_dir=folder, language=lang)
        q = Q.build(ctx, demo_params, "", with_review=False)
        Q.save(q)
        out[lang] = (q, folder)
    return out


@pytest.fixture(scope="module")
def summary(demo_params, tmp_path_factory):
    """The leadership summary built once, saved in Chinese and in English."""
    from helpers.context.workbook import open_team

    ctx = open_team(demo_params, "", language="zh", output_dir=tmp_path_factory.mktemp("ls_zh"))
    ls = L.build(ctx, demo_params, "")
    L.save(ls)
    en = dataclasses.replace(ls, ctx=dataclasses.replace(ctx, language="en",
                                                         output_dir=tmp_path_factory.mktemp("ls_en")))
    L.save(en)
    return {"zh": ctx.output_dir / "leadership_summary.xlsx", "en": en.ctx.output_dir / "leadership_summary.xlsx"}


def _headers(ws) -> list[str]:
    return [c.value for c in ws[1]]


def _rows(ws) -> list[dict]:
    heads = _headers(ws)
    return [dict(zip(heads, r)) for r in ws.iter_rows(min_row=2, values_only=True)]


# ------------------------------------------------------------------ names, headers, layout


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_team_workbook_speaks_the_report_language(team, lang):
    q, folder = team[lang]
    wb = openpyxl.load_workbook(folder / "scorecard.xlsx")
    assert wb.sheetnames == {"zh": ["工资表", "考核明细", "薪酬明细", "说明"],
                             "en": ["Payroll", "Scorecard", "Pay lines", "Notes"]}[lang]  # no adjustment booked
    payroll = wb.worksheets[0]
    assert _headers(payroll) == PAYROLL[lang]
    # the ids kept as values, one row per manager in the review's order
    assert [r[0] for r in payroll.iter_rows(min_row=2, values_only=True)] == list(q.summary.index)
    card = _headers(wb.worksheets[1])
    sales = q.name("sales")
    assert ({"zh": f"{sales}·达成率", "en": f"{sales}: attainment"}[lang]) in card
    assert not [h for h in card if re.fullmatch(r"[a-z_]+", h)], "a snake_case header is left"
    lines = _headers(wb.worksheets[2])
    assert lines[:4] == {"zh": ["工号", "姓名", "编号", "类别"], "en": ["Manager ID", "Name", "Reference", "Kind"]}[lang]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_leadership_workbook_speaks_the_report_language(summary, lang):
    wb = openpyxl.load_workbook(summary[lang])
    assert wb.sheetnames == {"zh": ["团队汇总", "总分变化", "重点客户流失", "投诉", "目标公平性", "说明"],
                             "en": ["Teams", "Movers", "Key account losses", "Complaints", "Target fairness",
                                    "Notes"]}[lang]
    fair = _rows(wb.worksheets[4])
    reason = {"zh": "依据", "en": "Reason"}[lang]
    assert fair and all(r[reason] for r in fair)
    if lang == "zh":  # the reasons in words of the report, not the calculation's English
        assert not [r[reason] for r in fair if re.search(r"[A-Za-z]{3,}", r[reason])]
        flags = {r["提示"] for r in fair} - {None}
        assert flags <= {"持续超额：目标偏松", "持续未达：目标偏紧"}
        # the reason counts what the columns count
        for r in fair:
            assert f"{r['期数']} 期" in r[reason]
    else:
        assert all("median attainment" in r[reason] or "within" in r[reason] for r in fair)


def test_every_sheet_is_frozen_filtered_and_sized(team, summary):
    books = [team["zh"][1] / "scorecard.xlsx", team["en"][1] / "scorecard.xlsx", summary["zh"], summary["en"]]
    for path in books:
        for ws in openpyxl.load_workbook(path):
            assert ws.freeze_panes == "A2", (path.name, ws.title)
            last = get_column_letter(ws.max_column)
            assert ws.auto_filter.ref == f"A1:{last}{ws.max_row}", (path.name, ws.title)
            for j, head in enumerate(_headers(ws), start=1):
                width = ws.column_dimensions[get_column_letter(j)].width
                # a CJK character counts double: "工号" needs 4 columns of text plus the filter button
                assert min(exports.MAX_WIDTH, text_width(head)) <= width <= exports.MAX_WIDTH, (ws.title, head, width)


def test_text_width_counts_cjk_double():
    assert text_width("工号") == 4 and text_width("ID") == 2 and text_width("华东一部 A") == 10


# ------------------------------------------------------------------ number formats, empty cells, dates


def test_number_formats(team, summary):
    q, folder = team["zh"]
    wb = openpyxl.load_workbook(folder / "scorecard.xlsx")
    payroll = wb["工资表"]
    fmt = {h: payroll.cell(row=2, column=j).number_format for j, h in enumerate(_headers(payroll), start=1)}
    assert fmt["绩效工资"] == fmt["应发合计"] == fmt["尾差"] == "#,##0.00"
    assert fmt["总分"] == "0.0" and fmt["在岗比例"] == "0.0%"
    card = wb["考核明细"]
    heads = _headers(card)
    fmt = {h: card.cell(row=2, column=j).number_format for j, h in enumerate(heads, start=1)}
    sales, csat = q.name("sales"), q.name("csat")
    assert fmt[f"{sales}·实际值"] == fmt[f"{sales}·目标"] == "#,##0.00"  # currency
    assert fmt[f"{sales}·达成率"] == fmt[f"{csat}·实际值"] == "0.0%"  # a ratio is a percentage
    assert fmt[f"{sales}·得分"] == "0.0" and fmt[f"{sales}·数据行数"] == "0" and fmt["团队排名"] == "0"
    teams = openpyxl.load_workbook(summary["zh"])["团队汇总"]
    fmt = {h: teams.cell(row=2, column=j).number_format for j, h in enumerate(_headers(teams), start=1)}
    assert fmt["销售额"] == "#,##0.00" and fmt["销售达成率"] == fmt["同比增长"] == "0.0%" and fmt["人数"] == "0"


def test_no_text_where_a_number_belongs(team, summary):
    books = [team["zh"][1] / "scorecard.xlsx", team["en"][1] / "scorecard.xlsx", summary["zh"], summary["en"]]
    for path in books:
        for ws in openpyxl.load_workbook(path):
            bad = [c.coordinate for row in ws.iter_rows() for c in row
                   if isinstance(c.value, str) and c.value.strip().lower() in BAD_TEXT]
            assert not bad, (path.name, ws.title, bad[:5])
    # the infinite attainment (a complaint rate of 0 against its target) is an empty cell, and the header says why
    q, folder = team["zh"]
    csv = pd.read_csv(folder / "scorecard.csv")
    inf = csv[np.isinf(csv["complaint_rate_attainment"].astype(float))]
    assert len(inf), "the demo has a manager without complaints"
    card = openpyxl.load_workbook(folder / "scorecard.xlsx")["考核明细"]
    heads = _headers(card)
    col = heads.index(f"{q.name('complaint_rate')}·达成率") + 1
    ids = [r[0] for r in card.iter_rows(min_row=2, values_only=True)]
    for m in inf["manager_id"]:
        assert card.cell(row=ids.index(m) + 2, column=col).value is None
    assert "无穷大" in card.cell(row=1, column=col).comment.text


def test_dates_are_date_cells_without_time(summary):
    for path in summary.values():
        ws = openpyxl.load_workbook(path).worksheets[2]  # key account losses
        col = 3
        assert _headers(ws)[col - 1] in ("流失日期", "Lost on")
        cells = [ws.cell(row=i, column=col) for i in range(2, ws.max_row + 1)]
        assert cells
        for c in cells:
            assert c.is_date and isinstance(c.value, dt.datetime) and c.value.time() == dt.time(0)
            assert c.number_format == "yyyy-mm-dd"


# ------------------------------------------------------------------ pay adds up to the fen


def test_pay_lines_add_up_to_payroll_statement_and_raw_payout(team):
    q, folder = team["zh"]
    wb = openpyxl.load_workbook(folder / "scorecard.xlsx")
    payroll = {r["工号"]: r for r in _rows(wb["工资表"])}
    lines = _rows(wb["薪酬明细"])
    raw = pd.DataFrame(json.loads((folder / "results.json").read_text(encoding="utf-8"))["pay_lines"])
    roundings = 0
    for m, row in payroll.items():
        mine = [r for r in lines if r["工号"] == m]
        shown = sum((Decimal(str(r["金额"])) for r in mine), Decimal("0"))
        total = Decimal(str(row["应发合计"]))
        assert shown == total, m  # exactly, to the fen
        # the statement shows the same total
        html = (folder / f"statement_{m}.html").read_text(encoding="utf-8")
        grand = re.search(r'class="st-grand"><td class="text">[^<]*</td><td class="num">([^<]+)</td>', html).group(1)
        assert Decimal(grand.replace(",", "")) == total, m
        # and it is the unrounded sum of the subtotals, rounded half up (the demo books no adjustment)
        subtotals = raw.loc[raw["manager_id"] == m, "subtotal"].astype(float)
        assert _half_up(Decimal(repr(float(sum(subtotals))))) == total, m
        # a rounding line exactly where the rounded lines do not add up
        rounded = sum((_half_up(Decimal(repr(float(s)))) for s in subtotals), Decimal("0"))
        diff = [r for r in mine if r["类别"] == "尾差"]
        assert bool(diff) == (rounded != total), m
        if diff:
            roundings += 1
            assert Decimal(str(diff[0]["金额"])) == total - rounded
    assert roundings >= 1  # east-1 has one manager whose rounded lines are a fen off (M019)


def test_pay_totals_by_hand():
    # three lines of 0.125: each shows 0.13 (Σ 0.39) but the total 0.375 rounds to 0.38
    p = pay_totals([0.125, 0.125, 0.125], [-0.125])
    assert p.lines == (Decimal("0.13"),) * 3 and p.payout == Decimal("0.38") and p.payout_rounding == Decimal("-0.01")
    assert p.adjustment == Decimal("-0.13") and p.total == Decimal("0.25") and p.total_rounding == Decimal("0.00")
    # 0.004 + 0.004: each part rounds to nothing, the total to a fen
    p = pay_totals([0.004], [0.004])
    assert (p.payout, p.adjustment, p.total, p.total_rounding) == (Decimal("0.00"), Decimal("0.00"), Decimal("0.01"),
                                                                  Decimal("0.01"))


def test_adjustments_are_lines_and_a_sheet(tmp_path):
    card = pd.DataFrame({"manager_id": ["M1"], "name": ["王伟"], "team_id": ["t"], "period": ["2026Q3"],
                         "status": ["ok"], "active_fraction": [1.0], "total": [88.0], "grade": ["A"],
                         "payout": [100.005], "adjustments": [-0.004], "pay_total": [100.001]})
    lines = pd.DataFrame({"manager_id": ["M1", "M1"], "ref": ["P.a", "P.b"], "month": ["2026Q3"] * 2,
                          "component": ["commission", "new_customer_bonus"], "item": ["a", "b"],
                          "quantity": [1.0, 1.0], "rate": [1.0, 1.0], "subtotal": [50.0025, 50.0025],
                          "explanation": ["", ""]})
    adj = pd.DataFrame({"manager_id": ["M1"], "ref": ["A.1"], "kind": ["file"], "relates_to_period": ["2026Q2"],
                        "relates_to_ref": [""], "reason_code": ["=cmd"], "reason": ["late order"],
                        "approved_by": ["HR"], "date": ["2026-10-05"], "amount": [-0.004], "indicator": [""],
                        "indicator_name": [""], "credit": [None]})
    sheets = scorecard_sheets(card, lines, adj, {}, {}, "华东一部", "zh")
    assert list(sheets) == ["工资表", "考核明细", "薪酬明细", "调整", "说明"]
    save_xlsx(tmp_path / "s.xlsx", sheets)
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    pay = _rows(wb["工资表"])[0]
    # 50.0025 → 50.00 each; Σ 100.005 → 100.01; adjustment −0.004 → 0.00; total 100.001 → 100.00
    assert (pay["绩效工资"], pay["调整合计"], pay["尾差"], pay["应发合计"]) == (100.01, 0, -0.01, 100.0)
    amounts = [Decimal(str(r["金额"])) for r in _rows(wb["薪酬明细"])]
    assert sum(amounts) == Decimal("100.00") and len(amounts) == 5  # 2 lines, 1 adjustment, 2 rounding lines
    a = _rows(wb["调整"])[0]
    assert a["原因代码"] == "'=cmd" and a["调整类型"] == "人工调整"  # still neutralised against formulas
    assert a["日期"] == dt.datetime(2026, 10, 5) and wb["调整"]["J2"].number_format == "yyyy-mm-dd"


# ------------------------------------------------------------------ the writer and the CSVs


def test_writer_empties_what_is_not_a_number(tmp_path):
    df = pd.DataFrame({"x": [float("inf"), float("nan"), -float("inf"), 1.5],
                       "d": pd.to_datetime(["2026-07-01", None, "2026-07-02", "2026-07-03"]),
                       "s": ["=1+1", None, "@A1", "ok"]})
    save_xlsx(tmp_path / "w.xlsx", {"w": Sheet(df, {"x": exports.SCORE})})
    ws = openpyxl.load_workbook(tmp_path / "w.xlsx")["w"]
    assert [c.value for c in ws["A"]] == ["x", None, None, None, 1.5] and ws["A5"].number_format == "0.0"
    assert [c.value for c in ws["B"]][1:] == [dt.datetime(2026, 7, 1), None, dt.datetime(2026, 7, 2),
                                              dt.datetime(2026, 7, 3)]
    assert ws["B2"].number_format == "yyyy-mm-dd"
    assert [(c.value, c.data_type) for c in ws["C"]][1:4:2] == [("'=1+1", "s"), ("'@A1", "s")]
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_csv_has_a_bom_and_reads_back_equal(team, tmp_path):
    q, folder = team["zh"]
    raw = (folder / "scorecard.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and not raw.startswith(b"\xef\xbb\xbf\xef\xbb\xbf")
    back = pd.read_csv(folder / "scorecard.csv")
    assert back.columns[0] == "manager_id"  # the mark is not part of the first header
    want = Q.export_frames(q)["scorecard"].replace([np.inf, -np.inf], np.nan)
    got = back.replace([np.inf, -np.inf], np.nan)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-9)
    # and by hand: the mark, then the text
    save_csv(pd.DataFrame({"姓名": ["王伟"], "n": [1]}), tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_bytes() == "\ufeff姓名,n\n王伟,1\n".encode("utf-8")
