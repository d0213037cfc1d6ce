"""The plan health check in words, a table and a chart (notebook 03's section, notebook
05's one line).  Numbers come from :mod:`helpers.context.health`; this module only
words and draws them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from helpers.present.display import amount, escape, percent
from helpers.present.i18n import t

__all__ = ["verdict_text", "checks_frame", "cliffs_frame", "cost_frame", "health_chart", "leadership_line"]


def _rho(x: float) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.2f}"


def verdict_text(ph: Any, language: str) -> str:
    """The verdict in one paragraph: does pay follow the work or the territory."""
    h = ph.health
    key = {"performance": "hc.verdict.performance", "territory": "hc.verdict.territory"}.get(h.verdict,
                                                                                              "hc.verdict.review")
    failed = [t(f"hc.check.{c.code}", language) for c in h.checks if not c.passed]
    text = t(key, language, rho_total=_rho(h.rho_total), rho_territory=_rho(h.rho_territory),
             n=len(ph.rows), failed="、".join(failed) if language == "zh" else ", ".join(failed))
    return text + " " + t("hc.settlement." + ph.settlement, language)


def _result(c: Any, language: str) -> str:
    v = c.values
    code = c.code
    if v.get("note"):
        return t(f"hc.note.{v['note']}", language)
    if code == "pay_follows_score":
        return t("hc.r.pay_follows_score", language, rho_total=_rho(v["rho_total"]),
                 rho_territory=_rho(v["rho_territory"]))
    if code in ("zero_share", "cap_share"):
        return t(f"hc.r.{code}", language, indicator=v["indicator"], share=percent(v["share"]),
                 limit=percent(v["limit"]))
    if code == "near_cliff":
        return t("hc.r.near_cliff", language, n=v["n"])
    if code == "cost":
        return t("hc.r.cost", language, cost=amount(v["cost"], "currency", language),
                 budget=amount(v["budget"], "currency", language), ratio=percent(v["ratio"]),
                 low=percent(v["low"]), high=percent(v["high"]))
    if code == "timing":
        return t("hc.r.timing", language, total=amount(v["total_abs"], "currency", language), share=percent(v["share"], 1),
                 limit=percent(v["limit"]))
    return ""


def checks_frame(ph: Any, language: str, names: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per check: what it asks, the result in words, passed or not, why it matters."""
    rows = []
    for c in ph.health.checks:
        res = _result(c, language)
        if names and "indicator" in c.values:
            res = res.replace(str(c.values["indicator"]), names.get(str(c.values["indicator"]), str(c.values["indicator"])))
        rows.append({t("hc.col.check", language): t(f"hc.check.{c.code}", language),
                     t("hc.col.result", language): res,
                     t("hc.col.passed", language): t("hc.pass" if c.passed else "hc.fail", language),
                     t("hc.col.why", language): t(f"hc.why.{c.code}", language)})
    return pd.DataFrame(rows)


def cost_frame(ph: Any, language: str) -> pd.DataFrame:
    """The plan's cost at 80 / 100 / 120 % of target against the budget, and what was paid."""
    c = ph.health.cost
    rows = [{t("hc.col.level", language): t("hc.level", language, a=percent(a)),
             t("hc.col.cost", language): r["cost"], t("hc.col.budget", language): r["budget"],
             t("hc.col.ratio", language): r["ratio"]} for a, r in c.iterrows()]
    paid = float(ph.rows["payout"].sum())
    rows.append({t("hc.col.level", language): t("hc.level.actual", language), t("hc.col.cost", language): paid,
                 t("hc.col.budget", language): ph.budget if ph.budget else np.nan,
                 t("hc.col.ratio", language): paid / ph.budget if ph.budget else np.nan})
    return pd.DataFrame(rows)


def cliffs_frame(ph: Any, language: str, names: pd.Series, ind_name: Any) -> pd.DataFrame:
    """Managers just short of a jump: a scoring curve's step or a pay rule."""
    rows = []
    for r in ph.score_cliffs.itertuples(index=False):
        rows.append({t("col.name", language): names.get(r.manager_id, r.manager_id),
                     t("hc.col.rule", language): t("hc.rule.curve", language, indicator=ind_name(r.indicator)),
                     t("hc.col.value", language): percent(r.attainment, 1), t("hc.col.edge", language): percent(r.edge),
                     t("hc.col.at_stake", language): t("hc.stake.points", language, a=f"{r.points:g}",
                                                         b=f"{r.points_at_edge:g}")})
    for r in ph.pay_cliffs.itertuples(index=False):
        pct = r.rule != "csat_responses"
        rows.append({t("col.name", language): names.get(r.manager_id, r.manager_id),
                     t("hc.col.rule", language): t(f"hc.rule.{r.rule}", language),
                     t("hc.col.value", language): percent(r.value, 1) if pct else f"{r.value:.0f}",
                     t("hc.col.edge", language): percent(r.edge) if pct else f"{r.edge:.0f}",
                     t("hc.col.at_stake", language): t(f"hc.stake.{r.rule}", language)})
    return pd.DataFrame(rows)


def health_chart(ph: Any, language: str) -> None:
    """Two panels: pay against the total score, pay against territory size (sales target)."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    d = ph.rows
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    scale = 1e4 if language == "zh" else 1e3
    unit = t("hc.axis.pay", language)
    for ax, col, label, rho in ((axes[0], "total", t("hc.axis.total", language), ph.health.rho_total),
                                (axes[1], "territory", t("hc.axis.territory", language), ph.health.rho_territory)):
        x = d[col] / (scale if col == "territory" else 1)
        ax.scatter(x, d["payout"] / scale, s=22, alpha=0.8, color=plotting.palette(2)[0 if col == "total" else 1])
        ax.set_xlabel(label)
        ax.set_title(t("hc.axis.rho", language, rho=_rho(rho)))
    axes[0].set_ylabel(unit)
    fig.suptitle(t("hc.chart", language))
    plotting.finish(fig)


def leadership_line(ph: Any, language: str) -> str:
    """One sentence for leadership."""
    h = ph.health
    key = {"performance": "hc.lead.performance", "territory": "hc.lead.territory"}.get(h.verdict, "hc.lead.review")
    failed = [t(f"hc.check.{c.code}", language) for c in h.checks if not c.passed]
    return t(key, language, rho_total=_rho(h.rho_total), rho_territory=_rho(h.rho_territory),
             failed=escape("、".join(failed) if language == "zh" else ", ".join(failed)))
