"""Notebook 00 (data quality and KPI actuals): the tables and charts it shows.

All wrangling for the notebook lives here so the notebook reads like a report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from helpers.present.display import fmt, money_scale, table
from helpers.kpis.measures import KPIS, kpi_name, rates_above_one
from helpers.data.schema import TABLES
from helpers.context.workbook import TeamContext

KEY_KPIS = ("sales", "profit", "margin", "orders", "new_customers", "retention_rate", "csat", "nps",
            "complaint_rate", "visits", "market_share")
CHART_KPIS = ("sales", "new_customers", "retention_rate", "csat")


def summary_text(ctx: TeamContext) -> str:
    """One sentence: managers, customers, orders and sales of the team in the period."""
    o = ctx.tables["orders"]
    in_p = o[(o["date"] >= ctx.period.start) & (o["date"] < ctx.period.end_exclusive)]
    return ctx.t(
        "dq.summary",
        period=ctx.period.label,
        n=len(ctx.roster),
        customers=f"{len(ctx.tables['customers']):,}",
        orders=f"{len(in_p):,}",
        sales=fmt(float(in_p["amount"].sum()), "currency"),
    )


def roster_table(ctx: TeamContext) -> Styler:
    """Managers reviewed with this team, their active dates and share of the period."""
    r = ctx.roster
    df = pd.DataFrame(
        {
            ctx.t("col.manager_id"): r["manager_id"],
            ctx.t("col.name"): r["name"],
            ctx.t("col.from"): r["active_from"].dt.strftime("%Y-%m-%d"),
            ctx.t("col.to"): r["active_to"].dt.strftime("%Y-%m-%d"),
            ctx.t("col.fraction"): r["fraction"],
            ctx.t("col.note"): r["note"],
        }
    )
    if not r["note"].fillna("").astype(str).str.strip().any():  # nobody joined, left or moved: no empty column
        df = df.drop(columns=[ctx.t("col.note")])
    return table(df, {ctx.t("col.fraction"): "ratio"}, ctx.language)


def coverage(ctx: TeamContext, months: int = 24) -> pd.DataFrame:
    """Rows per table (team slice) per month, last ``months`` months up to the period end."""
    end = ctx.period.months[-1]
    idx = pd.period_range(end - (months - 1), end, freq="M")
    out = {}
    for name, df in ctx.tables.items():
        col = TABLES[name].date_column
        if col is None or col not in df.columns:
            continue
        counts = df[col].dt.to_period("M").value_counts()
        out[ctx.t(f"table.{name}")] = counts.reindex(idx, fill_value=0)
    cov = pd.DataFrame(out, index=idx)
    cov.index = cov.index.astype(str)
    return cov


def coverage_chart(ctx: TeamContext) -> None:
    """Heatmap: tables × months, cell = rows (gaps stand out as pale cells)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from helpers.present import plotting

    cov = coverage(ctx).T
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(cov) + 1.6))
    sns.heatmap(np.log10(cov + 1), ax=ax, cmap="Blues", cbar=False, linewidths=0.5, linecolor="white")
    for (i, j), v in np.ndenumerate(cov.to_numpy()):
        ax.text(j + 0.5, i + 0.5, f"{v:,}" if v < 1000 else f"{v / 1000:.1f}k", ha="center", va="center", fontsize=7,
                color="white" if v > cov.to_numpy().max() ** 0.8 else "black",
                in_layout=False)  # inside its cell: never moves the layout (not measured for it)
    ax.set_title(ctx.t("dq.coverage_chart"))
    ax.set_xlabel(ctx.t("axis.month"))
    ax.set_ylabel("")
    ax.tick_params(axis="y", rotation=0)
    plotting.finish(fig)


def _name(ctx: TeamContext, kpi: str) -> str:
    """A KPI's name in the report's language: a built-in KPI's, or the YAML's for a measure
    the plan declares (the availability table holds both)."""
    if kpi in KPIS:
        return kpi_name(kpi, ctx.language)
    av = ctx.availability
    if {"zh", "en"} <= set(av.columns) and (av["kpi"] == kpi).any():
        return str(av.loc[av["kpi"] == kpi, ctx.language].iloc[0])
    return kpi


def availability_note(ctx: TeamContext) -> str:
    """Markdown: which KPIs are not available and which data they lack."""
    na = ctx.availability[~ctx.availability["available"]]
    if na.empty:
        return ctx.t("dq.unavailable_none")
    lines = [ctx.t("dq.unavailable_some")]
    for r in na.itertuples(index=False):
        lines.append(f"- {_name(ctx, r.kpi)} (`{r.kpi}`): {r.missing}")
    return "\n".join(lines)


def findings(ctx: TeamContext) -> pd.DataFrame:
    """Data-quality findings for this team and period (beyond the load-time validation).

    Checks: managers without orders in the period; months of the period without
    orders; KPI ratios with no base (e.g. no surveys); validation warnings.
    """
    rows: list[tuple[str, str]] = []
    per = ctx.actuals[(ctx.actuals["period"] == ctx.period.label) & (ctx.actuals["segment"] == "all")]
    sales = per[per["kpi"] == "sales"].set_index("manager_id")["value"]
    names = ctx.roster.set_index("manager_id")["name"]
    for mid in ctx.manager_ids:
        if sales.get(mid, 0) == 0:
            rows.append((f"{names[mid]} ({mid})", ctx.t("dq.no_orders_manager")))
    o = ctx.tables["orders"]
    months = o["date"].dt.to_period("M")
    for m in ctx.period.months:
        if not (months == m).any():
            rows.append((str(m), ctx.t("dq.no_orders_month")))
    nan_ratio = per[per["value"].isna()]
    for r in nan_ratio.itertuples(index=False):
        what = ctx.t("dq.no_base", kpi=_name(ctx, r.kpi))
        rows.append((f"{names.get(r.manager_id, r.manager_id)} ({r.manager_id})", what))
    for r in rates_above_one(per).itertuples(index=False):
        what = ctx.t("dq.above_one", kpi=_name(ctx, r.kpi), value=f"{r.value:.0%}")
        rows.append((f"{names.get(r.manager_id, r.manager_id)} ({r.manager_id})", what))
    return pd.DataFrame(rows, columns=[ctx.t("col.name"), ctx.t("col.note")])


def kpi_frame(ctx: TeamContext, kpis: tuple[str, ...] = KEY_KPIS, segment: str = "all") -> pd.DataFrame:
    """Managers × KPIs for the review period (values; NaN = not available)."""
    sel = ctx.actuals[(ctx.actuals["period"] == ctx.period.label) & (ctx.actuals["segment"] == segment)]
    wide = sel.pivot(index="manager_id", columns="kpi", values="value").reindex(ctx.manager_ids)
    cols = [k for k in kpis if k in wide.columns]
    return wide[cols]


def kpi_table(ctx: TeamContext, kpis: tuple[str, ...] = KEY_KPIS) -> Styler:
    """The KPI actuals table shown in the report (names, formatted by unit)."""
    wide = kpi_frame(ctx, kpis)
    names = ctx.roster.set_index("manager_id")["name"]
    df = wide.rename(columns={k: kpi_name(k, ctx.language) for k in wide.columns})
    df.insert(0, ctx.t("col.name"), names.reindex(wide.index).to_numpy())
    units = {kpi_name(k, ctx.language): KPIS[k].unit for k in wide.columns}
    return table(df.reset_index(drop=True), units, ctx.language)


def kpi_export(ctx: TeamContext) -> pd.DataFrame:
    """Artifact ``kpi_actuals.csv``: all KPIs, segments and the audit columns for the period."""
    sel = ctx.actuals[ctx.actuals["period"] == ctx.period.label]
    return sel.sort_values(["manager_id", "kpi", "segment"], kind="stable").reset_index(drop=True)


def kpi_bars(ctx: TeamContext, kpis: tuple[str, ...] = CHART_KPIS) -> None:
    """Small multiples: one bar chart per KPI, managers side by side, company median dashed."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    wide = kpi_frame(ctx, kpis)
    kpis = tuple(k for k in kpis if k in wide.columns)
    if not kpis:
        return
    names = ctx.roster.set_index("manager_id")["name"].reindex(wide.index)
    comp = ctx.company[(ctx.company["period"] == ctx.period.label) & (ctx.company["segment"] == "all")]
    med = comp.set_index("kpi")["median"]
    fig, axes = plt.subplots(1, len(kpis), figsize=(3.2 * len(kpis), 0.32 * len(wide) + 1.8), sharey=True)
    axes = np.atleast_1d(axes)
    colours = plotting.palette(len(kpis))
    for ax, k, c in zip(axes, kpis, colours):
        ax.barh(names.to_numpy(), wide[k].to_numpy(), color=c)
        if k in med.index and pd.notna(med[k]):
            ax.axvline(med[k], color="black", linestyle="--", linewidth=1)
        ax.set_title(kpi_name(k, ctx.language), fontsize=11)
        if KPIS[k].unit == "ratio":
            ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        elif KPIS[k].unit == "currency":
            ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _, s=money_scale(ctx.language): f"{v / s:,.0f}"))
            ax.set_xlabel(ctx.t("axis.sales_scaled"), fontsize=9)
        ax.invert_yaxis() if ax is axes[0] else None
    fig.suptitle(ctx.t("dq.kpi_chart", period=ctx.period.label), fontweight="bold")
    plotting.finish(fig)


def sales_trend(ctx: TeamContext) -> None:
    """Monthly sales per manager over the history (line chart)."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    m = ctx.monthly[(ctx.monthly["kpi"] == "sales") & (ctx.monthly["segment"] == "all")]
    m = m[m["period"] <= str(ctx.period.months[-1])]
    if m.empty:
        return
    names = ctx.roster.set_index("manager_id")["name"]
    wide = m.pivot(index="period", columns="manager_id", values="value")
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for mid, c in zip(wide.columns, plotting.palette(len(wide.columns))):
        ax.plot(wide.index, wide[mid] / money_scale(ctx.language), label=names.get(mid, mid), color=c, lw=1.6)
    ax.set_title(ctx.t("dq.trend_chart"))
    ax.set_ylabel(ctx.t("axis.sales_scaled"))
    ticks = list(wide.index[:: max(1, len(wide) // 11)])
    ax.set_xticks(ticks)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(ncol=2, fontsize=8, frameon=False, loc="upper left")
    plotting.finish(fig)


def segment_mix(ctx: TeamContext) -> Markdown | None:
    """Stacked bars: each manager's period sales by customer segment (a sentence when the
    data has no segments: an export without them)."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    sel = ctx.actuals[(ctx.actuals["period"] == ctx.period.label) & (ctx.actuals["kpi"] == "sales")
                      & (ctx.actuals["segment"] != "all")]
    if sel.empty:
        return Markdown(ctx.t("dq.no_segments"))
    wide = sel.pivot(index="manager_id", columns="segment", values="value").reindex(ctx.manager_ids).fillna(0)
    wide = wide[[s for s in ("key", "small", "walkin") if s in wide.columns]]
    names = ctx.roster.set_index("manager_id")["name"].reindex(wide.index)
    scale = money_scale(ctx.language)
    fig, ax = plt.subplots(figsize=(10, 0.35 * len(wide) + 1.6))
    left = np.zeros(len(wide))
    for s, c in zip(wide.columns, plotting.palette(len(wide.columns))):
        ax.barh(names.to_numpy(), wide[s].to_numpy() / scale, left=left, color=c, label=ctx.t(f"segment.{s}"))
        left += wide[s].to_numpy() / scale
    ax.invert_yaxis()
    ax.set_xlabel(ctx.t("axis.sales_scaled"))
    ax.legend(frameon=False, ncol=3, loc="lower right")
    plotting.finish(fig)
    return None


def findings_table(ctx: TeamContext) -> Styler | Markdown:
    """The findings as a report table (or the all-clear sentence)."""
    f = findings(ctx)
    if f.empty:
        return Markdown(ctx.t("dq.findings_none"))
    return table(f, None, ctx.language)


# ======================================================================================
# what the run needs to know (read by helpers.run.runner; the notebook's metadata names this module)
# ======================================================================================


def check_inputs(params: Any, params_file: str | Path, ds: Any) -> list:
    """Methodology problems this notebook would refuse: none (the data is validated on load)."""
    return []


SHARED: dict = {}
"""Company-wide results this notebook reads, each with the function that prepares it once per run."""
