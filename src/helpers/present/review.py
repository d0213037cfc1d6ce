"""The review in words: the numbers of :mod:`helpers.core.review` (comparisons,
findings, the improvement plan) in the report's language, the sentence of every
strength and weakness, the monthly-summary draft, and the tables a report shows.

The ``vertical_comparison`` … ``improvement_plan`` here are the core's functions with
their notes, names and reasons worded in ``language`` (same columns, plus ``text`` for
findings)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from helpers.core import review as core
from helpers.core.attainment import attainment_detail
from helpers.data.schema import SEGMENTS
from helpers.core.review import ADDITIVE_UNITS, SEGMENT_KPIS, FindingRule, _period, _targets
from helpers.core.targets import apportion
from helpers.errors import input_error
from helpers.kpis.indicators import Library
from helpers.kpis.measures import KPIS
from helpers.periods import ReviewPeriod
from helpers.present.display import SHOWN_DECIMALS, escape, fmt, shown, table
from helpers.present.i18n import LANGUAGES, join, t
from helpers.kpis.measures import kpi_name
from helpers.present.words import worded

__all__ = ["comparison_words", "vertical_comparison", "horizontal_comparison", "segment_breakdown", "assess",
           "strengths_weaknesses", "improvement_plan", "monthly_summary", "change_text", "vertical_table",
           "horizontal_table", "segment_table", "findings_markdown", "plan_table", "summary_markdown", "due_rule",
           "strengths_markdown", "feedback_table", "feedback"]


_WORDED = ("name", "note", "position_text", "segment_name", "reason", "action", "cause_text")
"""The columns of the core's review frames that hold phrases and names."""


def _worded(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    return worded(frame, _language(language), _WORDED)


def comparison_words(frame: pd.DataFrame, language: str = "zh") -> pd.DataFrame:
    """A comparison of :mod:`helpers.core.review` (:func:`~helpers.core.review.vertical_comparison`,
    :func:`~helpers.core.review.horizontal_comparison`) computed once for several uses, with
    its names, positions and notes in ``language``: as :func:`vertical_comparison` and
    :func:`horizontal_comparison` give it."""
    _language(language)
    return _worded(frame, language)


def vertical_comparison(actuals: pd.DataFrame, library: Library, period: ReviewPeriod | str, *,
                        indicators: Sequence[str] | None = None, managers: Sequence[str] | None = None,
                        language: str = "zh") -> pd.DataFrame:
    """:func:`helpers.core.review.vertical_comparison` with names and notes in ``language``."""
    _language(language)
    return _worded(core.vertical_comparison(actuals, library, period, indicators=indicators, managers=managers),
                   language)


def horizontal_comparison(actuals: pd.DataFrame, company: pd.DataFrame, library: Library,
                          period: ReviewPeriod | str, *, indicators: Sequence[str] | None = None,
                          managers: Sequence[str] | None = None,
                          fractions: Mapping[str, float] | pd.Series | None = None,
                          language: str = "zh") -> pd.DataFrame:
    """:func:`helpers.core.review.horizontal_comparison` with names, positions and notes in ``language``."""
    _language(language)
    return _worded(core.horizontal_comparison(actuals, company, library, period, indicators=indicators,
                                              managers=managers, fractions=fractions), language)


def segment_breakdown(actuals: pd.DataFrame, period: ReviewPeriod | str, *, managers: Sequence[str] | None = None,
                      kpis: Sequence[str] = SEGMENT_KPIS, language: str = "zh") -> pd.DataFrame:
    """:func:`helpers.core.review.segment_breakdown` with segment names and notes in ``language``."""
    _language(language)
    return _worded(core.segment_breakdown(actuals, period, managers=managers, kpis=kpis), language)


def assess(actuals: pd.DataFrame, company: pd.DataFrame, library: Library, period: ReviewPeriod | str, *,
           targets: pd.DataFrame | None = None, indicators: Sequence[str] | None = None,
           managers: Sequence[str] | None = None, fractions: Mapping[str, float] | pd.Series | None = None,
           rule: FindingRule = FindingRule(), language: str = "zh",
           comparisons: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> pd.DataFrame:
    """:func:`helpers.core.review.assess` in ``language``, plus ``text``: the sentence with the
    numbers of every strength and weakness (``comparisons``: the core's horizontal and
    vertical comparison for the same arguments, when already computed)."""
    _language(language)
    out = _worded(core.assess(actuals, company, library, period, targets=targets, indicators=indicators,
                              managers=managers, fractions=fractions, rule=rule, comparisons=comparisons), language)
    out["text"] = [_sentence(r, language) if r["status"] in ("strength", "weakness") else ""
                   for _, r in out.iterrows()]
    return out


def improvement_plan(findings: pd.DataFrame, period: ReviewPeriod | str, *,
                     owners: Mapping[str, str] | pd.Series | None = None, actuals: pd.DataFrame | None = None,
                     company: pd.DataFrame | None = None, tables: Mapping[str, pd.DataFrame] | None = None,
                     library: Library | None = None, language: str = "zh") -> pd.DataFrame:
    """:func:`helpers.core.review.improvement_plan` with the causes and actions in ``language``
    (the facts of the diagnosis are read from ``actuals``, ``company`` and ``tables``)."""
    _language(language)
    return _worded(core.improvement_plan(findings, period, owners=owners, actuals=actuals, company=company,
                                         tables=tables, library=library), language)


def due_rule(period: ReviewPeriod | str, language: str = "zh") -> str:
    """The one sentence that states how the plan's due dates are set (:data:`helpers.core.review.HORIZONS`)."""
    per = _period(period)
    d = core.due_dates(per)
    return t("review.due_rule", _language(language), end=per.end.date().isoformat(), quick=d["quick"],
             soon=d["soon"], mid=d["mid"], last=d["end"], next=t(f"review.summary.next.{per.freq}", language))


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise input_error("language", f"unknown language {language!r}", fix=f"use one of: {', '.join(LANGUAGES)}")
    return language


def _mag(diff: float, base: float, unit: str, language: str) -> str:
    """Size of a gap in words: percentage points, points, or % of the benchmark."""
    if unit == "ratio":
        return t("review.mag.pp", language, x=_pp(abs(diff) * 100, sign=False))
    if unit in ("points", "score"):
        return t("review.mag.pts", language, x=f"{abs(diff):.1f}")
    if base > 0:
        return f"{abs(diff) / base:.1%}"
    return fmt(abs(diff), unit, language)


def _pp(x: float, sign: bool = True) -> str:
    """Percentage points with one decimal, two when below 0.1 (market shares move little)."""
    d = 2 if 0 < abs(x) < 0.095 else 1
    return f"{x:+.{d}f}" if sign else f"{x:.{d}f}"


def change_text(change: float, change_pct: float, unit: str, language: str = "zh", words: bool = False) -> str:
    """A change as text: ``+1.3 个百分点`` / ``+1.3 pp`` for ratios (``change`` already in
    points), ``+2.0 分`` / ``+2.0 points`` for points and scores, ``+5.2%`` for money and
    counts (``+1,200`` when the relative change is undefined); NaN → "无数据" / "no data".
    ``words=True`` uses the wording of the sentences ("points" for pp in English)."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return t("report.no_data", language)
    if unit == "ratio" or unit == "pp":
        return t("review.mag.pp" if words else "review.fmt.pp", language, x=_pp(change))
    if unit in ("points", "score"):
        return t("review.mag.pts" if words else "review.fmt.pts", language, x=f"{change:+.1f}")
    if change_pct is not None and not (isinstance(change_pct, float) and math.isnan(change_pct)):
        return f"{change_pct:+.1%}"
    return f"{change:+,.0f}"


def _sentence(r: Mapping[str, Any], language: str) -> str:
    """One strength or weakness in words, with the numbers."""
    unit = r["unit"]
    v, b = shown(float(r["value"]), unit), shown(float(r["benchmark"]), unit)  # the gap of the numbers shown
    name = r["name"] + ("" if r["higher_is_better"] else t("review.sentence.lower_better", language))
    diff = round(v - b, SHOWN_DECIMALS.get(unit, 9))
    direction = "above" if diff > 0 else ("below" if diff < 0 else "equal")
    text = t(f"review.sentence.{direction}", language, name=name, value=fmt(v, unit, language),
             bench=t(f"review.bench.{r['benchmark_kind']}", language), bench_value=fmt(b, unit, language),
             gap=_mag(diff, b, unit, language))
    if r["benchmark_kind"] == "target" and r["higher_is_better"] and np.isfinite(r["attainment"]):
        text += t("review.sentence.attainment", language, att=f"{r['attainment']:.1%}")
    if r["basis"] == "quartile" and r["position"] in ("top_quartile", "bottom_quartile"):
        text += t(f"review.sentence.{r['position']}", language)
    if r["benchmark_kind"] == "company_median" and r["prorated"]:
        text += t("review.sentence.prorated", language, share=f"{r['fraction']:.0%}")
    if not math.isnan(r["change_yoy"]):
        text += t("review.sentence.yoy", language,
                  chg=change_text(r["change_yoy"], r["change_yoy_pct"], unit, language, words=True))
    return text + t("review.sentence.end", language)


def strengths_weaknesses(
    actuals: pd.DataFrame,
    company: pd.DataFrame,
    library: Library,
    period: ReviewPeriod | str,
    *,
    targets: pd.DataFrame | None = None,
    indicators: Sequence[str] | None = None,
    managers: Sequence[str] | None = None,
    fractions: Mapping[str, float] | pd.Series | None = None,
    rule: FindingRule = FindingRule(),
    language: str = "zh",
) -> pd.DataFrame:
    """Strengths and weaknesses per manager, each with a sentence with the numbers.

    :func:`assess` (the :class:`FindingRule`) then :func:`select_findings`.  Example
    sentences: "客户满意度 92.3%，高于公司中位数（84.2%）8.1 个百分点，处于公司前 25%。" /
    "Customer satisfaction (CSAT) 92.3%, 8.1 points above the company median (84.2%), in
    the company's top quartile."  A lower complaint rate is a strength.
    """
    a = assess(actuals, company, library, period, targets=targets, indicators=indicators, managers=managers,
               fractions=fractions, rule=rule, language=language)
    return core.select_findings(a, rule.max_items)


def _gap_text(gap: float, gap_pct: float, unit: str, language: str) -> str:
    if unit == "ratio":
        return t("review.fmt.pp", language, x=_pp(gap, sign=False))
    if unit in ("points", "score"):
        return t("review.fmt.pts", language, x=f"{gap:.1f}")
    base = fmt(gap, unit, language)
    return base if math.isnan(gap_pct) else f"{base} ({gap_pct:.1%})"


def _kpi(index: Mapping[tuple[str, str, str, str], Any], manager: str, label: str, kpi: str,
         segment: str = "all") -> float:
    value = index.get((manager, str(label), kpi, segment))
    return float("nan") if value is None else float(value)


def _rel_change(v: float, base: float) -> float:
    return (v - base) / base if base > 0 and not math.isnan(v) else float("nan")


def _chg(v: float, base: float, unit: str, language: str) -> str:
    """Change text of v against base (NaN-safe)."""
    if math.isnan(v) or math.isnan(base):
        return t("report.no_data", language)
    d = (v - base) * (100 if unit == "ratio" else 1)
    return change_text(d, _rel_change(v, base) if unit in ADDITIVE_UNITS else float("nan"), unit, language)


def _num(v: float, unit: str, language: str) -> str:
    return t("report.no_data", language) if math.isnan(v) else fmt(v, unit, language)


@dataclass
class _Parts:
    """Everything the summary of one manager needs (computed once per team)."""

    period: ReviewPeriod
    language: str
    library: Library
    actuals: pd.DataFrame
    company: pd.DataFrame
    managers: list[str]
    horizontal: pd.DataFrame
    findings: pd.DataFrame
    plan: pd.DataFrame
    products: pd.DataFrame | None
    targets: pd.DataFrame
    fractions: pd.Series

    @cached_property
    def kpi_index(self) -> dict[tuple[str, str, str, str], Any]:
        return core.kpi_index(self.actuals)

    @cached_property
    def sales_segments(self) -> set[str]:
        """The segments with sales rows in the period (an export without segments has none)."""
        a = self.actuals
        return set(a.loc[(a["kpi"] == "sales") & (a["period"] == self.period.label), "segment"])


def _summary(parts: _Parts, manager_id: str, name: str, top_lines: int, placeholder_growth: float,
             heading_level: int | None, findings: bool = True) -> str:
    p, lang, a = parts.period, parts.language, parts.kpi_index
    cur, prev, yoy = p.label, p.previous().label, p.year_ago().label
    unit_word = t(f"review.summary.unit.{p.freq}", lang)

    def head(key: str) -> str:
        text = t(key, lang)
        return f"{'#' * heading_level} {text}" if heading_level else f"**{text}**"

    title = t(f"review.summary.title.{p.freq}", lang, name=escape(name), id=escape(manager_id), period=cur)
    lines: list[str] = [f"{'#' * heading_level} {title}" if heading_level else f"**{title}**", "",
                        f"*{t('review.summary.draft_note', lang)}*", ""]
    f = parts.findings[parts.findings["manager_id"] == manager_id]
    strengths = f[f["kind"] == "strength"]
    if not findings:  # shown once, above the draft (the report's feedback block)
        if len(strengths):
            lines.append(t("review.summary.see_highlights", lang))
    elif len(strengths):
        items = ("" if lang == "zh" else " ").join(escape(x) for x in strengths["text"])
        lines.append(t("review.summary.highlights", lang, items=items))
    else:
        lines.append(t("review.summary.no_highlights", lang))
    lines.append("")

    # 一、片区销售情况分析 — sales with both comparisons, target, peers, profit
    lines += [head("review.summary.s1"), ""]
    s, sp, sy = (_kpi(a, manager_id, lab, "sales") for lab in (cur, prev, yoy))
    lines.append("- " + t("review.summary.sales", lang, value=_num(s, "currency", lang),
                          prev_chg=_chg(s, sp, "currency", lang), prev=_num(sp, "currency", lang),
                          yoy_chg=_chg(s, sy, "currency", lang), yoy=_num(sy, "currency", lang), unit=unit_word))
    tg = parts.targets
    st = tg[(tg["manager_id"] == manager_id) & (tg["indicator"] == "sales") & (tg["period"] == cur)]
    if len(st):
        att, _ = attainment_detail(s, float(st["target"].iloc[0]), True)
        lines.append("- " + t("review.summary.sales_target", lang, target=fmt(float(st["target"].iloc[0]),
                              "currency", lang), att=_num(att, "ratio", lang)))
    hz = parts.horizontal
    hs = hz[(hz["manager_id"] == manager_id) & (hz["indicator"] == "sales")]
    if len(hs):
        r = hs.iloc[0]
        pos = r["position_text"] or t("report.no_data", lang)
        note = t("review.sentence.prorated", lang, share=f"{r['fraction']:.0%}") if r["prorated"] else ""
        lines.append("- " + t("review.summary.sales_peers", lang, team=_num(r["team_mean"], "currency", lang),
                              median=_num(r["company_median"], "currency", lang), position=pos, note=note))
    pr = _kpi(a, manager_id, cur, "profit")
    mg, mgp, mgy = (_kpi(a, manager_id, lab, "margin") for lab in (cur, prev, yoy))
    if not (math.isnan(pr) and math.isnan(mg)):
        lines.append("- " + t("review.summary.profit", lang, profit=_num(pr, "currency", lang),
                              margin=_num(mg, "ratio", lang), prev_chg=_chg(mg, mgp, "ratio", lang),
                              yoy_chg=_chg(mg, mgy, "ratio", lang), unit=unit_word))
    lines.append("")

    # 二、重点品牌分析 — top product lines and their change
    lines += [head("review.summary.s2"), ""]
    if parts.products is None:
        lines.append("- " + t("review.summary.no_order_data", lang))
    else:
        pl = parts.products[(parts.products["manager_id"] == manager_id) & (parts.products["sales"] > 0)]
        if pl.empty:
            lines.append("- " + t("review.summary.no_orders", lang))
        for r in pl.head(top_lines).itertuples(index=False):
            lines.append("- " + t("review.summary.line", lang, line=escape(r.product_line),
                                  sales=fmt(r.sales, "currency", lang), share=_num(r.share, "ratio", lang),
                                  prev_chg=_chg(r.sales, r.previous, "currency", lang),
                                  yoy_chg=_chg(r.sales, r.year_ago, "currency", lang), unit=unit_word))
        rest = pl.iloc[top_lines:]
        if len(rest):
            key = "review.summary.other_lines" if len(rest) > 1 else "review.summary.other_line"
            lines.append("- " + t(key, lang, n=len(rest),
                                  sales=fmt(float(rest["sales"].sum()), "currency", lang),
                                  share=_num(float(rest["share"].sum()), "ratio", lang)))
    lines += [f"*{t('review.summary.lines_prompt', lang)}*", ""]

    # 三、市场及客户分析 — new/lost customers, segment mix, market share, service
    lines += [head("review.summary.s3"), ""]
    new, lost, start = (_kpi(a, manager_id, cur, k) for k in ("new_customers", "lost_customers", "customers_start"))
    ret, rety = _kpi(a, manager_id, cur, "retention_rate"), _kpi(a, manager_id, yoy, "retention_rate")
    if not (math.isnan(new) and math.isnan(lost)):
        lines.append("- " + t("review.summary.customers", lang, new=_num(new, "count", lang),
                              lost=_num(lost, "count", lang), start=_num(start, "count", lang),
                              retention=_num(ret, "ratio", lang), yoy_chg=_chg(ret, rety, "ratio", lang)))
    have = parts.sales_segments
    if not math.isnan(s) and s > 0 and have & set(SEGMENTS):
        items = []
        for seg in [x for x in SEGMENTS if x in have]:
            v = _kpi(a, manager_id, cur, "sales", seg)
            v = 0.0 if math.isnan(v) else v
            items.append(t("review.summary.mix_item", lang, segment=t(f"segment.{seg}", lang),
                           sales=fmt(v, "currency", lang), share=fmt(v / s, "ratio", lang)))
        lines.append("- " + t("review.summary.mix", lang, items=join(items, lang)))
    ms, msp, msy = (_kpi(a, manager_id, lab, "market_share") for lab in (cur, prev, yoy))
    if not math.isnan(ms):
        lines.append("- " + t("review.summary.market", lang, share=f"{ms:.2%}", prev_chg=_chg(ms, msp, "ratio", lang),
                              yoy_chg=_chg(ms, msy, "ratio", lang), unit=unit_word))
    cs, cr = _kpi(a, manager_id, cur, "csat"), _kpi(a, manager_id, cur, "complaint_rate")
    if not (math.isnan(cs) and math.isnan(cr)):
        lines.append("- " + t("review.summary.service", lang, csat=_num(cs, "ratio", lang),
                              complaints=_num(cr, "ratio", lang)))
    lines.append("")

    # 四、存在问题和建议 — the weaknesses with their numbers and a suggestion each
    lines += [head("review.summary.s4"), ""]
    weak = f[f["kind"] == "weakness"]
    plan = parts.plan[parts.plan["manager_id"] == manager_id]
    actions = dict(zip(plan["indicator"], plan["action"]))
    if weak.empty:
        lines.append("- " + t("review.summary.no_problems", lang))
    elif not findings:
        lines.append("- " + t("review.summary.see_plan", lang, n=len(weak)))
    for r in (weak.itertuples(index=False) if findings else ()):
        lines.append("- " + t("review.summary.problem", lang, problem=escape(r.text),
                              action=escape(actions[r.indicator])))
    lines += [f"*{t('review.summary.problems_prompt', lang)}*", ""]

    # 五、下月工作计划 — next period's targets decomposed by segment, or a stated placeholder
    lines += [head(f"review.summary.s5.{p.freq}"), ""]
    nxt = p.shift(1).label
    mine = tg[(tg["manager_id"] == manager_id) & (tg["period"] == nxt)]
    if mine.empty:
        lines.append("- " + t("review.summary.no_targets", lang, next=t(f"review.summary.next.{p.freq}", lang)))
        for ind in ("sales", "new_customers"):
            if ind not in parts.library or parts.library[ind].kpi is None:
                continue
            base = _kpi(a, manager_id, cur, parts.library[ind].kpi, parts.library[ind].segment)
            if math.isnan(base) or base <= 0:  # growth on nothing is no plan
                continue
            unit = parts.library[ind].unit
            value = base * (1 + placeholder_growth)
            value = math.ceil(value - 1e-9) if unit == "count" else round(value)  # a count target rounds up
            lines.append("- " + t("review.summary.placeholder", lang, name=escape(parts.library.name(ind, lang)),
                                  base=fmt(base, unit, lang), growth=f"{placeholder_growth:.0%}",
                                  value=fmt(value, unit, lang)))
    for r in mine.itertuples(index=False):
        ind = parts.library[r.indicator]
        nm, unit = escape(parts.library.name(r.indicator, lang)), ind.unit
        split = None
        if unit in ADDITIVE_UNITS and ind.segment == "all" and ind.kpi is not None and r.target >= 0:
            w = pd.Series({seg: _kpi(a, manager_id, cur, ind.kpi, seg) for seg in SEGMENTS}).fillna(0.0)
            if (w >= 0).all() and w.sum() > 0:
                whole = float(r.target).is_integer()
                split = apportion(int(r.target) if whole else float(r.target), w, integer=whole,
                                  source="targets")
        if split is None:
            lines.append("- " + t("review.summary.target_line", lang, name=nm, target=fmt(r.target, unit, lang)))
        else:
            items = ("、" if lang == "zh" else ", ").join(
                t("review.summary.split_item", lang, segment=t(f"segment.{seg}", lang), value=fmt(float(v), unit, lang))
                for seg, v in split.items())
            lines.append("- " + t("review.summary.target_split", lang, name=nm, target=fmt(r.target, unit, lang),
                                  items=items))
    if not findings and len(plan):
        lines.append("- " + t("review.summary.actions_ref", lang, n=len(plan)))
    for r in (plan.itertuples(index=False) if findings else ()):
        lines.append("- " + t("review.summary.action", lang, name=escape(r.name), action=escape(r.action), due=r.due))
    return "\n".join(lines).rstrip() + "\n"


def _parts(actuals: pd.DataFrame, company: pd.DataFrame, library: Library, period: ReviewPeriod | str, *,
           orders: pd.DataFrame | None, targets: pd.DataFrame | None, managers: Sequence[str] | None,
           fractions: Mapping[str, float] | pd.Series | None, indicators: Sequence[str] | None,
           owners: Mapping[str, str] | None, rule: FindingRule, language: str) -> _Parts:
    language = _language(language)
    per = _period(period)
    core._check_actuals(actuals, per)
    mgrs = core._managers(actuals, per, managers)
    kw = dict(indicators=indicators, managers=mgrs, fractions=fractions, language=language)
    hz = horizontal_comparison(actuals, company, library, per, **kw)
    findings = strengths_weaknesses(actuals, company, library, per, targets=targets, rule=rule, **kw)
    plan = improvement_plan(findings, per, owners=owners, actuals=actuals, company=company,
                            tables=None if orders is None else {"orders": orders}, library=library, language=language)
    products = None if orders is None else core.product_lines(orders, per, managers=mgrs)
    return _Parts(per, language, library, actuals, company, mgrs, hz, findings, plan, products,
                  _targets(targets, library), core._fractions(fractions, mgrs))


def monthly_summary(
    manager_id: str,
    actuals: pd.DataFrame,
    company: pd.DataFrame,
    library: Library,
    period: ReviewPeriod | str,
    *,
    orders: pd.DataFrame | None = None,
    targets: pd.DataFrame | None = None,
    name: str | None = None,
    managers: Sequence[str] | None = None,
    fractions: Mapping[str, float] | pd.Series | None = None,
    indicators: Sequence[str] | None = None,
    rule: FindingRule = FindingRule(),
    language: str = "zh",
    top_lines: int = 3,
    placeholder_growth: float = 0.05,
    heading_level: int | None = None,
) -> str:
    """Draft of a manager's monthly (or quarterly) work summary, as Markdown.

    The structure the seed article recommends (客户经理如何提高月度总结的质量, 004):

    0. highlights — the strengths of :func:`strengths_weaknesses` (总体评价);
    1. 片区销售情况分析 — sales this period, change on the previous period (环比) and on the
       same period last year (同比), target attainment when a sales target is given,
       team average, company median and position (横向), profit and margin;
    2. 重点品牌分析 — the ``top_lines`` product lines by sales (:func:`product_lines`) with
       their share and change, the rest summed; a prompt for customer feedback;
    3. 市场及客户分析 — new / lost customers, customers at the start, retention (同比), sales
       by segment (mix), market share with its change, CSAT and complaint rate;
    4. 存在问题和建议 — every weakness with its numbers and a suggested action;
    5. 下月工作计划 (下季度 for a quarter) — the targets of the next period for the manager
       (``targets`` rows with the next period's label); money and count targets of
       all-segment indicators are decomposed by segment in proportion to this period's
       values (:func:`helpers.core.targets.apportion`, largest remainder for whole numbers).
       Without targets: a placeholder of this period's sales and new customers plus
       ``placeholder_growth`` (counts rounded up, money to whole units), stated as a
       placeholder, not a target; then the
       improvement actions with their due dates.

    Numbers missing in the data read "无数据" / "no data".  User strings (names, product
    lines) are HTML-escaped.  ``heading_level`` None writes section titles in bold,
    a number writes Markdown headings of that level.  ``managers`` is the team
    (for the team average; default: everyone in ``actuals`` in the period).
    """
    parts = _parts(actuals, company, library, period, orders=orders, targets=targets, managers=managers,
                   fractions=fractions, indicators=indicators, owners=None, rule=rule, language=language)
    if str(manager_id) not in parts.managers:
        raise input_error("manager_id", f"manager {manager_id!r} is not among the managers reviewed",
                          fix=f"use one of: {', '.join(parts.managers)}")
    return _summary(parts, str(manager_id), name or str(manager_id), top_lines, placeholder_growth, heading_level)


def _rows(df: pd.DataFrame, manager_id: str) -> pd.DataFrame:
    return df[df["manager_id"] == manager_id]


def vertical_table(rv: Any, manager_id: str) -> Styler:
    """One manager's 纵向 table: this period, previous, change, year ago, change, note."""
    lang, p = rv.language, rv.period
    d = _rows(rv.vertical, manager_id)
    df = pd.DataFrame({
        rv.t("review.col.indicator"): d["name"],
        rv.t("review.col.current", period=p.label): [_num(v, u, lang) for v, u in zip(d["value"], d["unit"])],
        rv.t("review.col.previous", period=p.previous().label): [_num(v, u, lang) for v, u in zip(d["previous"], d["unit"])],
        rv.t("review.col.change_prev"): [change_text(c, q, u, lang) for c, q, u in
                                         zip(d["change_prev"], d["change_prev_pct"], d["unit"])],
        rv.t("review.col.year_ago", period=p.year_ago().label): [_num(v, u, lang) for v, u in zip(d["year_ago"], d["unit"])],
        rv.t("review.col.change_yoy"): [change_text(c, q, u, lang) for c, q, u in
                                        zip(d["change_yoy"], d["change_yoy_pct"], d["unit"])],
        t("col.note", lang): d["note"],
    })
    return table(df.reset_index(drop=True), None, lang)


def horizontal_table(rv: Any, manager_id: str) -> Styler:
    """One manager's 横向 table: value, team average, company median, rank and position."""
    lang = rv.language
    d = _rows(rv.horizontal, manager_id)
    df = pd.DataFrame({
        rv.t("review.col.indicator"): d["name"],
        rv.t("review.col.value"): [_num(v, u, lang) for v, u in zip(d["value"], d["unit"])],
        rv.t("review.col.team_mean"): [_num(v, u, lang) for v, u in zip(d["team_mean"], d["unit"])],
        rv.t("review.col.vs_team"): [change_text(c, q, u, lang) for c, q, u in zip(d["vs_team"], d["vs_team_pct"], d["unit"])],
        rv.t("review.col.company_median"): [_num(v, u, lang) for v, u in zip(d["company_median"], d["unit"])],
        rv.t("review.col.vs_median"): [change_text(c, q, u, lang) for c, q, u in
                                       zip(d["vs_median"], d["vs_median_pct"], d["unit"])],
        rv.t("review.col.team_rank"): [rv.t("review.rank_of", rank=int(r), n=int(n)) if not math.isnan(r) else
                                       t("report.no_data", lang) for r, n in zip(d["team_rank"], d["team_size"])],
        rv.t("review.col.position"): d["position_text"],
        t("col.note", lang): d["note"],
    })
    return table(df.reset_index(drop=True), None, lang)


def segment_table(rv: Any, manager_id: str) -> Styler:
    """One manager's KPIs by customer segment."""
    lang = rv.language
    d = _rows(rv.segments, manager_id)
    kpis = [c for c in d.columns if c in KPIS]
    df = pd.DataFrame({t("col.segment", lang): d["segment_name"]})
    units = {}
    for k in kpis:
        col = kpi_name(k, lang)
        df[col] = d[k].to_numpy()
        units[col] = KPIS[k].unit
    if "sales_share" in d.columns:
        df[rv.t("review.col.sales_share")] = d["sales_share"].to_numpy()
        units[rv.t("review.col.sales_share")] = "ratio"
    return table(df.reset_index(drop=True), units, lang)


def findings_markdown(rv: Any, manager_id: str) -> Markdown:
    """One manager's strengths and weaknesses as two Markdown lists (escaped)."""
    f = _rows(rv.findings, manager_id)
    if f.empty:
        return Markdown(rv.t("review.none_found"))
    out = []
    for kind, key in (("strength", "review.strengths"), ("weakness", "review.weaknesses")):
        sel = f[f["kind"] == kind]
        out.append(f"**{rv.t(key)}**\n")
        out += [f"- {escape(x)}" for x in sel["text"]] or [f"- {rv.t('review.none')}"]
        out.append("")
    return Markdown("\n".join(out))


def plan_table(rv: Any, manager_id: str) -> Styler | Markdown:
    """One manager's improvement plan: indicator, actual, benchmark, gap, action, owner, due."""
    lang = rv.language
    d = _rows(rv.plan, manager_id)
    if d.empty:
        return Markdown(rv.t("review.summary.no_problems"))
    df = pd.DataFrame({
        rv.t("review.col.indicator"): d["name"],
        rv.t("review.col.value"): [_num(v, u, lang) for v, u in zip(d["value"], d["unit"])],
        rv.t("review.col.benchmark"): [f"{_num(v, u, lang)} ({rv.t('review.bench.' + k)})"
                                       for v, u, k in zip(d["benchmark"], d["unit"], d["benchmark_kind"])],
        rv.t("review.col.gap"): [_gap_text(g, q, u, lang) for g, q, u in zip(d["gap"], d["gap_pct"], d["unit"])],
        rv.t("review.col.action"): d["action"],
        rv.t("review.col.owner"): d["owner"],
        rv.t("review.col.due"): d["due"],
    })
    return table(df.reset_index(drop=True), None, lang)


def summary_markdown(rv: Any, manager_id: str, heading_level: int | None = None, findings: bool = True) -> Markdown:
    """One manager's monthly-summary draft, ready to display (``findings=False``: the
    strengths, weaknesses and actions are referred to, not repeated — the report shows
    them once in :func:`feedback`)."""
    return Markdown(rv.summary(manager_id, heading_level=heading_level, findings=findings))


def strengths_markdown(rv: Any, manager_id: str) -> Markdown:
    """One manager's strengths as one paragraph of sentences with the numbers (escaped)."""
    f = _rows(rv.findings, manager_id)
    s = f[f["kind"] == "strength"]
    if s.empty:
        return Markdown(rv.t("review.no_strengths"))
    return Markdown(rv.t("review.strengths_line", items=("" if rv.language == "zh" else " ").join(
        escape(x) for x in s["text"])))


def feedback_table(rv: Any, manager_id: str) -> Styler | Markdown:
    """One manager's improvement plan, each weakness once: the weakness with its numbers
    (value, benchmark, gap), the cause the data shows, the action with the manager's own
    numbers, and the due date."""
    lang = rv.language
    d = _rows(rv.plan, manager_id)
    if d.empty:
        return Markdown(rv.t("review.summary.no_problems"))
    text = _rows(rv.findings, manager_id).set_index("indicator")["text"]
    df = pd.DataFrame({
        rv.t("review.col.finding"): [text.get(i, n) for i, n in zip(d["indicator"], d["name"])],
        rv.t("review.col.cause"): d["cause_text"],
        rv.t("review.col.action"): d["action"],
        rv.t("review.col.due"): d["due"],
    })
    sty = table(df.reset_index(drop=True), None, lang)
    sty = sty.set_properties(subset=list(df.columns[:3]), **{"white-space": "normal", "min-width": "14em"})
    # a date never breaks at its hyphens ("2026-/11-15") in a narrow printed column
    return sty.set_table_styles({df.columns[3]: [{"selector": "td", "props": "white-space: nowrap"}]}, overwrite=False)


def feedback(rv: Any, manager_id: str) -> None:
    """The review's feedback for one manager, every finding once: the strengths, then the
    improvement plan whose rows are the weaknesses (:func:`feedback_table`), then the
    rule of the due dates."""
    from IPython.display import display

    display(strengths_markdown(rv, manager_id))
    display(feedback_table(rv, manager_id))
    if len(_rows(rv.plan, manager_id)):
        display(Markdown(f"*{escape(due_rule(rv.period, rv.language))}*"))
