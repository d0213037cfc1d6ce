"""Notebook 01 (target setting): the plan, this team's targets, SMART checks, backtests.

What the notebook shows, one call per cell.  The targets are set company-wide by
:class:`helpers.core.target_engine.TargetEngine` (rules in its module text), checked
and backtested by :mod:`helpers.core.target_checks`, shared once per run by
:mod:`helpers.context.targets`; this module puts this team's part of them into words,
tables and charts, and declares what the run needs (:func:`check_inputs`, ``SHARED``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers.context.targets import check_plan, company_targets, share_targets
from helpers.core import targets as tg
from helpers.core.target_engine import PeriodTargets, TargetEngine
from helpers.errors import Problem
from helpers.kpis.indicators import Library
from helpers.periods import month_label
from helpers.plan.params import RunParams
from helpers.plan.targets import TargetPlan
from helpers.present.display import amount, money_scale
from helpers.present.words import render

__all__ = ["build", "TargetLab", "check_inputs", "SHARED"]


@dataclass
class TargetLab:
    """Everything notebook 01 shows for one team (built by :func:`build`)."""

    ctx: Any
    plan: TargetPlan
    plan_file: Path
    library: Library
    engine: TargetEngine
    period: pd.Period
    results: dict[str, PeriodTargets]
    smart: pd.DataFrame
    backtest: pd.DataFrame
    skipped: list[tuple[str, str, str]]

    @property
    def mine(self) -> list[str]:
        return list(self.ctx.roster["manager_id"])

    def names(self) -> pd.Series:
        return self.ctx.roster.set_index("manager_id")["name"]

    def t(self, key: str, **kw: Any) -> str:
        return self.ctx.t(key, **kw)

    def word(self, note: Any) -> str:
        """An engine note (:class:`~helpers.core.phrases.Phrase`) in the report's language."""
        return render(note, self.ctx.language)


def build(ctx: Any, params_file: str | Path | None = None, workspace: str | Path | None = None) -> TargetLab:
    """Set every target for ``ctx.period``, check them and backtest the plan
    (:func:`company_targets`); the notebook shows ``ctx``'s team."""
    engine, results, smart, bt, skipped = company_targets(ctx, params_file, workspace)
    return TargetLab(ctx, engine.plan, Path(engine.plan_file), engine.library, engine, ctx.period.period, results,
                     smart, bt, skipped)


def _esc(x: object) -> str:
    from helpers.present.display import escape

    return escape(x)


def _ind_names(lab: TargetLab, iids: list[str]) -> dict[str, str]:
    return {i: lab.library.name(i, lab.ctx.language) for i in iids}


def _volumes(lab: TargetLab) -> list[str]:
    return [i for i in lab.results if lab.library[i].volume]


def _rates(lab: TargetLab) -> list[str]:
    return [i for i in lab.results if not lab.library[i].volume]


def _own(lab: TargetLab, iid: str) -> pd.DataFrame:
    m = lab.results[iid].managers
    return m[m["manager_id"].isin(lab.mine)].set_index("manager_id").reindex(lab.mine)


def summary_text(lab: TargetLab) -> str:
    """Markdown: what this report does, for whom and for which period."""
    return lab.t("tl.summary", n=len(lab.mine), period=str(lab.ctx.period), k=len(lab.results),
                 b=lab.plan.backtest.periods)


def plan_text(lab: TargetLab) -> str:
    """Markdown: one bullet per indicator — its method in plain words, with the numbers."""
    lines = []
    for iid, r in lab.results.items():
        name = _esc(lab.library.name(iid, lab.ctx.language))
        ip = lab.plan.indicators[iid]
        method = lab.t(f"tl.method.{ip.method}")
        head = f"- **{name}**（{method}）：" if lab.ctx.language == "zh" else f"- **{name}** ({method}): "
        if ip.method == "blend" or len(ip.components()) > 1:
            # the blend formula, then one sub-bullet per component, then the phasing
            lines.append(head + _esc(lab.word(r.text[0])))
            lines.extend(f"    - {_esc(lab.word(x))}" for x in r.text[1:])
        else:
            lines.append(head + " ".join(_esc(lab.word(x)) for x in r.text))
    return "\n".join(lines)


def _note_short(lab: TargetLab, notes: list[Any]) -> str:
    return "; ".join(lab.word(n) for n in notes)


def _skipped(lab: TargetLab) -> str:
    """Markdown: one bullet per backtest period skipped, with the reason."""
    return "\n".join(f"- {_esc(lab.t('tl.bt.skipped', indicator=lab.library.name(iid, lab.ctx.language), period=q, reason=why))}"
                     for iid, q, why in lab.skipped)


def volume_table(lab: TargetLab):
    """Quarter (period) targets of the volume indicators: managers × indicators, team total."""
    from helpers.present.display import table

    vols = _volumes(lab)
    names = lab.names()
    df = pd.DataFrame({lab.t("col.name"): names.reindex(lab.mine).to_numpy(), lab.t("col.manager_id"): lab.mine})
    units = {}
    frac = lab.ctx.roster.set_index("manager_id")["fraction"].reindex(lab.mine)
    for iid in vols:
        col = lab.library.name(iid, lab.ctx.language)
        df[col] = _own(lab, iid)["target"].to_numpy()
        units[col] = lab.library[iid].unit
    df[lab.t("col.fraction")] = [f"{x:.1%}" for x in frac.to_numpy()]
    total = {lab.t("col.name"): lab.t("tl.col.team_total"), lab.t("col.manager_id"): "", lab.t("col.fraction"): ""}
    for iid in vols:
        col = lab.library.name(iid, lab.ctx.language)
        total[col] = float(df[col].sum())
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    return table(df, units, lab.ctx.language, caption=lab.t("tl.cap.volumes", period=str(lab.ctx.period)))


def levels_text(lab: TargetLab) -> str:
    """Markdown: the rate targets that are the same for every manager, in one sentence."""
    parts = []
    for iid in _rates(lab):
        v = _own(lab, iid)["target"]
        if len(v) and v.nunique() == 1:
            parts.append(f"{_esc(lab.library.name(iid, lab.ctx.language))} "
                         f"{amount(float(v.iloc[0]), lab.library[iid].unit, lab.ctx.language)}")
    if not parts:
        return ""
    return lab.t("tl.levels", items="；".join(parts) if lab.ctx.language == "zh" else "; ".join(parts))


def rate_table(lab: TargetLab):
    """Rate targets that differ between managers (managers × indicators), or a sentence."""
    from IPython.display import Markdown

    from helpers.present.display import table

    cols = [i for i in _rates(lab) if _own(lab, i)["target"].nunique() > 1]
    if not cols:
        return Markdown(lab.t("tl.rates_none"))
    df = pd.DataFrame({lab.t("col.name"): lab.names().reindex(lab.mine).to_numpy()})
    units = {}
    for iid in cols:
        col = lab.library.name(iid, lab.ctx.language)
        df[col] = _own(lab, iid)["target"].to_numpy()
        units[col] = lab.library[iid].unit
    return table(df, units, lab.ctx.language, caption=lab.t("tl.cap.rates", period=str(lab.ctx.period)))


def split_check(lab: TargetLab) -> pd.DataFrame:
    """For every top-down indicator: do the managers add up to their teams, the teams to
    their regions, the regions to the company?  Computed from the targets in force
    (``indicator, level, entities, mismatches, company, managers``)."""
    rows = []
    for iid, r in lab.results.items():
        e = r.entities
        if e.empty:
            continue
        m = r.managers
        mism = 0
        by_team = m.groupby("team_id")["target"].sum()
        teams = e[e["level"] == "team"].set_index("entity")["target"]
        mism += int((by_team.reindex(teams.index).fillna(0) - teams).abs().gt(1e-6).sum())
        regions = e[e["level"] == "region"].set_index("entity")["target"]
        if len(regions):
            by_region = e[e["level"] == "team"].groupby("parent")["target"].sum()
            mism += int((by_region.reindex(regions.index).fillna(0) - regions).abs().gt(1e-6).sum())
        company = e.loc[e["level"] == "company", "target"]
        comp = float(company.iloc[0]) if len(company) else float("nan")
        if len(company):
            mism += int(abs(float(regions.sum() if len(regions) else teams.sum()) - comp) > 1e-6)
        rows.append((iid, len(teams), mism, comp, float(m["target"].sum())))
    return pd.DataFrame(rows, columns=["indicator", "teams", "mismatches", "company", "managers"])


def split_check_text(lab: TargetLab) -> str:
    """Markdown: the check of every top-down split in one sentence each, computed."""
    chk = split_check(lab)
    if chk.empty:
        return lab.t("tl.split_none")
    lang = lab.ctx.language
    lines = []
    for r in chk.itertuples(index=False):
        unit = lab.library[r.indicator].unit
        name = _esc(lab.library.name(r.indicator, lang))
        if r.mismatches == 0 and (math.isnan(r.company) or abs(r.company - r.managers) < 1e-6):
            key = "tl.split.ok" if not math.isnan(r.company) else "tl.split.ok_teams"
        else:
            key = "tl.split.bad"
        lines.append("- " + lab.t(key, name=name, managers=amount(r.managers, unit, lang),
                                  company=amount(r.company, unit, lang) if not math.isnan(r.company) else "",
                                  teams=r.teams, n=r.mismatches))
    return "\n".join(lines)


def split_table(lab: TargetLab):
    """The top-down chain for this team: company → its region → this team → Σ of its
    managers (exactly equal), per top-down indicator."""
    from IPython.display import Markdown

    from helpers.present.display import table

    rows = []
    for iid, r in lab.results.items():
        if r.entities.empty:
            continue
        e = r.entities
        name = lab.library.name(iid, lab.ctx.language)
        unit = lab.library[iid].unit
        own_sum = float(_own(lab, iid)["target"].sum())  # the targets in force, after any blend
        team_row = e[(e["level"] == "team") & (e["entity"] == lab.ctx.team_id)]
        for lvl, ent in (("company", "company"), ("region", lab.ctx.region)):
            x = e[(e["level"] == lvl) & (e["entity"] == ent)]
            if len(x):
                label = lab.t("tl.ent.company") if lvl == "company" else ent
                rows.append((name, lab.t(f"tl.lvl.{lvl}"), label, amount(float(x["target"].iloc[0]), unit, lab.ctx.language)))
        if len(team_row):
            tt = float(team_row["target"].iloc[0])
            rows.append((name, lab.t("tl.lvl.team"), lab.ctx.team_name, amount(tt, unit, lab.ctx.language)))
            ok = abs(own_sum - tt) < 1e-6
            rows.append((name, lab.t("tl.lvl.managers"), lab.t("tl.ent.sum_ok" if ok else "tl.ent.sum_bad"),
                         amount(own_sum, unit, lab.ctx.language)))
    if not rows:
        return Markdown(lab.t("tl.split_none"))
    df = pd.DataFrame(rows, columns=[lab.t("col.kpi"), lab.t("tl.col.level"), lab.t("tl.col.entity"),
                                     lab.t("tl.col.target")])
    return table(df, None, lab.ctx.language)


def notes_table(lab: TargetLab):
    """Pro-rating and fallbacks used for this team's managers (every one stated)."""
    from IPython.display import Markdown

    from helpers.present.display import table

    names = lab.names()
    rows = []
    for iid, r in lab.results.items():
        m = r.managers.set_index("manager_id")
        for mid in lab.mine:
            notes = m.loc[mid, "notes"]
            if notes:
                rows.append((names.get(mid, mid), lab.library.name(iid, lab.ctx.language), _note_short(lab, notes)))
    if not rows:
        return Markdown(lab.t("tl.notes_none"))
    df = pd.DataFrame(rows, columns=[lab.t("col.name"), lab.t("col.kpi"), lab.t("col.note")])
    return table(df, None, lab.ctx.language)


def _scale(unit: str, language: str) -> tuple[float, str]:
    if unit == "currency":
        return money_scale(language), ("tl.axis.money_zh" if language == "zh" else "tl.axis.money_en")
    return 1.0, "tl.axis.count"


def history_chart(lab: TargetLab, months: int = 24) -> None:
    """Small multiples, one per volume indicator: this team's monthly actuals (its
    current managers) before the period, the same months a year earlier, and the
    monthly targets of the period."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    vols = _volumes(lab)
    if not vols:
        return
    eng = lab.engine
    pm = list(eng._months(lab.period))
    cutoff = pm[0]
    hist_idx = pd.period_range(cutoff - months, cutoff - 1, freq="M")
    n = len(vols)
    ncol = min(2, n)
    nrow = int(math.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.1 * nrow), squeeze=False)
    c_hist, c_target, c_ly = plotting.palette(3)
    for ax, iid in zip(axes.ravel(), vols):
        unit = lab.library[iid].unit
        sc, ylab = _scale(unit, lab.ctx.language)
        pnl = eng.panel(iid)
        pnl = pnl[pnl["manager_id"].isin(lab.mine)]
        h = pnl.groupby("period")["value"].sum().reindex(hist_idx) / sc
        tm = lab.results[iid].months
        tgt = tm[tm["manager_id"].isin(lab.mine)].groupby("month")["target"].sum().reindex(pm) / sc
        ly = pnl.groupby("period")["value"].sum().reindex([m - 12 for m in pm]) / sc
        x_hist = np.arange(len(hist_idx))
        x_p = np.arange(len(hist_idx), len(hist_idx) + len(pm))
        ax.plot(x_hist, h.to_numpy(), color=c_hist, lw=1.8, marker="o", ms=2.5, label=lab.t("tl.leg.actual"))
        ax.bar(x_p, tgt.to_numpy(), color=c_target, width=0.7, label=lab.t("tl.leg.target"))
        ax.plot(x_p, ly.to_numpy(), ls="none", marker="D", ms=5, mfc="white", color=c_ly,
                label=lab.t("tl.leg.last_year"))
        labels = [str(m) for m in hist_idx] + [str(m) for m in pm]
        ticks = list(range(0, len(labels), 6)) + [len(labels) - 1]
        ax.set_xticks(ticks)
        ax.set_xticklabels([labels[i] for i in ticks], rotation=45, fontsize=8)
        ax.set_title(lab.library.name(iid, lab.ctx.language), fontsize=11)
        ax.set_ylabel(lab.t(ylab), fontsize=9)
        ax.set_ylim(bottom=0)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=8, frameon=False, loc="upper left")
    fig.suptitle(lab.t("tl.chart.history", period=str(lab.ctx.period)), fontweight="bold")
    plotting.finish(fig)


MAX_PEER_DOTS = 400
"""The growth chart draws at most this many other managers per indicator (a seeded
random sample, said under the chart) so that a large company stays a readable cloud."""


def growth_chart(lab: TargetLab) -> None:
    """Implied growth of every target over the manager's own base: this team's managers
    (coloured) against the company's other managers (grey; a sample of
    :data:`MAX_PEER_DOTS` per indicator when there are more), with the plan's band."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    s = lab.smart
    s = s[np.isfinite(s["implied_growth"].astype(float))]
    if s.empty:
        return
    iids = [i for i in lab.results if i in set(s["indicator"])]
    lo, hi = lab.plan.achievability.band
    fig, ax = plt.subplots(figsize=(9.5, 0.45 * len(iids) + 1.6))
    lower = {i for i in iids if not lab.library[i].higher_is_better}
    rng = np.random.default_rng(0)
    c_team = plotting.palette(1)[0]
    sampled = False
    for y, iid in enumerate(iids):
        d = s[s["indicator"] == iid]
        g = d["implied_growth"].astype(float).to_numpy()
        g = -g if iid in lower else g
        g = np.clip(g, -1.0, 2.0)
        mine = d["manager_id"].isin(lab.mine).to_numpy()
        jit = rng.uniform(-0.18, 0.18, len(g))
        others = np.flatnonzero(~mine)
        if len(others) > MAX_PEER_DOTS:  # a seeded sample keeps the shape without 30,000 dots a row
            others = np.sort(rng.choice(others, MAX_PEER_DOTS, replace=False))
            sampled = True
        ax.scatter(g[others], y + jit[others], s=10, color="0.7", zorder=2)
        ax.scatter(g[mine], y + jit[mine], s=28, color=c_team, edgecolor="black", lw=0.4, zorder=3)
    ax.axvspan(lo, hi, color="0.92", zorder=0)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_yticks(range(len(iids)))
    ax.set_yticklabels([lab.library.name(i, lab.ctx.language) + (" ↓" if i in lower else "") for i in iids])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:+.0%}"))
    ax.set_xlabel(lab.t("tl.axis.growth"))
    ax.set_title(lab.t("tl.chart.growth", lo=f"{lo:+.0%}", hi=f"{hi:+.0%}"))
    if sampled:
        ax.annotate(lab.t("tl.chart.growth_sampled", n=MAX_PEER_DOTS), xy=(1, 0), xycoords="axes fraction",
                    xytext=(0, -44), textcoords="offset points", ha="right", va="top", fontsize=8, color="0.35")
    plotting.finish(fig)


def smart_text(lab: TargetLab) -> str:
    """Markdown: how many of this team's targets pass the SMART checks."""
    s = lab.smart[lab.smart["manager_id"].isin(lab.mine)]
    c = s["status"].value_counts()
    return lab.t("tl.smart.summary", n=len(s), ok=int(c.get("ok", 0)), flag=int(c.get("flag", 0)),
                 nc=int(c.get("not checked", 0)), lo=f"{lab.plan.achievability.band[0]:+.0%}",
                 hi=f"{lab.plan.achievability.band[1]:+.0%}", z=f"{lab.plan.achievability.peer_z:g}")


def _smart_reason(lab: TargetLab, r: Any) -> str:
    parts = []
    lower = not lab.library[r.indicator].higher_is_better
    if r.zero_target:
        parts.append(lab.t("tl.smart.zero"))
    if getattr(r, "above_whole", False):
        parts.append(lab.t("tl.smart.above_whole", whole=lab.library.name(r.whole, lab.ctx.language)))
    if not bool(r.measurable):
        parts.append(lab.t("tl.smart.not_measurable"))
    if pd.notna(r.growth_ok) and not bool(r.growth_ok):
        g = -r.implied_growth if lower else r.implied_growth
        key = "tl.smart.growth_low" if g < lab.plan.achievability.band[0] else "tl.smart.growth_high"
        parts.append(lab.t(key + ("_lower" if lower else ""), g=f"{g:+.0%}"))
    if pd.notna(r.peer_ok) and not bool(r.peer_ok):
        parts.append(lab.t("tl.smart.peer", z=f"{r.peer_z:+.1f}"))
    return "; ".join(parts)


def smart_table(lab: TargetLab):
    """This team's flagged targets: target, own base, implied growth and why."""
    from IPython.display import Markdown

    from helpers.present.display import table

    s = lab.smart[lab.smart["manager_id"].isin(lab.mine) & (lab.smart["status"] == "flag")]
    if s.empty:
        return Markdown(lab.t("tl.smart.none"))
    names = lab.names()
    lang = lab.ctx.language
    rows = []
    for r in s.itertuples(index=False):
        unit = lab.library[r.indicator].unit
        lower = not lab.library[r.indicator].higher_is_better
        rows.append((names.get(r.manager_id, r.manager_id), lab.library.name(r.indicator, lang) + (" ↓" if lower else ""),
                     amount(r.target, unit, lang), amount(r.base, unit, lang) if pd.notna(r.base) else
                     lab.t("report.not_available"), -r.implied_growth if lower else r.implied_growth,
                     _smart_reason(lab, r)))
    df = pd.DataFrame(rows, columns=[lab.t("col.name"), lab.t("col.kpi"), lab.t("tl.col.full_target"),
                                     lab.t("tl.col.base"), lab.t("tl.col.growth"), lab.t("tl.col.why")])
    return table(df, {lab.t("tl.col.growth"): "ratio"}, lang)


def reconcile_table(lab: TargetLab):
    """Bottom-up commitments against the top-down split for this team (gap shown),
    or a sentence when the plan names no commitments file."""
    from IPython.display import Markdown

    from helpers.present.display import table

    com = lab.engine.commitments
    if com is None:
        return Markdown(lab.t("tl.reconcile.none"))
    names = lab.names()
    frames = []
    for iid, r in lab.results.items():
        c = com[(com["indicator"] == iid) & (com["period"] == lab.period)]
        if c.empty:
            continue
        td = r.components.get("topdown", r.managers.set_index("manager_id")["target"]).reindex(lab.mine)
        bu = c.set_index("manager_id")["commitment"]
        bu = bu[bu.index.isin(lab.mine)]
        rec = tg.reconcile(td, bu, total_label=lab.t("tl.col.team_total"))
        unit = lab.library[iid].unit
        for c in ("top_down", "bottom_up", "gap"):
            rec[c] = [amount(v, unit, lab.ctx.language) if pd.notna(v) else lab.t("report.not_available")
                      for v in rec[c]]
        rec.insert(0, lab.t("col.kpi"), lab.library.name(iid, lab.ctx.language))
        rec.index = [names.get(i, i) for i in rec.index]
        frames.append(rec.reset_index(names=lab.t("col.name")))
    if not frames:
        return Markdown(lab.t("tl.reconcile.no_rows"))
    df = pd.concat(frames, ignore_index=True)
    df = df.rename(columns={"top_down": lab.t("tl.col.top_down"), "bottom_up": lab.t("tl.col.bottom_up"),
                            "gap": lab.t("tl.col.gap"), "gap_pct": lab.t("tl.col.gap_pct"),
                            "status": lab.t("tl.col.status")})
    return table(df, {lab.t("tl.col.gap_pct"): "ratio"}, lab.ctx.language)


def backtest_text(lab: TargetLab) -> str:
    """Markdown: which periods were backtested, how, and which were skipped."""
    bt = lab.backtest
    if bt.empty:
        return lab.t("tl.bt.none") + ("\n\n" + _skipped(lab) if lab.skipped else "")
    periods = sorted(bt["period"].unique())
    a, b, c = lab.plan.backtest.thresholds
    text = lab.t("tl.bt.intro", first=str(periods[0]), last=str(periods[-1]), n=len(periods),
                 inds="、".join(_ind_names(lab, list(dict.fromkeys(bt["indicator"]))).values())
                 if lab.ctx.language == "zh" else ", ".join(_ind_names(lab, list(dict.fromkeys(bt["indicator"]))).values()),
                 a=f"{a:.0%}", b=f"{b:.0%}", c=f"{c:.0%}")
    note = scope_note(lab)
    if note:
        text += "\n\n" + note
    if lab.skipped:
        text += "\n\n" + _skipped(lab)
    return text


MAX_GROUPS_SHOWN = 12
"""A team report lists at most this many regions and other teams in the company-wide
backtest views (chart rows, fairness table); the leadership summary lists them all."""


def shown_groups(lab: Any, regions: list[str], teams: list[str]) -> tuple[list[str], list[str]]:
    """The regions and teams a team report shows in the company-wide backtest views.

    Up to :data:`MAX_GROUPS_SHOWN` of each, all are shown.  Beyond, regions shrink to
    this team's region, and teams to the teams of this team's region (or, when that is
    still too many, this team alone), so that a company of 3,000 branches still gets a
    readable chart.  The cut is stated in the report (:func:`scope_note`).
    """
    own_region, own_team = lab.ctx.region, lab.ctx.team_id
    if len(regions) > MAX_GROUPS_SHOWN:
        regions = [r for r in regions if r == own_region]
    if len(teams) > MAX_GROUPS_SHOWN:
        team_regions = lab.engine.data.team_regions
        same = [t for t in teams if team_regions.get(t) == own_region]
        teams = same if len(same) <= MAX_GROUPS_SHOWN else [t for t in teams if t == own_team]
    return regions, teams


def scope_note(lab: TargetLab) -> str:
    """Markdown: which regions and teams the backtest views show, when not all."""
    bt = lab.backtest
    if bt.empty:
        return ""
    regions, teams = sorted(bt["region"].dropna().unique()), sorted(bt["team"].dropna().unique())
    r_shown, t_shown = shown_groups(lab, regions, teams)
    if len(r_shown) == len(regions) and len(t_shown) == len(teams):
        return ""
    return lab.t("tl.bt.scope", regions=len(regions), teams=len(teams), r_shown=len(r_shown), t_shown=len(t_shown),
                 max=MAX_GROUPS_SHOWN)


def _groups(lab: TargetLab, bt: pd.DataFrame, teams: str = "all") -> list[tuple[str, pd.DataFrame, bool]]:
    """(label, rows, is own) for the company, each region and each team shown
    (:func:`shown_groups`; ``teams="own"``: only this team)."""
    regions, all_teams = shown_groups(lab, sorted(bt["region"].dropna().unique()), sorted(bt["team"].dropna().unique()))
    out = [(lab.t("tl.ent.company"), bt, False)]
    for rg in regions:
        out.append((str(rg), bt[bt["region"] == rg], rg == lab.ctx.region))
    names = lab.engine.data.team_names
    for tm in all_teams:
        if teams == "all" or tm == lab.ctx.team_id:
            out.append((f"{names.get(tm, tm)}", bt[bt["team"] == tm], tm == lab.ctx.team_id))
    return out


def backtest_chart(lab: TargetLab) -> None:
    """Share of managers reaching threshold / target / excellence under the plan, for
    the company, each region and each team (dots), against the rules of thumb
    (shaded: about 90 % / 60–65 % / 10 %)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from helpers.present import plotting

    bt = lab.backtest
    if bt.empty:
        return
    iids = list(dict.fromkeys(bt["indicator"]))
    th = tuple(lab.plan.backtest.thresholds)
    groups_all = _groups(lab, bt)
    fig, axes = plt.subplots(1, len(iids), figsize=(3.6 * len(iids) + 1.6, 0.36 * len(groups_all) + 2.2),
                             sharey=True, squeeze=False)
    cols = plotting.palette(3)
    keys = [("share_threshold", "tl.leg.threshold", "o"), ("share_target", "tl.leg.target_level", "s"),
            ("share_excellence", "tl.leg.excellence", "^")]
    thumbs = [tg.RULES_OF_THUMB["threshold"], tg.RULES_OF_THUMB["target"], tg.RULES_OF_THUMB["excellence"]]
    for ax, iid in zip(axes[0], iids):
        groups = _groups(lab, bt[bt["indicator"] == iid])
        y = np.arange(len(groups))
        for (lo, hi), c in zip(thumbs, cols):
            ax.axvspan(lo - 0.01, hi + 0.01, color=c, alpha=0.22, lw=0)
        shares = [tg.attainment_distribution(g, thresholds=th).iloc[0] if len(g) else None for _, g, _ in groups]
        for (col, _, mk), c in zip(keys, cols):
            vals = [float(d[col]) if d is not None else np.nan for d in shares]
            ax.scatter(vals, y, marker=mk, s=34, color=c, edgecolor="black", lw=0.4, zorder=3)
        for yy, (_, _, own) in zip(y, groups):
            if own:
                ax.axhspan(yy - 0.45, yy + 0.45, color="0.9", zorder=0)
        ax.set_yticks(y)
        ax.set_yticklabels([g[0] for g in groups])
        for tick, (_, _, own) in zip(ax.get_yticklabels(), groups):
            if own:
                tick.set_fontweight("bold")
        ax.set_xlim(-0.02, 1.02)
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.set_title(lab.library.name(iid, lab.ctx.language), fontsize=11)
    axes[0][0].invert_yaxis()
    handles = [Line2D([], [], ls="none", marker=mk, color=c, markeredgecolor="black", markersize=7,
                      label=lab.t(k, pct=f"{th[i]:.0%}")) for i, ((_, k, mk), c) in enumerate(zip(keys, cols))]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="0.6", alpha=0.4, label=lab.t("tl.leg.thumb")))
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=9)
    fig.suptitle(lab.t("tl.chart.backtest"), fontweight="bold")
    plotting.finish(fig, rect=(0, 0.08, 1, 1))


def backtest_table(lab: TargetLab):
    """Attainment distribution by region and team (and company) vs the rules of thumb."""
    from IPython.display import Markdown

    from helpers.present.display import table

    bt = lab.backtest
    if bt.empty:
        return Markdown(lab.t("tl.bt.none"))
    th = tuple(lab.plan.backtest.thresholds)
    rows = []
    for iid in dict.fromkeys(bt["indicator"]):
        d = bt[bt["indicator"] == iid]
        for label, g, _ in _groups(lab, d, teams="own"):
            dist = tg.attainment_distribution(g, thresholds=th).iloc[0]
            rows.append((lab.library.name(iid, lab.ctx.language), label, int(dist["n"]), dist["median"],
                         dist["share_threshold"], dist["share_target"], dist["share_excellence"]))
    df = pd.DataFrame(rows, columns=[lab.t("col.kpi"), lab.t("tl.col.group"), lab.t("tl.col.n"),
                                     lab.t("tl.col.median_att"), lab.t("tl.col.sh_threshold"),
                                     lab.t("tl.col.sh_target"), lab.t("tl.col.sh_excellence")])
    units = {c: "ratio" for c in df.columns[3:]}
    units[lab.t("tl.col.n")] = "count"
    return table(df, units, lab.ctx.language)


def fairness_table(lab: TargetLab):
    """Teams and regions whose backtest attainment is systematically over or under target."""
    from IPython.display import Markdown

    from helpers.present.display import table

    bt = lab.backtest
    if bt.empty:
        return Markdown(lab.t("tl.bt.none"))
    fs = lab.plan.backtest.fairness
    names = lab.engine.data.team_names
    shown = dict(zip(("region", "team"), map(set, shown_groups(
        lab, sorted(bt["region"].dropna().unique()), sorted(bt["team"].dropna().unique())))))
    rows = []
    for iid in dict.fromkeys(bt["indicator"]):
        d = bt[bt["indicator"] == iid]
        for by, lvl in (("region", "tl.lvl.region"), ("team", "tl.lvl.team")):
            f = tg.fairness_flags(d, by=by, low=fs.low, high=fs.high, last_n=fs.last_n, min_periods=fs.min_periods)
            for r in f.itertuples(index=False):
                ent = getattr(r, by)
                own = ent == (lab.ctx.team_id if by == "team" else lab.ctx.region)
                if (not r.flag and not own) or ent not in shown[by]:
                    continue  # the table lists flagged groups and this team's own
                label = names.get(ent, ent) if by == "team" else ent
                flag = {"systematically over target": lab.t("tl.fair.over"),
                        "systematically under target": lab.t("tl.fair.under")}.get(r.flag, lab.t("tl.fair.ok"))
                rows.append((lab.library.name(iid, lab.ctx.language), lab.t(lvl), label, r.median,
                             f"{r.periods_over}/{r.periods}", f"{r.periods_under}/{r.periods}", flag))
    df = pd.DataFrame(rows, columns=[lab.t("col.kpi"), lab.t("tl.col.level"), lab.t("tl.col.group"),
                                     lab.t("tl.col.median_att"), lab.t("tl.col.over", high=f"{fs.high:.0%}"),
                                     lab.t("tl.col.under", low=f"{fs.low:.0%}"), lab.t("tl.col.flag")])
    return table(df, {lab.t("tl.col.median_att"): "ratio"}, lab.ctx.language)


def own_backtest_chart(lab: TargetLab) -> None:
    """Heatmap: this team's managers × backtested periods, attainment under the plan."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    bt = lab.backtest
    if bt.empty:
        return
    iids = list(dict.fromkeys(bt["indicator"]))
    names = lab.names()
    fig, axes = plt.subplots(1, len(iids), figsize=(3.6 * len(iids) + 1.5, 0.36 * len(lab.mine) + 1.8),
                             sharey=True, squeeze=False)
    for k, (ax, iid) in enumerate(zip(axes[0], iids)):
        d = bt[(bt["indicator"] == iid) & bt["manager_id"].isin(lab.mine)]
        w = d.pivot_table(index="manager_id", columns="period", values="attainment", aggfunc="first", dropna=False)
        w = w.reindex([m for m in lab.mine if m in set(bt.loc[bt["indicator"].isin(iids), "manager_id"])])
        w.index = [names.get(i, i) for i in w.index]
        w.columns = [str(c) for c in w.columns]
        plotting.heatmap(w.astype(float), ax=ax, cmap="RdBu", vmin=0.5, vmax=1.5, center=1.0, annot=True, fmt=".0%",
                         annot_kws={"fontsize": 7}, cbar=False, linewidths=0.5, linecolor="white")
        ax.grid(False)  # an empty cell (no target that quarter) stays blank, not crossed by the theme's grid
        ax.set_title(lab.library.name(iid, lab.ctx.language), fontsize=11)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(axis="x", rotation=45, labelsize=8)
        ax.tick_params(axis="y", rotation=0)
    fig.suptitle(lab.t("tl.chart.own_backtest"), fontweight="bold")
    plotting.finish(fig)


def export(lab: TargetLab) -> pd.DataFrame:
    """Artifact ``targets.csv``: this team's targets per manager × indicator for the
    period and each month (``level`` quarter/month), with method, unit and notes, and
    beside them the totals they add up to: this team's, its region's and the company's
    (``scope`` team / region / company, ``entity`` the team, region or "company").

    Columns: scope, entity, manager_id, team_id, indicator, period, level, target, unit,
    method, note.  :func:`helpers.data.plan_csv.read_targets_csv` reads it as is (the
    manager rows); the quarterly review reads the same targets from the run's cache.
    """
    rows = []
    lvl = "quarter" if lab.period.freqstr.startswith("Q") else "month"
    per = str(lab.ctx.period)
    for iid, r in lab.results.items():
        ip = lab.plan.indicators[iid]
        method = ip.method if ip.method != "blend" else "blend(" + ",".join(
            f"{k}:{v:g}" for k, v in (ip.blend or {}).items()) + ")"
        unit = lab.library[iid].unit
        m = r.managers[r.managers["manager_id"].isin(lab.mine)]
        for x in m.itertuples(index=False):
            rows.append(("manager", x.manager_id, x.manager_id, x.team_id, iid, per, lvl, x.target, unit, method,
                         _note_short(lab, x.notes)))
        if lvl == "quarter":
            mm = r.months[r.months["manager_id"].isin(lab.mine)]
            team = m.set_index("manager_id")["team_id"]
            for x in mm.itertuples(index=False):
                rows.append(("manager", x.manager_id, x.manager_id, team[x.manager_id], iid, month_label(x.month),
                             "month", x.target, unit, method, ""))
        e = r.entities
        for scope, entity in (("team", lab.ctx.team_id), ("region", lab.ctx.region), ("company", "company")):
            hit = e[(e["level"] == scope) & (e["entity"] == entity)]
            if len(hit):
                rows.append((scope, entity, "", lab.ctx.team_id if scope == "team" else "", iid, per, lvl,
                             float(hit["target"].iloc[0]), unit, method, ""))
    out = pd.DataFrame(rows, columns=["scope", "entity", "manager_id", "team_id", "indicator", "period", "level",
                                      "target", "unit", "method", "note"])
    order = {"manager": 0, "team": 1, "region": 2, "company": 3, "quarter": 0, "month": 1}
    return out.sort_values(["scope", "manager_id", "indicator", "level", "period"],
                           key=lambda s: s.map(order) if s.name in ("scope", "level") else s,
                           kind="stable").reset_index(drop=True)


def check_inputs(params: RunParams, params_file: str | Path, ds: Any) -> list[Problem]:
    """The target plan (and a user targets file) for the tables the data holds."""
    return check_plan(params, params_file, tables=set(ds.tables))


SHARED = {"targets": share_targets}
"""Company-wide results this notebook reads, each with the function that prepares it once per run."""
