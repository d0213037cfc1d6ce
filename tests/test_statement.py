"""The per-manager pay & score statement (helpers.present.statement): what a manager reads
on the page, checked against numbers worked out by hand; one test prints it to PDF."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser

import pytest

from conftest import print_pdf
from helpers.record.results import ref_code
from helpers.present.display import half_up
from helpers.present.statement import statement_html

HOSTILE = "<img src=x onerror=alert(1)>"


def data() -> dict:
    """A statement worked out by hand.

    Scorecard: I.sales (weight 50 %, 120.0 points) and I.visits (30 %, 80.0 points) are
    scored, I.nps (20 %) is not: its weight is shared, so they count 50/80 = 62.5 % and
    30/80 = 37.5 %; hard = 120 × 0.625 + 80 × 0.375 = 75 + 30 = 105.0.
    Soft: (85 + 81) / 2 = 83.0.  Total = 105.0 × 70 % + 83.0 × 30 % = 73.5 + 24.9 = 98.4.
    Pay: 37,230.368 → 37,230.37; 27,922.776 → 27,922.78; 8,304.7536 → 8,304.75;
    payout 73,457.8976 → 73,457.90 (= the sum of the rounded lines).
    Adjustments: −1,234.50 (restatement of 2026Q2), +500.00 (manual), 0.00 (sales credit)
    → −734.50; pay total 73,457.8976 − 734.50 = 72,723.3976 → 72,723.40.
    """
    return {
        "title": "演示公司 · 客户经理绩效报告",
        "period": "2026Q3",
        "manager": {"id": "M001", "name": "曹琪", "team": "华东一组", "region": "华东"},
        "status": "ok",
        "closed": False,
        "closed_at": None,
        "version": "3f9a0c12ab45",
        "plan_version": "a1b2c3d4e5f6",
        "totals": {"hard": 105.0, "soft": 83.0, "total": 98.4, "split": 0.7, "grade": "B",
                   "rank_team": 2, "team_n": 8, "rank_company": 15, "company_n": 48},
        "indicators": [
            {"ref": "I.sales", "name": "销售额", "unit": "currency", "weight": 0.5, "target": 2326898.0,
             "actual": 2856087.02, "attainment": 1.2274, "score": 120.0, "note": ""},
            {"ref": "I.visits", "name": "拜访客户数", "unit": "count", "weight": 0.3, "target": 60.0,
             "actual": 48.0, "attainment": 0.8, "score": 80.0, "note": ""},
            {"ref": "I.nps", "name": "客户满意度", "unit": "score", "weight": 0.2, "target": 40.0,
             "actual": float("nan"), "attainment": float("inf"), "score": None, "note": "样本不足（3 < 20），不计分"},
        ],
        "soft": [{"ref": "I.qual_market", "name": "市场工作", "rating": 85.0},
                 {"ref": "I.qual_team", "name": "团队协作", "rating": 81.0}],
        "pay_lines": [
            {"ref": "P.commission.2026Q3.1", "item": "2026Q3 提成第 1 档（0–100%）",
             "explanation": "4% × 2,326,898.00 × 个人系数 0.4 = 37,230.37", "subtotal": 37230.368},
            {"ref": "P.commission.2026Q3.2", "item": "2026Q3 提成第 2 档（100–120%）",
             "explanation": "6% × 465,379.60 = 27,922.78（超出目标部分）", "subtotal": 27922.776},
            {"ref": "P.bonus.new_customers", "item": "新客户奖励", "explanation": "10 名 × 830.48 = 8,304.75",
             "subtotal": 8304.7536},
        ],
        "payout": 73457.8976,
        "adjustments": [
            {"ref": "A.R-2026Q2-M001-P.commission.2026Q2.3-1", "kind": "restatement", "relates_to_period": "2026Q2",
             "relates_to_ref": "P.commission.2026Q2.3", "reason_code": "RESTATEMENT", "reason": "订单数据更正",
             "approved_by": "王芳", "date": "2026-10-12", "amount": -1234.5,
             "indicator": None, "indicator_name": None, "credit": None},
            {"ref": "A.F-2026Q3-M001-1", "kind": "file", "relates_to_period": "2026Q3", "relates_to_ref": None,
             "reason_code": "SPECIAL_PROJECT", "reason": "参与总部项目", "approved_by": "李强",
             "date": "2026-10-15", "amount": 500.0, "indicator": None, "indicator_name": None, "credit": None},
            {"ref": "A.C-2026Q3-M001-1", "kind": "file", "relates_to_period": "2026Q3", "relates_to_ref": None,
             "reason_code": "CREDIT", "reason": "大客户转移", "approved_by": "李强", "date": "2026-10-15",
             "amount": None, "indicator": "I.sales", "indicator_name": "销售额", "credit": 50000.0},
        ],
        "pay_total": 72723.3976,
        "signoff": {"status": None, "date": None, "version": None},
        "dispute": {"contact": "人力资源部绩效专员", "days": 10},
    }


class _Text(HTMLParser):
    """The text a reader sees (no <style>, no markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1
        if tag in ("td", "th", "tr", "p", "li", "br", "div", "h1", "h2"):
            self.parts.append(" ")  # a cell or block boundary reads as a space

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, d):
        if not self._skip:
            self.parts.append(d)


def visible(html: str) -> str:
    p = _Text()
    p.feed(html)
    return re.sub(r"\s+", " ", "".join(p.parts))


def no_junk(text: str) -> None:
    for bad in ("nan", "NaN", "None", "∞", "inf", "<NA>", "null"):
        assert not re.search(rf"(?<![A-Za-z]){re.escape(bad)}(?![A-Za-z])", text), bad


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_line_and_reference_is_on_the_page(language):
    d = data()
    html = statement_html(d, language)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    text = visible(html)
    for ref in ["I.sales", "I.visits", "I.nps", "I.qual_market", "I.qual_team",
                "P.commission.2026Q3.1", "P.commission.2026Q3.2", "P.bonus.new_customers",
                "A.R-2026Q2-M001-P.commission.2026Q2.3-1", "A.F-2026Q3-M001-1", "A.C-2026Q3-M001-1"]:
        assert ref_code(ref) in text and ref not in text, ref  # printed as its code, no programme names
    for amount in ["37,230.37", "27,922.78", "8,304.75", "73,457.90", "-1,234.50", "+500.00", "-734.50",
                   "72,723.40"]:
        assert amount in text, amount
    # the adjustments: what each one is
    assert "2026Q2" in text and ref_code("P.commission.2026Q2.3") in text and "SPECIAL_PROJECT" in text
    assert "销售额 +50,000" in text and "0.00" in text
    assert "王芳" in text and "2026-10-12" in text
    # the scorecard: attainment and points to one decimal, the redistributed weight
    assert "122.7%" in text and "80.0%" in text and "120.0" in text
    assert "62.5%" in text and "37.5%" in text
    no_junk(text)


def test_zh_score_steps_and_money_in_words():
    text = visible(statement_html(data(), "zh"))
    assert "曹琪" in text and "M001" in text and "华东一组" in text and "华东" in text and "2026Q3" in text
    assert "个人考核与薪酬确认单" in text and "草稿" in text
    assert "总分 = 业绩 105.0 × 70% + 市场 83.0 × 30% = 98.4" in text
    assert "120.0 × 62.5% + 80.0 × 37.5% = 105.0" in text
    assert "(85.0 + 81.0) ÷ 2 = 83.0" in text
    assert "等级 B，团队排名 2 / 8，公司排名 15 / 48。" in text
    assert "未计分：样本不足（3 < 20），不计分。其权重 20% 按比例分给其余指标。" in text
    assert f"对 2026Q2 第 {ref_code('P.commission.2026Q2.3')} 行的事后调整" in text
    assert "人工调整（原因代码 SPECIAL_PROJECT）" in text
    assert "指标计入：销售额 +50,000 计入本期实际" in text
    assert "应发合计 = 绩效工资 73,457.90 − 调整 734.50 = 72,723.40 元" in text
    assert "金额按分四舍五入；合计按未舍入的金额计算后再舍入" in text
    assert "本确认单版本 3f9a0c12ab45（考核方案版本 a1b2c3d4e5f6）；签字即确认该版本的数字。" in text
    assert "当前状态：尚未签字。" in text
    assert "客户经理签字" in text and "主管签字" in text
    assert (f"对任何一行有异议，请在发布后 10 天内写明该行的编号（如 {ref_code('P.commission.2026Q3.1')}）和理由，"
            "发给 人力资源部绩效专员。") in text
    assert "舍入差" not in text.replace("差额列为“舍入差”", "")  # the lines add up: no rounding line


def test_en_score_steps_and_money_in_words():
    text = visible(statement_html(data(), "en"))
    assert "Personal pay and score statement" in text
    assert "Total = hard 105.0 × 70% + soft 83.0 × 30% = 98.4" in text
    assert "Grade B, rank 2 of 8 in the team, rank 15 of 48 in the company." in text
    assert f"Prior-period adjustment of 2026Q2, line {ref_code('P.commission.2026Q2.3')}" in text
    assert "Manual adjustment (reason code SPECIAL_PROJECT)" in text
    assert "Indicator credit: 销售额 +50,000 added to this period's actual" in text
    assert "Total pay = variable pay 73,457.90 − adjustments 734.50 = CNY 72,723.40" in text
    assert "Statement version 3f9a0c12ab45 (plan version a1b2c3d4e5f6); a signature confirms" in text
    assert ("If you disagree with any line, within 10 days of publication write down the line's reference "
            f"(e.g. {ref_code('P.commission.2026Q3.1')}) and your reason, and send it to 人力资源部绩效专员.") in text
    signoff = text.split("Sign-off", 1)[1].split("If you disagree", 1)[0]
    assert "Manager's signature" in signoff and not re.search(r"[\u4e00-\u9fff]", signoff)


def test_rounded_lines_add_up_with_a_rounding_line():
    d = data()
    d["pay_lines"] = [{"ref": f"P.x.{i}", "item": "x", "explanation": "", "subtotal": 10.005} for i in range(3)]
    d["payout"] = 30.015
    d["adjustments"] = []
    d["pay_total"] = 30.015
    text = visible(statement_html(d, "zh"))
    # each line 10.005 → 10.01 (half up); the lines add up to 30.03, the total of the unrounded amounts is 30.02
    assert text.count("10.01") == 3
    assert "舍入差" in text and "-0.01" in text and "各行按分舍入后之和为 30.03" in text
    assert "绩效工资合计 30.02" in text and "应发合计 30.02" in text


def test_a_total_that_is_not_the_sum_of_its_lines_is_refused():
    d = data()
    d["payout"] = 70000.0
    with pytest.raises(ValueError, match="payout"):
        statement_html(d, "zh")
    d = data()
    d["pay_total"] = 73457.8976
    with pytest.raises(ValueError, match="pay_total"):
        statement_html(d, "zh")


def test_hostile_text_is_escaped():
    d = data()
    d["manager"]["name"] = HOSTILE
    d["manager"]["team"] = "</style><script>alert(1)</script>"
    d["pay_lines"][0]["explanation"] = HOSTILE
    d["adjustments"][0]["reason"] = HOSTILE
    d["version"] = '3f9a"}</style><b>x'
    html = statement_html(d, "zh")
    assert "<img" not in html and "<script" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    text = visible(html)
    assert text.count(HOSTILE) >= 3  # the name (title, header, footer), the explanation, the reason
    assert "</style><script>alert(1)</script>" in text


def test_signed_an_earlier_version():
    d = data()
    d["signoff"] = {"status": "signed", "date": "2026-10-25", "version": "0c1d2e3f4a5b"}
    zh = visible(statement_html(d, "zh"))
    assert "当前状态：已于 2026-10-25 签字确认（版本 0c1d2e3f4a5b）。" in zh
    assert "该签字针对的是较早的版本 0c1d2e3f4a5b，不是本确认单的版本 3f9a0c12ab45" in zh
    en = visible(statement_html(d, "en"))
    assert "signature refers to an earlier version, 0c1d2e3f4a5b, not to this statement's version 3f9a0c12ab45" in en
    d["signoff"]["version"] = d["version"]
    zh = visible(statement_html(d, "zh"))
    assert "已于 2026-10-25 签字确认（版本 3f9a0c12ab45）" in zh and "较早的版本" not in zh
    d["signoff"]["status"] = "refused"
    assert "已于 2026-10-25 拒绝签字（版本 3f9a0c12ab45）" in visible(statement_html(d, "zh"))


def test_closed_period_says_the_figures_are_final():
    d = data()
    d["closed"], d["closed_at"] = True, "2026-10-20"
    text = visible(statement_html(d, "zh"))
    assert "本期已于 2026-10-20 结账，以下数字为最终数字。" in text and "已结账" in text
    assert "The period was closed on 2026-10-20; these figures are final." in visible(statement_html(d, "en"))


def test_no_data_page():
    d = data()
    d.update(status="no_data", totals={k: None for k in d["totals"]}, indicators=[], soft=[], pay_lines=[],
             payout=None, adjustments=[], pay_total=None)
    zh = visible(statement_html(d, "zh"))
    assert "曹琪 在 2026Q3 没有考核数据：本期不评分、不定级、不计算绩效工资。" in zh
    assert "业绩考核：各指标得分" not in zh and "绩效工资明细" not in zh and "总分 =" not in zh
    assert "本确认单版本 3f9a0c12ab45" in zh
    assert "对任何一行有异议，请在发布后 10 天内写明该行的编号和理由，发给 人力资源部绩效专员。" in zh  # no line to cite
    no_junk(zh)
    en = visible(statement_html(d, "en"))
    assert "曹琪 has no review data for 2026Q3: no score, no grade and no variable pay this period." in en
    no_junk(en)


def test_missing_values_show_a_dash():
    d = data()
    d["totals"].update(grade=None, rank_company=float("nan"), company_n=None)
    d["manager"]["team"] = None
    d["indicators"][0].update(target=None, attainment=float("nan"))
    d["soft"][1]["rating"] = float("nan")
    text = visible(statement_html(d, "zh"))
    no_junk(text)
    assert "等级 —（无总分，不定级），团队排名 2 / 8。" in text
    assert "—（无目标）" in text


def test_print_css_and_no_external_resources():
    html = statement_html(data(), "zh")
    assert "@page { size: A4; margin: 15mm; }" in html
    assert '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC"' in html
    for rule in ("thead { display: table-header-group; }", "break-inside: avoid", "break-after: avoid",
                 "table-layout: fixed", "section.st-signoff { break-inside: avoid"):
        assert rule in html, rule
    assert html.count("<thead>") == 4  # scorecard, soft, pay, adjustments
    assert "<script" not in html and "http://" not in html and "https://" not in html and " src=" not in html


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))


@pytest.mark.browser
def test_prints_on_one_or_two_a4_pages(browser, tmp_path):
    d = data()
    d["signoff"] = {"status": "signed", "date": "2026-10-25", "version": "0c1d2e3f4a5b"}
    d["pay_lines"][0]["explanation"] = "（按季度结算；第 1 档的提成率适用于目标以内的销售额）" * 6  # a long one wraps
    page = tmp_path / "statement.html"
    page.write_text(statement_html(d, "zh"), encoding="utf-8")
    pdf = print_pdf(browser, page, tmp_path / "statement.pdf")
    body = pdf.read_bytes()
    assert 1 <= _pages(body) <= 2, _pages(body)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", body)
    assert boxes and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in boxes), boxes


# ------------------------------------------------------------------ the sign-off page of the team review


ONE_DECIMAL_AT_MOST = re.compile(r"\d+\.\d{2,}\s?%")


def _cells(html: str, table_class: str) -> list[list[str]]:
    """The rows of the first table of class ``table_class`` in ``html``, each a list of cell texts."""
    m = re.search(rf'<table class="{table_class}[^"]*"[^>]*>(.*?)</table>', html, re.S)
    assert m, table_class
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", m.group(1), re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)
        rows.append([visible(c.replace("<wbr>", "")).strip() for c in cells])
    return rows


def _fen(text: str) -> Decimal:
    return Decimal(text.replace(",", "").replace("+", ""))


def _percent(text: str) -> float:
    """The weight a row counts with: '30%' or '30%，计入 37.5%' / '30%, counts 37.5%' → the last one."""
    return float(re.findall(r"(\d+(?:\.\d+)?)%", text)[-1]) / 100


def _recompute_scores(page: str, split: float) -> tuple[float, float, float]:
    """From a page alone: the hard score (Σ weight × points of the scored indicators), the soft
    score (the mean of the ratings) and the total (split × hard + (1 − split) × soft), each checked
    against the figures printed in the split line, to the printed precision; returns the printed three."""
    card = [r for r in _cells(page, "st-scorecard")[1:] if len(r) == 7 and r[6] != "—"]
    ratings = [float(r[2]) for r in _cells(page, "st-soft")[1:]]
    text = visible(page.replace("<wbr>", ""))
    m = re.search(r"(?:总分 = 业绩|Total = hard) (\d+\.\d) × (\d+)% \+ (?:市场|soft) (\d+\.\d) × (\d+)% = (\d+\.\d)", text)
    assert m, text[:400]
    hard, soft, total = float(m.group(1)), float(m.group(3)), float(m.group(5))
    assert (int(m.group(2)), int(m.group(4))) == (round(split * 100), round((1 - split) * 100))
    # printed points and ratings to 0.1 (each ±0.05, weights summing to 1), the printed score ±0.05
    assert sum(_percent(r[2]) * float(r[6]) for r in card) == pytest.approx(hard, abs=0.1)
    assert sum(ratings) / len(ratings) == pytest.approx(soft, abs=0.1)
    assert split * hard + (1 - split) * soft == pytest.approx(total, abs=0.1)
    return hard, soft, total


def _recompute_pay(page: str) -> Decimal:
    """From a page alone: Σ printed pay lines (with the rounding line, if any) = the printed variable
    pay; variable pay + adjustments = the printed total pay.  Returns the printed total."""
    pay = _cells(page, "st-pay")[1:]
    lines = [_fen(r[3]) for r in pay if len(r) == 4 and r[0]]
    rounding = [_fen(r[3]) for r in pay if len(r) == 4 and not r[0]]  # the rounding-difference row
    total_row = [r for r in pay if len(r) == 3]
    assert len(total_row) == 1 and len(rounding) <= 1
    payout = _fen(total_row[0][2])
    assert sum(lines) + sum(rounding) == payout
    totals = _cells(page, "st-total")
    assert _fen(totals[0][1]) == payout
    assert _fen(totals[-1][1]) == payout + _fen(totals[1][1]) + (_fen(totals[2][1]) if len(totals) == 4 else 0)
    return _fen(totals[-1][1])


def _half_up(x: float) -> Decimal:
    return Decimal(repr(float(x))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def gated(demo_params, tmp_path_factory):
    """east-1 of the demo for 2026Q3 in English, under a plan with a commission gate of 60 % of the
    month's sales target, settled month by month, the team report showing teammates' pay."""
    import shutil

    import yaml

    from helpers.context.workbook import open_team
    from helpers.notebooks import quarterly as Q
    from conftest import ROOT

    folder = tmp_path_factory.mktemp("gated")
    raw = yaml.safe_load(demo_params.read_text(encoding="utf-8"))
    plan = yaml.safe_load((ROOT / "params" / "incentives.yaml").read_text(encoding="utf-8"))
    plan["gates"]["min_sales_attainment_for_commission"] = 0.6
    plan["settlement"] = "month"
    (folder / "incentives.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    for name in ("scoring.yaml", "rubric.yaml"):  # the scoring plan and its rubric beside the incentive plan
        shutil.copy(ROOT / "params" / name, folder / name)
    raw.update(incentives=str(folder / "incentives.yaml"), scoring=str(folder / "scoring.yaml"), language="en")
    raw.setdefault("record", {})["teammates_pay"] = True
    params = folder / "run.yaml"
    params.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    ctx = open_team(params, "east-1", language="en", output_dir=folder / "out")
    q = Q.build(ctx, params, "", with_review=False)
    return q, Q.signoff_html(q), 0.6


def _signoff_pages(html: str, q) -> dict:
    pages = html.split("<div class='kpi-page kpi-signoff'")[1:]
    assert len(pages) == len(q.summary)
    return dict(zip(q.summary.index, pages))


def test_signoff_page_recomputes_to_the_total_pay(gated):
    """For a manager with a month below the commission gate and one paid every month of the
    quarter: the scores, the split and the total pay recomputed from the sign-off page alone
    equal the printed figures; every gated month shows its commission line at 0 with the
    reason; no ∞/nan and no percentage with more than one decimal."""
    import pandas as pd
    import yaml

    from conftest import ROOT

    q, html, gate = gated
    split = yaml.safe_load((ROOT / "params" / "scoring.yaml").read_text(encoding="utf-8"))["split"]
    # the gated months, counted from the KPI actuals and the monthly sales targets
    a = q.ctx.monthly
    sales = a[(a["kpi"] == "sales") & (a["segment"] == "all")].set_index(["manager_id", "period"])["value"]
    t = q.cs.monthly_targets.assign(month=lambda f: f["month"].astype(str)).set_index(["manager_id", "month"])["target"]
    att = (sales.reindex(t.index).to_numpy() / t.to_numpy())
    months = pd.Series(att, index=t.index)
    months = months[months.index.get_level_values(0).isin(q.summary.index)
                    & months.index.get_level_values(1).isin([p.strftime("%Y-%m") for p in q.ctx.period.months])]
    gated_months = months[months < gate]
    assert len(gated_months) >= 1
    pages = _signoff_pages(html, q)
    shown = sum(len(re.findall(r"commission gate of 60% not reached", visible(p))) for p in pages.values())
    assert shown == len(gated_months)
    for (m, month), x in gated_months.items():
        row = next(r for r in _cells(pages[m], "st-pay") if r[0] == ref_code(f"P.commission.{month}.1"))
        assert row[2] == f"commission gate of 60% not reached: sales attainment {x * 100:.1f}% — no commission"
        assert row[3] == "0.00"
    with_gate = gated_months.index.get_level_values(0)[0]
    full = next(m for m in q.summary.index if m not in set(gated_months.index.get_level_values(0))
                and (months.loc[m] >= gate).all() and len(months.loc[m]) == 3)
    for m in (with_gate, full):
        page = pages[m]
        hard, soft, total = _recompute_scores(page, split)
        r = q.summary.loc[m]
        assert (hard, soft, total) == tuple(float(half_up(r[k], 1)) for k in ("hard", "soft", "total"))
        assert _recompute_pay(page) == _half_up(r["pay_total"])
        text = visible(page)
        assert "rounded half up to the fen" in text  # the rounding rule, once on the page
        no_junk(text)
        assert not ONE_DECIMAL_AT_MOST.findall(text)
    # a manager with a gated month gets no commission that month, a paid month's tiers show up
    gated_codes = {ref_code(f"P.commission.{month}.{n}") for month in gated_months.loc[with_gate].index
                   for n in range(1, 10)}
    assert not [r for r in _cells(pages[with_gate], "st-pay") if r[0] in gated_codes and r[3] != "0.00"]


def _readable(html: str) -> str:
    return visible(re.sub(r"<(style|script)\b.*?</\1>", " ", html.replace("<wbr>", ""), flags=re.S | re.I))


def demo_pages_problems(folder) -> list[str]:
    """What a person should never read on the demo's review pages (04) and statements: ∞, nan,
    None, inf, or a percentage with more than one decimal (a market share in the review's
    summary draft, a share of a few per cent, is not pay or a score and keeps two decimals)."""
    problems = []
    pages = sorted(folder.glob("*/04_quarterly_review.html")) + sorted(folder.glob("*/statement_*.html"))
    assert len(pages) > 6
    for page in pages:
        text = _readable(page.read_text(encoding="utf-8"))
        for bad in ("nan", "NaN", "None", "∞", "inf"):
            if re.search(rf"(?<![A-Za-z]){re.escape(bad)}(?![A-Za-z])", text):
                problems.append(f"{page}: {bad}")
        for m in ONE_DECIMAL_AT_MOST.finditer(text):
            if not re.search(r"(市场占有率|market share)\s*$", text[max(0, m.start() - 20):m.start()], re.I):
                problems.append(f"{page}: {text[max(0, m.start() - 40):m.end()]}")
    return problems


@pytest.mark.slow
def test_demo_pages_show_no_infinity_and_one_decimal_percentages(demo_run):
    proc, folder = demo_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert demo_pages_problems(folder) == []


@pytest.mark.parametrize("language", ["zh", "en"])
def test_infinite_attainment_is_a_dash_with_the_reason(language):
    """A lower-is-better indicator with an actual of 0 (target ÷ actual is infinite) and one
    with a target of 0: attainment "—" and a note saying why, never ∞ / inf."""
    d = data()
    d["indicators"][0].update(target=0.05, actual=0.0, attainment=float("inf"), unit="ratio")
    d["indicators"][1].update(target=0.0, actual=3.0, attainment=float("inf"))
    text = visible(statement_html(d, language))
    no_junk(text)
    rows = _cells(statement_html(d, language), "st-scorecard")
    assert [r[5] for r in rows if len(r) == 7][1:3] == ["—", "—"]
    notes = [r[1] for r in rows if len(r) == 2][:2]  # the third: I.nps, not scored
    assert notes == ({"zh": ["达成率无法计算：实际为 0（越低越好的指标，达成率 = 目标 ÷ 实际）。", "达成率无法计算：目标为 0。"],
                      "en": ["No attainment: the actual is 0 (lower is better, attainment = target ÷ actual).",
                             "No attainment: the target is 0."]}[language])


def test_printed_codes_are_short_stable_and_name_no_field():
    """A statement prints each stable reference as kind letter + 6 hex digits of its SHA-1
    (computed here with hashlib), so no programme name reaches the page; a code stays a code."""
    import hashlib

    for ref in ("P.commission.2026-07.1", "I.sales", "T.total", "A.R-2026Q2-M001-P.commission.2026Q2.3-1"):
        code = ref_code(ref)
        assert code == f"{ref[0]}-{hashlib.sha1(ref.encode()).hexdigest()[:6].upper()}"
        assert ref_code(code) == code and re.fullmatch(r"[IPTA]-[0-9A-F]{6}", code)
    assert ref_code("P.commission.2026-07.1") == "P-3DBDF6"  # the README's example
    assert ref_code("提成") == "提成" and ref_code("") == ""


def test_scorecard_shows_money_to_the_fen_and_the_curves_that_make_the_points():
    """The commission's base can be recomputed from the scorecard (sales to the fen, not to
    the yuan), and the points from the printed curve: one sentence names each curve with
    the indicators it scores."""
    d = data()
    d["indicators"][0]["curve"] = "80%/100%/120% → 60/100/120"
    d["indicators"][1]["curve"] = "80%/100%/120% → 60/100/120"
    d["indicators"][2]["curve"] = "50%/80%/100%/120% → 0/60/100/120"
    zh = visible(statement_html(d, "zh"))
    assert "2,326,898.00" in zh and "2,856,087.02" in zh  # target and actual sales to the fen
    assert "销售额、拜访客户数 80%/100%/120% → 60/100/120；客户满意度 50%/80%/100%/120% → 0/60/100/120" in zh
    en = visible(statement_html(d, "en"))
    assert "销售额, 拜访客户数 80%/100%/120% → 60/100/120; 客户满意度 50%/80%/100%/120% → 0/60/100/120" in en
    # read with the printed curve: sales at 122.7 % is above the 120 % cap → 120 points, as printed
    assert "122.7%" in zh and "120.0" in zh
    assert "计分曲线" not in zh.replace("按计分曲线", "")  # one sentence, no separate heading
