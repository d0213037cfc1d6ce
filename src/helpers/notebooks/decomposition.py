"""Notebook 02 (strategy → KPI decomposition): the texts, tables and charts it shows.

All wrangling for the notebook lives here so the notebook reads like a report.  The
model (strategy files, KPI tree, validation, scoring for the rank comparison) is in
:mod:`helpers.core.strategy`; the indicator checks are in :mod:`helpers.kpis.indicators`.

Rank comparison: every manager active in the company in the period is scored under
this team's tree of each strategy (so ranks compare like with like); the report shows
only this team's managers, by name, with their rank among all managers.
"""

from __future__ import annotations

import dataclasses
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from helpers.present.words import render, worded
from helpers.present.checks import availability_reasons, smart_reasons
from helpers.present.display import escape, fmt, percent, table
from helpers.present.i18n import t
from helpers.kpis.indicators import (
    SMART_ATTRIBUTES,
    Library,
    data_availability,
    indicator_values,
    load_library,
    smart_frame,
    text_in,
)
from helpers.plan.params import resolve
from helpers.core.strategy import (
    KpiTree,
    Strategy,
    for_manager,
    pillar_split,
    scheme_tree,
    rank_shift,
    weight_changes,
)
from helpers.context.scores import company_scores, share_scores
from helpers.context.strategy import check_strategies, load_strategy
from helpers.context.workbook import TeamContext, company_actuals

REVIEW = {"Q": "quarter", "M": "month"}
PILLAR_COLOURS = {"hard": ("#deebf7", "#0072b2"), "soft": ("#fdebd0", "#e69f00")}
NO_DATA = ("#f2f2f2", "#b00020")


@dataclass
class Decomposition:
    """Everything notebook 02 shows for one team (built by :func:`prepare`)."""

    ctx: TeamContext
    library: Library
    strategy: Strategy
    alternative: Strategy | None
    tree: KpiTree  # this team's tree of the current strategy
    alt_tree: KpiTree | None
    values: pd.DataFrame  # all managers of the company × indicators of both trees, review period
    review: str  # month | quarter

    @property
    def language(self) -> str:
        return self.ctx.language

    def t(self, key: str, **kw) -> str:
        return self.ctx.t(key, **kw)

    def name(self, indicator: str) -> str:
        return self.library.name(indicator, self.language)



def prepare(ctx: TeamContext, params_file: str | Path, workspace: str | Path = "") -> Decomposition:
    """Load the library and both strategies, resolve this team's trees, collect values."""
    p = ctx.params
    library = load_library(resolve(params_file, p.indicators))
    strategy = load_strategy(resolve(params_file, p.strategy), library, p.strategy)
    alternative = (load_strategy(resolve(params_file, p.alternative_strategy), library, p.alternative_strategy)
                   if p.alternative_strategy else None)
    tree = named(strategy.tree(region=ctx.region, team=ctx.team_id))
    alt_tree = named(alternative.tree(region=ctx.region, team=ctx.team_id)) if alternative else None
    ids = list(dict.fromkeys([*tree.weights().index, *(alt_tree.weights().index if alt_tree else [])]))
    values = indicator_values(company_actuals(ctx, params_file, workspace), library, ctx.period.label, ids)
    return Decomposition(ctx, library, strategy, alternative, tree, alt_tree, values, REVIEW[ctx.period.freq])


# ----------------------------------------------------------------------------- the plan in force


def paid_weights(d: Decomposition, params_file: str | Path | None = None, workspace: str | Path | None = None
                 ) -> pd.DataFrame:
    """Each indicator's share of the total score in the tree shown and in the plan the
    quarterly review pays on (the scoring plan's split × the weight scheme in force; each
    soft rating (1 − split) ÷ their number).  Columns: indicator, tree, paid, difference."""
    cs = company_scores(d.ctx, params_file or d.ctx.params_file, workspace if workspace is not None
                        else (d.ctx.workspace or ""), roster=None if d.ctx.team_id else d.ctx.roster)
    paid = (cs.weights * cs.plan.split).to_dict()
    for i in cs.soft_ids:
        paid[i] = paid.get(i, 0.0) + (1 - cs.plan.split) / len(cs.soft_ids)
    tree = d.tree.weights().to_dict()
    ids = list(dict.fromkeys([*tree, *paid]))
    out = pd.DataFrame({"indicator": ids, "tree": [tree.get(i, 0.0) for i in ids],
                        "paid": [paid.get(i, 0.0) for i in ids]})
    out["difference"] = out["tree"] - out["paid"]
    out.attrs["scheme"] = cs.scheme_name
    out.attrs["split"] = float(cs.plan.split)
    return out


def plan_in_force_text(d: Decomposition, params_file: str | Path | None = None,
                       workspace: str | Path | None = None) -> Markdown:
    """Markdown: which plan pays, and whether the tree shown is that plan (computed)."""
    pw = paid_weights(d, params_file, workspace)
    lang = d.language
    differ = pw[pw["difference"].abs() > 0.0005]
    scheme = render(pw.attrs["scheme"], lang) if pw.attrs["scheme"] is not None else d.ctx.params.weight_scheme
    key = "kd.plan.same" if differ.empty else "kd.plan.differs"
    return Markdown(d.t(key, strategy=escape(render(d.strategy.label, lang)), scheme=escape(scheme),
                        hard=percent(pw.attrs["split"]), soft=percent(1 - pw.attrs["split"]), n=len(differ)))


def plan_in_force_table(d: Decomposition, params_file: str | Path | None = None,
                        workspace: str | Path | None = None) -> Styler:
    """Indicator by indicator: share of the total score in the tree shown and in the plan
    that pays (the quarterly review), largest gap first."""
    pw = paid_weights(d, params_file, workspace)
    pw = pw.reindex(pw["difference"].abs().sort_values(ascending=False, kind="stable").index)
    df = pd.DataFrame({d.t("col.kpi"): [d.name(i) for i in pw["indicator"]],
                       d.t("kd.plan.col.tree"): pw["tree"].to_numpy(), d.t("kd.plan.col.paid"): pw["paid"].to_numpy(),
                       d.t("kd.plan.col.diff"): (pw["difference"] * 100).to_numpy()})
    units = {d.t("kd.plan.col.tree"): "ratio", d.t("kd.plan.col.paid"): "ratio", d.t("kd.plan.col.diff"): "points"}
    return table(df, units, d.language)


# ----------------------------------------------------------------------------- strategy in words


def strategy_text(d: Decomposition) -> Markdown:
    """The strategy, its split and its objectives in plain words (names escaped)."""
    lang, s, tree = d.language, d.strategy, d.tree
    split = pillar_split(tree)
    lines = [
        d.t("kd.strategy_head", name=escape(render(s.label, lang))),
        "",
        escape(render(s.summary, lang)),
        "",
        d.t("kd.split", hard=percent(split["hard"]), soft=percent(split["soft"])),
        "",
        d.t("kd.objectives_head"),
        "",
    ]
    n = tree.nodes
    for k, r in enumerate(n[n["kind"] == "objective"].itertuples(), start=1):
        obj = s.objective(r.id)
        why = text_in(obj.why, lang)
        indent = "    " * (r.depth - 2)
        lines.append(indent + d.t("kd.objective_line", k=k, name=escape(r.zh if lang == "zh" else r.en),
                                  pillar=d.t(f"pillar.{r.pillar}"), weight=percent(r.weight, 1),
                                  why=escape(why)))
    lines.append("")
    if tree.applied:
        notes = []
        for label in tree.applied:
            level, name = label.split(" ", 1)
            table_ = s.spec.overrides.regions if level == "region" else s.spec.overrides.teams
            note = text_in(table_[name].note, lang)
            notes.append(d.t(f"kd.override_{level}", name=escape(name), note=escape(note)))
        lines.append(" ".join(notes))
    else:
        lines.append(d.t("kd.no_override"))
    return Markdown("\n".join(lines))


# ----------------------------------------------------------------------------- tree diagram


def _wrap(text: str, language: str, width_zh: int = 9, width_en: int = 22) -> str:
    return "\n".join(textwrap.wrap(text, width_zh if language == "zh" else width_en)) or text


def named(tree: KpiTree) -> KpiTree:
    """``tree`` with its pillars named in both languages from the catalog (the core
    leaves them unnamed: fixed texts live in the catalog only)."""
    nodes = tree.nodes.copy()
    pillar = nodes["kind"] == "pillar"
    nodes.loc[pillar, "zh"] = [t(f"pillar.{n}", "zh") for n in nodes.loc[pillar, "id"]]
    nodes.loc[pillar, "en"] = [t(f"pillar.{n}", "en") for n in nodes.loc[pillar, "id"]]
    return dataclasses.replace(tree, nodes=nodes)


def tree_layout(tree: KpiTree) -> pd.DataFrame:
    """Positions for the tree diagram: leaves one per row, parents centred on children.

    Returns the drawn nodes with ``col`` (root 0, pillars 1, objectives by depth,
    indicators in the last column) and ``row`` (leaves 0, 1, 2, ... top to bottom).
    Pillars with weight 0 and nothing below them are left out.
    """
    n = tree.nodes.copy()
    empty = (n["kind"] == "pillar") & (n["weight"] == 0) & ~n["id"].isin(n["parent"])
    n = n[~empty].reset_index(drop=True)
    last = int(n.loc[n["kind"] != "indicator", "depth"].max()) + 1
    n["col"] = np.where(n["kind"] == "indicator", last, n["depth"])
    rows: dict[str, float] = {}
    leaf = 0
    for r in n.itertuples():
        if r.kind == "indicator":
            rows[r.id] = float(leaf)
            leaf += 1
    for r in reversed(list(n.itertuples())):
        if r.id not in rows:
            kids = [rows[c] for c in n.loc[n["parent"] == r.id, "id"] if c in rows]
            rows[r.id] = float(np.mean([min(kids), max(kids)])) if kids else float(leaf)
    n["row"] = n["id"].map(rows)
    return n


def plan_tree_chart(d: Decomposition, params_file: str | Path | None = None,
                    workspace: str | Path | None = None) -> None:
    """The plan the quarterly review pays on, drawn as a KPI tree (scheme → pillars →
    indicators, each box with its share of the total score)."""
    cs = company_scores(d.ctx, params_file or d.ctx.params_file, workspace if workspace is not None
                        else (d.ctx.workspace or ""), roster=None if d.ctx.team_id else d.ctx.roster)
    tree = named(scheme_tree(d.strategy, cs.weights, float(cs.plan.split), cs.soft_ids, cs.scheme_name))
    tree_chart(d, tree, d.t("kd.plan_tree_title", name=render(cs.scheme_name, d.language)))


def tree_chart(d: Decomposition, tree: KpiTree | None = None, title: str | None = None) -> None:
    """The KPI tree, left to right: strategy → pillars → objectives → indicators.

    Boxes show the node's share of its parent and, for objectives and indicators,
    the global weight (product down the path).  Indicators that cannot be computed
    from the data are grey with a red dashed border.
    """
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    lang = d.language
    tree = tree if tree is not None else d.tree
    lay = tree_layout(tree)
    avail = _availability(d).set_index("indicator")["status"]
    cols = int(lay["col"].max())
    x_of = {0: 0.0, 1: 0.13}
    for c in range(2, cols):
        x_of[c] = 0.27 + 0.19 * (c - 2)
    x_of[cols] = x_of[cols - 1] + (0.21 if cols > 2 else 0.14)
    n_leaves = int((lay["kind"] == "indicator").sum())
    fig, ax = plt.subplots(figsize=(12, 0.44 * n_leaves + 1.2))
    ax.set_xlim(0, 1)
    ax.set_ylim(n_leaves - 0.4, -0.6)
    ax.axis("off")
    texts = {}
    for r in lay.itertuples():
        name = r.zh if lang == "zh" else r.en
        if r.kind == "strategy":
            label, fc, ec, colour, weight_ = _wrap(name, lang, 6, 12), "#1f2933", "#1f2933", "white", "bold"
        elif r.kind == "pillar":
            label = f"{_wrap(name, lang, 6, 12)}\n{percent(r.local)}"
            (fc, ec), colour, weight_ = PILLAR_COLOURS[r.id], "black", "bold"
        elif r.kind == "objective":
            label = f"{_wrap(name, lang)}\n{d.t('kd.box_weights', local=percent(r.local), glob=percent(r.weight, 1))}"
            (fc, ec), colour, weight_ = PILLAR_COLOURS[r.pillar], "black", "normal"
        else:
            label = f"{name}   {d.t('kd.box_weights', local=percent(r.local), glob=percent(r.weight, 1))}"
            fc, ec = "white", PILLAR_COLOURS[r.pillar][1]
            colour, weight_ = "black", "normal"
            if avail.get(r.id, "ok") in ("missing", "external"):
                label += f"  {d.t('kd.box_no_data')}"
                fc, ec = NO_DATA
        style = "--" if r.kind == "indicator" and fc == NO_DATA[0] else "-"
        texts[r.id] = ax.text(x_of[r.col], r.row, label, ha="left", va="center", fontsize=9.5, color=colour,
                              fontweight=weight_, linespacing=1.25,
                              bbox=dict(boxstyle="round,pad=0.35", fc=fc, ec=ec, lw=1.2, ls=style))
    # the boxes' sizes come from their text: laid out as a draw would, without painting
    # any pixel (the chart is painted once, when it is shown)
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    inv = ax.transData.inverted()
    box = {k: inv.transform(tx.get_bbox_patch().get_window_extent(renderer)) for k, tx in texts.items()}
    for parent, kids in lay.groupby("parent", sort=False):
        px1 = box[parent][1][0]
        py = lay.loc[lay["id"] == parent, "row"].iloc[0]
        cx0 = min(box[k][0][0] for k in kids["id"])
        mx = px1 + 0.5 * (cx0 - px1)
        ax.plot([px1, mx], [py, py], color="#9aa5b1", lw=1, zorder=0)
        ax.plot([mx, mx], [kids["row"].min(), kids["row"].max()], color="#9aa5b1", lw=1, zorder=0)
        for k in kids.itertuples():
            ax.plot([mx, box[k.id][0][0]], [k.row, k.row], color="#9aa5b1", lw=1, zorder=0)
    ax.set_title(title or d.t("kd.tree_title", name=render(d.strategy.label, lang)), loc="left")
    plotting.finish(fig)


# ----------------------------------------------------------------------------- tables


SOURCE_KEYS = {"orders", "customers", "surveys", "complaints", "visits", "leads", "market", "ratings"}


def _source_text(source: str, language: str, t) -> str:
    parts = []
    for s in (x.strip() for x in source.split(",")):
        if s in SOURCE_KEYS:
            parts.append(t(f"table.{s}"))
        elif s == "external":
            parts.append(t("kd.external"))
        else:
            parts.append(s)
    return "、".join(parts) if language == "zh" else ", ".join(parts)


def _wrapping(sty: Styler, columns: list[str], width: str = "16em") -> Styler:
    """Let long text columns wrap (report tables do not wrap by default)."""
    return sty.set_properties(subset=columns, **{"white-space": "normal", "min-width": width})


def _left_headers(sty: Styler, columns: list[str]) -> Styler:
    """Align the headers of text columns with their (left-aligned) text."""
    styles = {c: [{"selector": "th", "props": [("text-align", "left")]}] for c in columns}
    return sty.set_table_styles(styles, overwrite=False)


def dictionary_table(d: Decomposition) -> Styler:
    """The indicator dictionary: what, how measured, data source, polarity, period, weight."""
    lang = d.language
    leaves = d.tree.indicators()
    objectives = d.tree.nodes.set_index("id")
    rows = []
    for r in leaves.itertuples():
        ind = d.library[r.id]
        obj = objectives.loc[r.parent]
        rows.append({
            d.t("kd.col.objective"): obj["zh"] if lang == "zh" else obj["en"],
            d.t("col.kpi"): d.name(r.id),
            d.t("kd.col.what"): ind.smart.text("specific", lang),
            d.t("kd.col.how"): ind.smart.text("measurable", lang),
            d.t("kd.col.source"): _source_text(ind.source, lang, d.t),
            d.t("kd.col.polarity"): d.t("kd.higher" if ind.higher_is_better else "kd.lower"),
            d.t("kd.col.period"): d.t(f"period.{ind.period}"),
            d.t("kd.col.weight"): r.weight,
        })
    df = pd.DataFrame(rows)
    sty = table(df, {d.t("kd.col.weight"): "ratio"}, lang)
    sty = _left_headers(sty, [c for c in df.columns if c != d.t("kd.col.weight")])
    sty = _wrapping(sty, [d.t("kd.col.objective"), d.t("col.kpi"), d.t("kd.col.source")], "6em")
    return _wrapping(sty, [d.t("kd.col.what"), d.t("kd.col.how")], "13em")


def _smart(d: Decomposition) -> pd.DataFrame:
    w = d.tree.weights()
    targets = {r.indicator: (r.target, r.type) for r in d.strategy.targets().itertuples()}
    sm = smart_frame(d.library, list(w.index), d.review, w.to_dict(), targets)
    sm["reasons"] = smart_reasons(sm, d.language)
    return sm


def smart_summary(d: Decomposition) -> Markdown:
    """One sentence: how many indicators pass all five SMART checks."""
    sm = _smart(d)
    failed = sm[~sm["passed"]]
    if failed.empty:
        return Markdown(d.t("kd.smart_all", n=len(sm)))
    names = "、".join(escape(d.name(i)) for i in failed["indicator"]) if d.language == "zh" else \
        ", ".join(escape(d.name(i)) for i in failed["indicator"])
    return Markdown(d.t("kd.smart_some", n=len(sm), k=len(failed), names=names))


def smart_table(d: Decomposition) -> Styler:
    """SMART check per indicator: ✓ / ✗ per attribute and the reasons for each ✗."""
    sm = _smart(d)
    heads = {a: d.t(f"smart.{a}") for a in SMART_ATTRIBUTES}
    df = pd.DataFrame({d.t("col.kpi"): [d.name(i) for i in sm["indicator"]]})
    for a in SMART_ATTRIBUTES:
        df[heads[a]] = np.where(sm[a], "✓", "✗")
    failing = bool((~sm["passed"]).any())
    if failing:
        df[d.t("kd.col.reasons")] = sm["reasons"].to_numpy()
    sty = table(df, None, d.language)
    sty = sty.map(lambda v: "color: #b00020; font-weight: 600" if v == "✗" else "color: #1a7f37",
                  subset=list(heads.values()))
    sty = sty.set_properties(subset=list(heads.values()), **{"text-align": "center"})
    sty = _left_headers(sty, [d.t("col.kpi")])
    if not failing:
        return sty
    sty = _left_headers(sty, [d.t("kd.col.reasons")])
    return _wrapping(sty, [d.t("kd.col.reasons")], "22em")


def _availability(d: Decomposition) -> pd.DataFrame:
    ids = list(d.tree.weights().index)
    team = d.values.reindex([m for m in d.ctx.manager_ids])
    da = data_availability(d.library, d.ctx.availability, ids, team[ids])
    da["reason"] = availability_reasons(da, d.language)
    return da


def availability_note(d: Decomposition) -> Markdown:
    """Warnings for indicators that cannot be computed (or not for every manager)."""
    da = _availability(d)
    bad = da[da["status"] != "ok"]
    if bad.empty:
        return Markdown(d.t("kd.avail_all"))
    lines = [d.t("kd.avail_warn")]
    for r in bad.itertuples():
        w = float(d.tree.weights()[r.indicator])
        lines.append(f"- ⚠ **{escape(d.name(r.indicator))}**（{percent(w, 1)}）：{escape(r.reason)}" if d.language == "zh"
                     else f"- ⚠ **{escape(d.name(r.indicator))}** ({percent(w, 1)}): {escape(r.reason)}")
    lines.append("")
    lines.append(d.t("kd.avail_effect"))
    return Markdown("\n".join(lines))


def availability_table(d: Decomposition) -> Styler:
    """Per indicator: KPI, status, managers of this team with a value."""
    da = _availability(d)
    df = pd.DataFrame({
        d.t("col.kpi"): [d.name(i) for i in da["indicator"]],
        d.t("kd.col.status"): [d.t(f"kd.status.{s}") for s in da["status"]],
        d.t("kd.col.with_value"): [f"{int(w)} / {int(m)}" if pd.notna(w) else "" for w, m in
                                   zip(da["with_value"], da["managers"])],
        d.t("col.note"): da["reason"],
    })
    sty = _left_headers(table(df, None, d.language), list(df.columns))
    return sty.map(lambda v: "color: #b00020; font-weight: 600" if v in (d.t("kd.status.missing"), d.t("kd.status.external"))
                   else "", subset=[d.t("kd.col.status")])


def _target_text(r, unit: str, higher: bool) -> str:
    if r.type == "growth":
        return f"{r.target:+.0%}"
    v = f"{r.target:.0%}" if unit == "ratio" else f"{r.target:,.0f}"
    if pd.notna(r.baseline):
        b = f"{r.baseline:.0%}" if unit == "ratio" else f"{r.baseline:,.0f}"
        return f"{b} → {v}"
    return f"{'≥' if higher else '≤'} {v}"


def segment_table(d: Decomposition) -> Styler:
    """Segment-specific indicators with the methodology's example targets.

    Shows the company median per manager for the review period beside each target
    (anonymous aggregate; a growth target has no median shown) and the indicator's
    weight in this team's tree (blank when it is not in the tree).
    """
    lang = d.language
    tg = worded(d.strategy.targets(), lang, ["name", "note"])
    comp = d.ctx.company[d.ctx.company["period"] == d.ctx.period.label].set_index(["segment", "kpi"])["median"]
    w = d.tree.weights()
    cols = [d.t("col.segment"), d.t("col.kpi"), d.t("kd.col.target"), d.t("kd.col.per"), d.t("kd.col.scope"),
            d.t("kd.col.median"), d.t("kd.col.in_tree"), d.t("col.note")]
    rows = []
    for r in tg.itertuples():
        ind = d.library[r.indicator]
        med = np.nan
        if r.type == "level" and ind.kpi is not None and (ind.segment, ind.kpi) in comp.index:
            med = float(comp[(ind.segment, ind.kpi)])
        med_text = fmt(med, ind.unit, lang) if pd.notna(med) else "—"
        rows.append({
            d.t("col.segment"): d.t(f"segment.{r.segment}"),
            d.t("col.kpi"): r.name,
            d.t("kd.col.target"): _target_text(r, ind.unit, ind.higher_is_better),
            d.t("kd.col.per"): d.t(f"period.{r.per}"),
            d.t("kd.col.scope"): d.t(f"kd.scope.{r.scope}"),
            d.t("kd.col.median"): med_text,
            d.t("kd.col.in_tree"): percent(float(w[r.indicator]), 1) if r.indicator in w.index else "—",
            d.t("col.note"): r.note,
        })
    df = pd.DataFrame(rows, columns=cols)  # a strategy without segment defaults: the headers alone
    sty = _left_headers(table(df, None, lang), list(df.columns))
    return _wrapping(sty, [d.t("col.note")], "14em")


def _segments_served(d: Decomposition) -> dict[str, set[str]]:
    """manager → segments with at least one customer held during the review period."""
    c = d.ctx.tables.get("customers", pd.DataFrame())
    out: dict[str, set[str]] = {m: set() for m in d.ctx.manager_ids}
    if c.empty:
        return out
    held = (c["acquired_date"] <= d.ctx.period.end) & (c["lost_date"].isna() | (c["lost_date"] >= d.ctx.period.start))
    for m, seg in c.loc[held, ["manager_id", "segment"]].drop_duplicates().itertuples(index=False):
        if m in out:
            out[m].add(seg)
    return out


def manager_note(d: Decomposition) -> Markdown:
    """The cascade to managers: whose tree differs because a segment is not served."""
    served = _segments_served(d)
    names = d.ctx.roster.set_index("manager_id")["name"]
    lines = []
    for m, segs in served.items():
        mt = for_manager(d.tree, segs, m)
        if mt.dropped:
            dropped = "、".join(escape(d.name(i)) for i in mt.dropped) if d.language == "zh" else \
                ", ".join(escape(d.name(i)) for i in mt.dropped)
            lines.append(f"- {escape(names.get(m, m))}: {dropped}")
    if not lines:
        return Markdown(d.t("kd.managers_same"))
    return Markdown("\n".join([d.t("kd.managers_differ"), *lines]))


# ----------------------------------------------------------------------------- strategy shift


def shift_text(d: Decomposition) -> Markdown:
    """The alternative strategy in words and its biggest weight changes."""
    if d.alternative is None or d.alt_tree is None:
        return Markdown(d.t("kd.no_alternative"))
    lang = d.language
    a, b = pillar_split(d.tree), pillar_split(d.alt_tree)
    ch = weight_changes(d.tree, d.alt_tree)
    up = ch[ch["change"] > 1e-9].head(3)
    down = ch[ch["change"] < -1e-9].sort_values("change").head(3)
    sep = "、" if lang == "zh" else ", "

    def items(df: pd.DataFrame) -> str:
        return sep.join(f"{escape(d.name(r.indicator))} ({r.change * 100:+.1f})" for r in df.itertuples()) or "—"

    lines = [
        d.t("kd.alt_head", name=escape(render(d.alternative.label, lang))),
        "",
        escape(render(d.alternative.summary, lang)),
        "",
        d.t("kd.alt_split", hard_a=percent(a["hard"]), soft_a=percent(a["soft"]), hard_b=percent(b["hard"]), soft_b=percent(b["soft"])),
        "",
        d.t("kd.alt_up", items=items(up)),
        "",
        d.t("kd.alt_down", items=items(down)),
    ]
    return Markdown("\n".join(lines))


def weight_change_chart(d: Decomposition) -> None:
    """Dumbbell chart: global weight of each indicator now (●) and under the alternative (◆)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    from helpers.present import plotting

    if d.alt_tree is None:
        return
    ch = weight_changes(d.tree, d.alt_tree)
    y = np.arange(len(ch))
    c_now, c_alt = plotting.palette(2)
    fig, ax = plt.subplots(figsize=(10, 0.34 * len(ch) + 1.6))
    for yi, r in zip(y, ch.itertuples()):
        colour = "#1a7f37" if r.change > 1e-9 else ("#b00020" if r.change < -1e-9 else "#9aa5b1")
        if abs(r.change) > 1e-9:
            ax.add_patch(FancyArrowPatch((r.current * 100, yi), (r.alternative * 100, yi), arrowstyle="-|>",
                                         mutation_scale=10, color=colour, lw=1.4, zorder=1))
        ax.text(max(r.current, r.alternative) * 100 + 0.6, yi, f"{r.change * 100:+.1f}", va="center", fontsize=8.5,
                color=colour)
    ax.scatter(ch["current"] * 100, y, color=c_now, s=36, zorder=2, label=render(d.strategy.label, d.language))
    ax.scatter(ch["alternative"] * 100, y, color=c_alt, marker="D", s=32, zorder=2, label=render(d.alternative.label, d.language))
    ax.set_yticks(y)
    ax.set_yticklabels([d.name(i) for i in ch["indicator"]])
    ax.invert_yaxis()
    ax.set_xlim(-0.5, max(ch["current"].max(), ch["alternative"].max()) * 100 + 3)
    ax.set_xlabel(d.t("kd.axis_weight"))
    ax.set_title(d.t("kd.weight_chart"), loc="left")
    ax.legend(frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=9.5)
    plotting.finish(fig)


def _ranks(d: Decomposition) -> pd.DataFrame:
    rs = rank_shift(d.values, d.tree, d.alt_tree)
    team = rs.reindex(d.ctx.manager_ids)
    team.insert(0, "name", d.ctx.roster.set_index("manager_id")["name"].reindex(team.index).to_numpy())
    return team.sort_values(["rank_current", "name"], na_position="last", kind="stable")


def ranked_managers(d: Decomposition) -> int:
    """Number of managers in the company with a score (the rank's denominator)."""
    return int(d.values.notna().any(axis=1).sum())


def rank_chart(d: Decomposition) -> None:
    """This team's managers: company rank now (●) and under the alternative (◆)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    from helpers.present import plotting

    if d.alt_tree is None:
        return
    team = _ranks(d).dropna(subset=["rank_current", "rank_alternative"])
    if team.empty:
        return
    n = ranked_managers(d)
    c_now, c_alt = plotting.palette(2)
    y = np.arange(len(team))
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(team) + 1.6))
    for yi, r in zip(y, team.itertuples()):
        a, b = int(r.rank_current), int(r.rank_alternative)
        colour = "#1a7f37" if b < a else ("#b00020" if b > a else "#9aa5b1")
        if a != b:
            ax.add_patch(FancyArrowPatch((a, yi), (b, yi), arrowstyle="-|>", mutation_scale=10, color=colour, lw=1.4,
                                         zorder=1))
        move = a - b
        label = f"↑{move}" if move > 0 else (f"↓{-move}" if move < 0 else "=")
        ax.text(max(a, b) + n * 0.015, yi, label, va="center", fontsize=9, color=colour)
    ax.scatter(team["rank_current"].astype(float), y, color=c_now, s=40, zorder=2, label=render(d.strategy.label, d.language))
    ax.scatter(team["rank_alternative"].astype(float), y, color=c_alt, marker="D", s=34, zorder=2,
               label=render(d.alternative.label, d.language))
    ax.set_yticks(y)
    ax.set_yticklabels(team["name"])
    ax.invert_yaxis()
    ax.set_xlim(0, n + max(2, n * 0.06))
    ax.set_xlabel(d.t("kd.axis_rank", n=n))
    ax.set_title(d.t("kd.rank_chart"), loc="left")
    ax.legend(frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=9.5)
    plotting.finish(fig)


def rank_table(d: Decomposition) -> Styler | Markdown:
    """Scores (0–100) and company ranks of this team's managers under both strategies."""
    if d.alt_tree is None:
        return Markdown("")
    team = _ranks(d)
    n = ranked_managers(d)
    cur, alt = render(d.strategy.label, d.language), render(d.alternative.label, d.language)

    def rank_text(v) -> str:
        return f"{int(v)} / {n}" if pd.notna(v) else fmt(np.nan, "text", d.language)

    def move_text(v) -> str:
        if pd.isna(v):
            return fmt(np.nan, "text", d.language)
        return f"↑{int(v)}" if v > 0 else (f"↓{-int(v)}" if v < 0 else "=")

    df = pd.DataFrame({
        d.t("col.name"): team["name"].to_numpy(),
        d.t("kd.col.score", name=cur): team["score_current"].to_numpy(),
        d.t("kd.col.rank", name=cur): [rank_text(v) for v in team["rank_current"]],
        d.t("kd.col.score", name=alt): team["score_alternative"].to_numpy(),
        d.t("kd.col.rank", name=alt): [rank_text(v) for v in team["rank_alternative"]],
        d.t("kd.col.move"): [move_text(v) for v in team["move"]],
    })
    units = {d.t("kd.col.score", name=cur): "score", d.t("kd.col.score", name=alt): "score"}
    return table(df, units, d.language)


def tree_export(d: Decomposition) -> pd.DataFrame:
    """Artifact ``kpi_tree.csv``: this team's tree of the current strategy (path, local, global weight)."""
    return worded(d.tree.export(), d.language, ["name"])


# ======================================================================================
# what the run needs to know (read by helpers.run.runner; the notebook's metadata names this module)
# ======================================================================================


def check_inputs(params: Any, params_file: str | Path, ds: Any) -> list:
    """The strategy files (and their regional and team overrides) this notebook reads."""
    return check_strategies(params, params_file, ds.team_regions())


SHARED = {"scores": share_scores}
"""Company-wide results this notebook reads, each with the function that prepares it once per run."""
