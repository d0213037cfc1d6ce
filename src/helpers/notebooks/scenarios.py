"""Notebook 03 (weighting scenarios): weight schemes, side-by-side ranks, robustness.

What the notebook shows, one call per cell.  The schemes are files
(:mod:`helpers.plan.weights`, read by :mod:`helpers.context.schemes`); the 0–100
scale, the weights each scheme resolves to and the team scores are
:mod:`helpers.core.schemes` (its module text states the rules); the methods are
:mod:`helpers.core.weighting`.
"""

from __future__ import annotations

import html

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from pandas.io.formats.style import Styler

from helpers.present.i18n import join
from helpers.present.display import escape, table
from helpers.errors import InputError, Problem
from helpers.kpis.indicators import Library
from helpers.plan.params import RunParams
from helpers.core.weighting import (
    CR_THRESHOLD,
    AHPResult,
    biggest_movers,
    direct_weights,
    rank_correlations,
    robustness,
)
from helpers.context.schemes import check_schemes, load_schemes, population_values
from helpers.context.workbook import TeamContext
from helpers.plan.weights import RobustnessSettings, Scheme
from helpers.context.health import company_health, share_health
from helpers.context.scores import company_scores, reviewed, share_scores, targets_wide
from helpers.present import health as PH
from helpers.core.schemes import Resolved, normalise, resolve_weights
from helpers.core.scorecard import score_table, totals

__all__ = ["Scenarios", "prepare", "workshop", "workshop_table", "check_inputs", "SHARED", "health_text",
           "health_table", "health_chart", "cost_table", "cliffs_table"]

#: Recommendation thresholds: a manager is "in the group" when P ≥ SURE, "on the
#: edge" when EDGE < P < SURE; two schemes "agree" when Kendall τ ≥ AGREE.
SURE = 0.9
EDGE = 0.1
AGREE = 0.7


# =========================================================================== schema


# =========================================================================== loading


# =========================================================================== population and scores


# =========================================================================== resolving weights


# =========================================================================== the notebook's data


@dataclass
class Scenarios:
    """Everything notebook 03 shows for one team and period.

    Every scheme is scored through the review's engine (:func:`helpers.core.scorecard.score_table`:
    attainment against the targets in force → scoring curve → weighted hard score,
    combined with the soft ratings), so the ranks under the plan's scheme are the
    ranks of the quarterly review."""

    ctx: TeamContext
    library: Library
    schemes: dict[str, Scheme]
    chosen: str                         # the scheme of the plan in force (scoring plan, else the params)
    resolved: dict[str, Resolved]
    population: int                     # managers in the company with data this period
    curve: pd.DataFrame                 # team managers × indicators with a target: curve scores
    dropped: dict[str, str]
    names: pd.Series                    # manager_id → name (team only)
    excluded: list[str]                 # team managers without a total score under the plan
    scores: pd.DataFrame                # team × schemes: total score
    coverage: pd.DataFrame              # team × schemes, weight_available
    ranks: pd.DataFrame                 # team × schemes: rank in the team (as the review ranks)
    correlations: pd.DataFrame | None
    movers: pd.DataFrame
    robust: pd.DataFrame | None
    settings: RobustnessSettings
    soft: pd.Series | None = None       # team managers' soft score (None: the plan has no soft part)
    split: float = 1.0                  # the plan's hard share of the total
    cs: Any = None                      # the period's company scores (plan, targets, curves)
    health: Any = None                  # the plan health check (company-wide, helpers.context.health)
    unusable: dict[str, str] = field(default_factory=dict)  # schemes the period's data cannot serve → why

    def t(self, key: str, **kw: Any) -> str:
        return self.ctx.t(key, **kw)

    @property
    def language(self) -> str:
        return self.ctx.language

    def label(self, sid: str) -> str:
        return self.schemes[sid].label(self.language)

    def ind(self, iid: str) -> str:
        return self.library.name(iid, self.language)

    @property
    def order(self) -> list[str]:
        """Scheme ids: the chosen one first, then the others by file name."""
        return [self.chosen] + [s for s in sorted(self.resolved) if s != self.chosen]


def prepare(ctx: TeamContext, params_file: str | Path | None = None, workspace: str | Path | None = None) -> Scenarios:
    """Load and validate the schemes, resolve them for the period, score the team under
    each through the review's engine, rank, correlate the rankings and run the
    robustness check around the plan's scheme."""
    params_file = params_file or getattr(ctx, "params_file", None)
    workspace = workspace or getattr(ctx, "workspace", None)
    if params_file is None:
        raise InputError(Problem("params_file", "needed to find the weight schemes", fix="pass params_file"))
    cs = company_scores(ctx, params_file, workspace, roster=None if ctx.team_id else ctx.roster)
    schemes, library = load_schemes(ctx.params, params_file)
    values = population_values(ctx, library, params_file, workspace).dropna(how="all")
    _, dropped = normalise(values, library)
    targets = targets_wide(cs)
    no_target = {i: "no_target" for i in values.columns if i not in targets.columns and i not in dropped}
    usable = {**dropped, **no_target}
    chosen = cs.scheme
    resolved, unusable = {}, {}
    for sid, s in schemes.items():
        try:
            resolved[sid] = resolve_weights(s, schemes, library, values, usable)
        except InputError as exc:  # a what-if scheme the period's data cannot serve is left out, and said
            if sid == chosen:
                raise
            unusable[sid] = exc.problems[0].what

    names = ctx.roster.set_index("manager_id")["name"]
    team = reviewed(ctx, cs)
    groups = ctx.roster.set_index("manager_id")["team_id"].reindex(pd.Index(team, name="manager_id"))
    soft = cs.soft.reindex(team)
    scores, cover, rank = {}, {}, {}
    curve = pd.DataFrame(index=team)
    for sid, r in resolved.items():
        ids = list(r.weights.index)
        res = score_table(values.reindex(team)[ids], targets.reindex(index=team, columns=ids), soft, library,
                          cs.plan, r.weights, groups, str(cs.plan_file), bases=cs.bases.reindex(team))
        scores[sid] = res["summary"]["total"]
        cover[sid] = res["summary"]["weight_available"]
        rank[sid] = res["summary"]["rank"]
        for i in ids:
            curve[i] = res["score"][i]
    scores_df, cover_df = pd.DataFrame(scores, index=team), pd.DataFrame(cover, index=team)
    no_data = scores_df[chosen].isna()
    excluded = [m for m in ctx.manager_ids if m not in team] + list(scores_df.index[no_data])
    keep = scores_df.index[~no_data]
    rank_df = pd.DataFrame(rank, index=team).loc[keep].astype("Int64")
    scores_df, cover_df = scores_df.loc[keep], cover_df.loc[keep]

    settings = schemes[chosen].spec.robustness
    split = float(cs.plan.split)
    sc = Scenarios(ctx, library, schemes, chosen, resolved, len(values), curve, usable, names, excluded,
                   scores_df, cover_df, rank_df, None, pd.DataFrame(), None, settings,
                   soft.mean(axis=1) if split < 1 and soft.shape[1] else None, split, cs,
                   company_health(ctx, params_file, workspace), unusable)
    sc.scores, sc.coverage, sc.ranks = sc.scores[sc.order], sc.coverage[sc.order], sc.ranks[sc.order]
    full = sc.ranks.dropna()  # the comparisons need a rank under every scheme
    varied = [c for c in sc.order if full[c].nunique() >= 2]
    if len(full) >= 3 and len(varied) >= 2:
        sc.correlations = rank_correlations(full[varied].astype(int))
    if len(full):
        sc.movers = biggest_movers(full.astype(int), k=len(full))
    if len(sc.ranks):
        w = resolved[chosen].weights
        offset = None if sc.soft is None else (1 - split) * sc.soft.reindex(sc.ranks.index)
        sc.robust = robustness(curve.loc[sc.ranks.index, list(w.index)], w, concentration=settings.concentration,
                               draws=settings.draws, top=settings.top, bottom=settings.bottom, seed=settings.seed,
                               missing="renormalise", scale=split if sc.soft is not None else 1.0, offset=offset)
    return sc


# =========================================================================== texts and tables


_join = join  # a list in running text (helpers.present.i18n.join)


def _sentences(parts: list[str], language: str) -> str:
    """Join notes or sentences: no spaces between Chinese sentences."""
    if not parts:
        return ""
    if language == "zh":
        return "；".join(parts) + "。"
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def intro_text(sc: Scenarios) -> Markdown:
    """What is compared, on which population, and which scheme is in use."""
    text = sc.t("ws.intro", n=len(sc.schemes), chosen=escape(sc.label(sc.chosen)), population=sc.population,
                team=len(sc.ranks), period=sc.ctx.period.label)
    if sc.excluded:
        text += "\n\n" + sc.t("ws.excluded", names=_join([escape(sc.names.get(m, m)) for m in sc.excluded], sc.language))
    return Markdown(text)


def scheme_notes(sc: Scenarios, sid: str) -> list[str]:
    """Plain-text notes on one resolved scheme (chosen, dropped indicators, population, CR)."""
    r = sc.resolved[sid]
    notes = []
    if sid == sc.chosen:
        notes.append(sc.t("ws.note.chosen"))
    if r.dropped:
        items = [sc.t("ws.note.dropped_item", name=sc.ind(k), reason=sc.t("ws.reason." + v)) for k, v in r.dropped.items()]
        notes.append(sc.t("ws.note.dropped", items=_join(items, sc.language)))
    if r.managers_used is not None:
        notes.append(sc.t("ws.note.population", used=r.managers_used, excluded=r.managers_excluded))
    if r.group is not None:
        notes.append(sc.t("ws.note.ahp", experts=len(r.experts), cr=f"{r.group.cr:.3f}"))
    return notes


def scheme_list(sc: Scenarios) -> Markdown:
    """One bullet per scheme: name, file, method, number of indicators, description, notes.
    (A list rather than a table: descriptions are sentences and need room.)"""
    lines = []
    for sid in sc.order:
        r = sc.resolved[sid]
        desc = r.scheme.spec.description
        head = sc.t("ws.scheme_item", name=escape(sc.label(sid)),
                    method=sc.t(f"ws.method.{r.scheme.method}"), n=len(r.weights))
        text = escape(getattr(desc, sc.language)) if desc else ""
        notes = _sentences([escape(n) for n in scheme_notes(sc, sid)], sc.language)
        lines.append(f"- {head}{text}" + (f" *{notes}*" if notes else ""))
    for sid, why in sc.unusable.items():
        reason = sc.t("ws.unusable.too_few") if "at least 2 usable indicators" in why else escape(why)
        lines.append("- " + sc.t("ws.unusable", name=escape(sc.schemes[sid].label(sc.language)),
                                 why=reason))
    return Markdown("\n".join(lines))


def _fraction(v: float) -> str:
    """A Saaty-scale value as people write it: 3, 1/3, 1 (else 3 significant digits)."""
    if v >= 1:
        return f"{v:.0f}" if abs(v - round(v)) < 1e-6 else f"{v:.3g}"
    inv = 1 / v
    return f"1/{inv:.0f}" if abs(inv - round(inv)) < 1e-6 else f"{v:.3g}"


def _verdict(sc: Scenarios, res: AHPResult) -> str:
    n = len(res.weights)
    if n <= 2:
        return sc.t("ws.verdict.small")
    key = "ws.verdict.ok" if res.consistent else ("ws.verdict.weak" if res.cr <= 2 * CR_THRESHOLD else "ws.verdict.bad")
    return sc.t(key, cr=f"{res.cr:.3f}", threshold=f"{CR_THRESHOLD:.2f}")


def _matrix_table(sc: Scenarios, res: AHPResult) -> Styler:
    m = res.matrix
    labels = [sc.ind(i) for i in m.index]
    df = pd.DataFrame([[_fraction(v) for v in row] for row in m.to_numpy()], columns=labels)
    df.insert(0, "", labels)
    df[sc.t("ws.col.weight")] = res.weights.to_numpy()
    return table(df, {sc.t("ws.col.weight"): "ratio"}, sc.language)


def _worst_table(sc: Scenarios, res: AHPResult, k: int = 3) -> Styler:
    wj = res.worst_judgements(k)
    df = pd.DataFrame({
        sc.t("ws.col.pair"): [f"{sc.ind(r)} : {sc.ind(c)}" for r, c in zip(wj["row"], wj["col"])],
        sc.t("ws.col.given"): [_fraction(v) for v in wj["given"]],
        sc.t("ws.col.implied"): [f"{v:.2f}" for v in wj["implied"]],
        sc.t("ws.col.suggested"): [_fraction(v) for v in wj["suggested"]],
    })
    return table(df, None, sc.language)


def show_judgements(sc: Scenarios) -> Markdown | None:
    """Every AHP scheme: each expert's matrix with CR and a verdict, the judgements
    most worth revising when inconsistent, and the group result."""
    ahp_ids = [sid for sid in sc.order if sc.resolved[sid].group is not None]
    if not ahp_ids:
        return Markdown(sc.t("ws.no_ahp"))
    for sid in ahp_ids:
        r = sc.resolved[sid]
        for expert, weight, res in r.experts:
            display(Markdown(sc.t("ws.expert_head", scheme=escape(sc.label(sid)), expert=escape(expert.label(sc.language)),
                                  weight=f"{weight:g}", verdict=_verdict(sc, res),
                                  lam=f"{res.lambda_max:.3f}", ci=f"{res.ci:.3f}")))
            display(_matrix_table(sc, res))
            if not res.consistent:
                display(Markdown(sc.t("ws.revise")))
                display(_worst_table(sc, res))
        display(Markdown(sc.t("ws.group_head", scheme=escape(sc.label(sid)), verdict=_verdict(sc, r.group))))
        display(_matrix_table(sc, r.group))
    return None


def weights_frame(sc: Scenarios) -> pd.DataFrame:
    """Indicators × schemes, used weights (NaN = not in the scheme or dropped)."""
    w = pd.DataFrame({sid: sc.resolved[sid].weights for sid in sc.order})
    first = sc.resolved[sc.chosen].weights
    order = list(first.sort_values(ascending=False).index) + sorted(
        [i for i in w.index if i not in first.index], key=lambda i: -w.loc[i].max())
    return w.reindex(order)


def weights_chart(sc: Scenarios) -> None:
    """Heatmap: indicators × schemes, the weight of each (in %)."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    w = weights_frame(sc)
    fig, ax = plt.subplots(figsize=(1.25 * w.shape[1] + 3.2, 0.42 * w.shape[0] + 1.6))
    plotting.heatmap(w * 100, ax=ax, annot=True, fmt=".0f", cmap="Blues", cbar=False, linewidths=0.5,
                     linecolor="white", vmin=0, vmax=max(40.0, float(np.nanmax(w.to_numpy())) * 100))
    ax.set_xticklabels([sc.label(s) for s in w.columns], rotation=30, ha="right")
    ax.set_yticklabels([sc.ind(i) for i in w.index], rotation=0)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(sc.t("ws.weights_chart"))
    ax.grid(False)
    ax.xaxis.tick_top()
    plotting.finish(fig)


def weights_note(sc: Scenarios) -> Markdown:
    """Which indicators were dropped this period and why (or that none were)."""
    used = {k for r in sc.resolved.values() for k in list(r.requested.index) + list(r.dropped)}
    dropped = {k: v for k, v in sc.dropped.items() if k in used}
    if not dropped:
        return Markdown(sc.t("ws.dropped_none"))
    lines = [sc.t("ws.dropped_some")]
    lines += [sc.t("ws.dropped_line", name=escape(sc.ind(k)), reason=sc.t("ws.reason." + v)) for k, v in dropped.items()]
    return Markdown("\n".join(lines))


def rank_table(sc: Scenarios) -> Styler | Markdown:
    """Managers × schemes: rank under each scheme, score under the chosen one, spread."""
    if sc.ranks.empty:
        return Markdown(sc.t("ws.no_managers"))
    r = sc.ranks.sort_values(sc.chosen, kind="stable")
    df = pd.DataFrame({sc.t("col.name"): sc.names.reindex(r.index).to_numpy()})
    score_col = sc.t("ws.col.score", scheme=sc.label(sc.chosen))
    df[score_col] = sc.scores.loc[r.index, sc.chosen].to_numpy()
    for sid in sc.order:
        df[sc.label(sid)] = r[sid].to_numpy()
    spread = sc.t("ws.col.spread")
    df[spread] = (r.max(axis=1) - r.min(axis=1)).to_numpy()
    units = {score_col: "score", spread: "count", **{sc.label(s): "count" for s in sc.order}}
    low = sc.coverage.loc[r.index, sc.chosen]
    if (low < 0.999).any():
        cov = sc.t("ws.col.coverage")
        df[cov] = low.to_numpy()
        units[cov] = "ratio"
    return table(df, units, sc.language)


def movers_text(sc: Scenarios) -> Markdown:
    """Who moves most across the schemes, in one or two sentences."""
    if sc.movers.empty or int(sc.movers["spread"].max()) == 0:
        return Markdown(sc.t("ws.movers_none"))
    top = sc.movers[sc.movers["spread"] == sc.movers["spread"].max()]
    parts = []
    for mid, row in top.head(3).iterrows():
        best_s = [sc.label(s) for s in sc.order if sc.ranks.loc[mid, s] == row["best"]][0]
        worst_s = [sc.label(s) for s in sc.order if sc.ranks.loc[mid, s] == row["worst"]][0]
        parts.append(sc.t("ws.mover", name=escape(sc.names.get(mid, mid)), best=int(row["best"]),
                          worst=int(row["worst"]), best_scheme=escape(best_s), worst_scheme=escape(worst_s)))
    moved = int((sc.movers["spread"] > 0).sum())
    return Markdown(sc.t("ws.movers_head", moved=moved, n=len(sc.ranks)) + " " + " ".join(parts))


def correlation_frame(sc: Scenarios) -> pd.DataFrame | None:
    """Schemes × schemes: Kendall τ below the diagonal, Spearman ρ above (text)."""
    if sc.correlations is None:
        return None
    ids = list(dict.fromkeys(list(sc.correlations["scheme_a"]) + list(sc.correlations["scheme_b"])))
    ids = [s for s in sc.order if s in ids]
    cells = pd.DataFrame("—", index=ids, columns=ids, dtype=object)
    for r in sc.correlations.itertuples(index=False):
        i, j = sorted([r.scheme_a, r.scheme_b], key=ids.index)
        cells.loc[j, i] = f"{r.tau:.2f}"   # lower triangle: τ
        cells.loc[i, j] = f"{r.rho:.2f}"   # upper triangle: ρ
    cells.index = [sc.label(s) for s in ids]
    cells.columns = [sc.label(s) for s in ids]
    return cells


def correlation_table(sc: Scenarios) -> Styler | Markdown:
    """The rank correlation matrix as a report table (or why there is none)."""
    cells = correlation_frame(sc)
    if cells is None:
        return Markdown(sc.t("ws.corr_none"))
    df = cells.reset_index().rename(columns={"index": sc.t("ws.col.scheme")})
    return table(df, None, sc.language)


def robustness_chart(sc: Scenarios) -> None:
    """Per manager: rank interval under perturbed weights, and P(top)/P(bottom)."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    if sc.robust is None or sc.robust.empty:
        return
    rb = sc.robust.sort_values(["base_rank", "rank_p50"], kind="stable")
    names = sc.names.reindex(rb.index).to_numpy()
    y = np.arange(len(rb))
    n = len(rb)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 0.42 * n + 1.9), sharey=True,
                                 gridspec_kw={"width_ratios": [3, 2]})
    c_range, c_mid, c_top, c_bot = plotting.palette(4)
    ax.hlines(y, rb["rank_min"], rb["rank_max"], color="0.75", lw=2, label=sc.t("ws.rob.minmax"))
    ax.hlines(y, rb["rank_p5"], rb["rank_p95"], color=c_range, lw=7, alpha=0.8, label=sc.t("ws.rob.p90"))
    ax.plot(rb["base_rank"], y, "o", color="black", ms=6, label=sc.t("ws.rob.base"))
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    ax.set_xlim(0.5, n + 0.5)
    ax.set_xticks(range(1, n + 1))
    ax.invert_yaxis()
    ax.set_xlabel(sc.t("ws.rob.rank_axis"))
    ax.set_title(sc.t("ws.rob.interval_title"))
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.6 / (0.42 * n + 0.6)), ncol=3)
    h = 0.38
    bx.barh(y - h / 2, rb["p_top"], height=h, color=c_top, label=sc.t("ws.rob.p_top", k=rb.attrs["top"]))
    bx.barh(y + h / 2, rb["p_bottom"], height=h, color=c_bot, label=sc.t("ws.rob.p_bottom", k=rb.attrs["bottom"]))
    bx.set_xlim(0, 1)
    bx.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    bx.set_title(sc.t("ws.rob.prob_title"))
    bx.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.6 / (0.42 * n + 0.6)), ncol=2)
    fig.suptitle(sc.t("ws.rob.title", scheme=sc.label(sc.chosen), kappa=f"{sc.settings.concentration:g}",
                      draws=f"{sc.settings.draws:,}"), fontweight="bold")
    plotting.finish(fig)


def robustness_table(sc: Scenarios) -> Styler | Markdown:
    """Per manager: base rank, 90 % rank range, P(top group), P(bottom group)."""
    if sc.robust is None or sc.robust.empty:
        return Markdown(sc.t("ws.no_managers"))
    rb = sc.robust.sort_values(["base_rank", "rank_p50"], kind="stable")
    p_top = sc.t("ws.col.p_top", k=rb.attrs["top"])
    p_bot = sc.t("ws.col.p_bottom", k=rb.attrs["bottom"])
    df = pd.DataFrame({
        sc.t("col.name"): sc.names.reindex(rb.index).to_numpy(),
        sc.t("ws.col.base_rank"): rb["base_rank"].to_numpy(),
        sc.t("ws.col.range90"): [f"{a}–{b}" if a != b else f"{a}" for a, b in zip(rb["rank_p5"], rb["rank_p95"])],
        p_top: rb["p_top"].to_numpy(),
        p_bot: rb["p_bottom"].to_numpy(),
    })
    return table(df, {sc.t("ws.col.base_rank"): "count", p_top: "ratio", p_bot: "ratio"}, sc.language)


# =========================================================================== recommendation


def recommendation_facts(sc: Scenarios) -> dict[str, Any]:
    """The numbers the recommendation is written from (also used by the tests)."""
    facts: dict[str, Any] = {"chosen": sc.chosen}
    if sc.correlations is not None:
        c = sc.correlations
        mine = c[(c["scheme_a"] == sc.chosen) | (c["scheme_b"] == sc.chosen)].copy()
        mine["other"] = np.where(mine["scheme_a"] == sc.chosen, mine["scheme_b"], mine["scheme_a"])
        if len(mine):
            mine = mine.sort_values("tau", kind="stable")
            facts["closest"] = (mine.iloc[-1]["other"], float(mine.iloc[-1]["tau"]))
            facts["farthest"] = (mine.iloc[0]["other"], float(mine.iloc[0]["tau"]))
            facts["agreeing"] = int((mine["tau"] >= AGREE).sum())
            facts["others"] = len(mine)
    if sc.robust is not None and not sc.robust.empty:
        rb = sc.robust
        facts["sure_top"] = list(rb.index[rb["p_top"] >= SURE])
        facts["edge"] = list(rb.index[((rb["p_top"] > EDGE) & (rb["p_top"] < SURE))
                                      | ((rb["p_bottom"] > EDGE) & (rb["p_bottom"] < SURE))])
        facts["sure_bottom"] = list(rb.index[rb["p_bottom"] >= SURE])
        facts["top_k"], facts["bottom_k"] = rb.attrs["top"], rb.attrs["bottom"]
    facts["inconsistent"] = [(sid, e.label(sc.language), res.cr) for sid in sc.order for e, _, res in sc.resolved[sid].experts
                             if not res.consistent]
    facts["group_inconsistent"] = [(sid, sc.resolved[sid].group.cr) for sid in sc.order
                                   if sc.resolved[sid].group is not None and not sc.resolved[sid].group.consistent]
    return facts


def recommendation(sc: Scenarios) -> Markdown:
    """A paragraph written from the numbers: agreement between schemes, who moves,
    how robust the ranking is around the chosen scheme, and what to do."""
    f = recommendation_facts(sc)
    lang = sc.language

    def who(ids: list[str]) -> str:
        return _join([escape(sc.names.get(m, m)) for m in ids], lang)

    parts = []
    if "closest" in f:
        parts.append(sc.t("ws.rec.agreement", chosen=escape(sc.label(sc.chosen)), agreeing=f["agreeing"],
                          others=f["others"], closest=escape(sc.label(f["closest"][0])), tau_close=f"{f['closest'][1]:.2f}",
                          farthest=escape(sc.label(f["farthest"][0])), tau_far=f"{f['farthest'][1]:.2f}"))
    if not sc.movers.empty and int(sc.movers["spread"].max()) > 0:
        mid = sc.movers.index[0]
        parts.append(sc.t("ws.rec.mover", name=escape(sc.names.get(mid, mid)), best=int(sc.movers.iloc[0]["best"]),
                          worst=int(sc.movers.iloc[0]["worst"])))
    if "edge" in f:
        parts.append(sc.t("ws.rec.robust", kappa=f"{sc.settings.concentration:g}", k=f["top_k"],
                          sure=who(f["sure_top"]) if f["sure_top"] else sc.t("ws.rec.nobody"),
                          n_sure=len(f["sure_top"])))
        if f["edge"]:
            parts.append(sc.t("ws.rec.edge", names=who(f["edge"]), n=len(f["edge"])))
    if "edge" in f and not f["edge"] and f.get("agreeing", 0) == f.get("others", 0):
        parts.append(sc.t("ws.rec.keep", chosen=escape(sc.label(sc.chosen))))
    elif "edge" in f and f["edge"]:
        parts.append(sc.t("ws.rec.review"))
    else:
        parts.append(sc.t("ws.rec.discuss", chosen=escape(sc.label(sc.chosen))))
    for sid, name, cr in f["inconsistent"]:
        parts.append(sc.t("ws.rec.inconsistent", expert=escape(name), scheme=escape(sc.label(sid)), cr=f"{cr:.3f}"))
    for sid, cr in f["group_inconsistent"]:
        parts.append(sc.t("ws.rec.group_inconsistent", scheme=escape(sc.label(sid)), cr=f"{cr:.3f}"))
    return Markdown(("" if lang == "zh" else " ").join(parts))


# =========================================================================== artifacts


def weights_export(sc: Scenarios) -> pd.DataFrame:
    """``weights.csv``: one row per scheme × indicator (requested and used weight)."""
    rows = []
    for sid in sc.order:
        r = sc.resolved[sid]
        for iid in dict.fromkeys(list(r.requested.index) + list(r.weights.index)):
            rows.append({"scheme": sid, "method": r.scheme.method, "indicator": iid,
                         "requested_weight": float(r.requested.get(iid, np.nan)),
                         "weight": float(r.weights.get(iid, 0.0)),
                         "dropped": r.dropped.get(iid, ""), "chosen": sid == sc.chosen})
    return pd.DataFrame(rows, columns=["scheme", "method", "indicator", "requested_weight", "weight", "dropped", "chosen"])


def ranks_export(sc: Scenarios) -> pd.DataFrame:
    """``scenario_ranks.csv``: one row per manager × scheme (total score and rank in the
    team, computed as the quarterly review computes them; under the plan's scheme the
    rank is ``rank_team`` of ``scorecard.csv``)."""
    cols = ["manager_id", "name", "scheme", "score", "rank", "weight_available", "chosen"]
    if sc.ranks.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for sid in sc.order:
        for mid in sc.ranks.index:
            rows.append({"manager_id": mid, "name": sc.names.get(mid, ""), "scheme": sid,
                         "score": float(sc.scores.loc[mid, sid]),
                         "rank": int(sc.ranks.loc[mid, sid]) if pd.notna(sc.ranks.loc[mid, sid]) else None,
                         "weight_available": float(sc.coverage.loc[mid, sid]), "chosen": sid == sc.chosen})
    return pd.DataFrame(rows, columns=cols)


def save(sc: Scenarios) -> None:
    """Write ``weights.csv`` and ``scenario_ranks.csv`` beside the report."""
    sc.ctx.save_csv(weights_export(sc), "weights.csv")
    sc.ctx.save_csv(ranks_export(sc), "scenario_ranks.csv")


# =========================================================================== workshop mode


def workshop_table(sc: Scenarios, weights: dict[str, float] | pd.Series) -> pd.DataFrame:
    """Scores and ranks of the team under ``weights`` (any positive scale), through the
    review's engine (the same curve scores and soft ratings), with the change against
    the plan's rank (positive = moves up).  Indicators without a target are left out."""
    w = direct_weights(weights, "workshop")
    w = w[(w > 0) & w.index.isin(sc.curve.columns)]
    w = w / w.sum()
    team = sc.ranks.index
    soft = sc.cs.soft.reindex(team) if sc.cs is not None else pd.DataFrame(index=team)
    d = totals(sc.curve.loc[team, list(w.index)], w, soft, sc.cs.plan, source="workshop")
    r = d["rank"]
    base = sc.ranks[sc.chosen]
    out = pd.DataFrame({
        sc.t("col.name"): sc.names.reindex(d.index).to_numpy(),
        sc.t("ws.col.score", scheme=sc.t("ws.workshop.label")): d["total"].to_numpy(),
        sc.t("ws.col.rank"): r.to_numpy(),
        sc.t("ws.col.base_rank"): base.reindex(d.index).to_numpy(),
        sc.t("ws.col.change"): (base.reindex(d.index) - r).to_numpy(),
    }, index=d.index)
    return out.sort_values(sc.t("ws.col.rank"), kind="stable")


def workshop(sc: Scenarios):
    """ipywidgets for a live session with leadership: one slider per indicator of the
    chosen scheme; scores and ranks update as the sliders move (weights are scaled
    to 100 % automatically).  Building the widget needs no front end, so the
    notebook still runs under papermill; the report hides this cell."""
    import ipywidgets as widgets

    base = sc.resolved[sc.chosen].weights
    sliders = {iid: widgets.FloatSlider(value=round(float(v) * 100, 1), min=0, max=60, step=1,
                                        description=sc.ind(iid), continuous_update=False, readout_format=".0f",
                                        style={"description_width": "180px"}, layout=widgets.Layout(width="520px"))
               for iid, v in base.items()}
    shares = widgets.HTML()
    out = widgets.Output()

    def update(_: Any = None) -> None:
        values = {k: s.value for k, s in sliders.items()}
        total = sum(values.values())
        out.outputs = ()
        if total <= 0 or sc.ranks.empty:
            shares.value = escape(sc.t("ws.workshop.zero"))
            return
        shares.value = escape(_join([f"{sc.ind(k)} {v / total:.0%}" for k, v in values.items()], sc.language))
        units = {sc.t("ws.col.score", scheme=sc.t("ws.workshop.label")): "score", sc.t("ws.col.change"): "points"}
        out.append_display_data(table(workshop_table(sc, values), units, sc.language))

    for s in sliders.values():
        s.observe(update, names="value")
    reset = widgets.Button(description=sc.t("ws.workshop.reset"))

    def on_reset(_: Any) -> None:
        for iid, s in sliders.items():
            s.value = round(float(base[iid]) * 100, 1)

    reset.on_click(on_reset)
    update()
    head = widgets.HTML(html.escape(sc.t("ws.workshop.help", scheme=sc.label(sc.chosen))))
    box = widgets.VBox([head, *sliders.values(), reset, shares, out])
    box.sliders = sliders  # for tests and scripting
    box.output = out
    return box


# ======================================================================================
# what the run needs to know (read by helpers.run.runner; the notebook's metadata names this module)
# ======================================================================================


def check_inputs(params: RunParams, params_file: str | Path, ds: Any) -> list[Problem]:
    """The weight schemes this notebook compares."""
    return check_schemes(params, params_file)


SHARED = {"scores": share_scores, "health": share_health}
"""Company-wide results this notebook reads, each with the function that prepares it once per run."""


# =========================================================================== plan health check


def health_text(sc: Scenarios) -> Markdown:
    """The plan health check's verdict: does pay follow the work or the territory."""
    return Markdown(PH.verdict_text(sc.health, sc.language))


def health_table(sc: Scenarios) -> Styler:
    """The six checks: result, passed or not, why it matters."""
    names = {i: sc.ind(i) for i in sc.library.ids()}
    df = PH.checks_frame(sc.health, sc.language, names)
    return table(df, None, sc.language).set_properties(subset=list(df.columns[[1, 3]]), **{"white-space": "normal"})


def health_chart(sc: Scenarios) -> None:
    """Pay against the total score and against territory size, every manager of the company."""
    PH.health_chart(sc.health, sc.language)


def cost_table(sc: Scenarios) -> Styler:
    """The plan's cost if everyone reached 80 / 100 / 120 % of the sales target, and what was paid."""
    df = PH.cost_frame(sc.health, sc.language)
    cols = list(df.columns)
    return table(df, {cols[1]: "currency", cols[2]: "currency", cols[3]: "ratio"}, sc.language)


def cliffs_table(sc: Scenarios) -> Styler | Markdown:
    """How many managers of the company are just short of a step (of a scoring curve or
    of a pay rule), and which of them are in this team (a team's report names only its own)."""
    from types import SimpleNamespace

    ph = sc.health
    n_all = len(ph.score_cliffs) + len(ph.pay_cliffs)
    if not n_all:
        return Markdown(sc.t("ws.cliffs_none"))
    mine = set(sc.names.index)
    own = SimpleNamespace(score_cliffs=ph.score_cliffs[ph.score_cliffs["manager_id"].isin(mine)],
                          pay_cliffs=ph.pay_cliffs[ph.pay_cliffs["manager_id"].isin(mine)])
    df = PH.cliffs_frame(own, sc.language, sc.names, sc.ind)
    display(Markdown(sc.t("ws.cliffs_count", n=n_all, k=len(df))))
    return table(df, None, sc.language) if len(df) else Markdown("")
