"""Leadership summary (notebook 05): the period across all teams, the only cross-team view.

What leadership reads once a quarter (or month), built from the same scores the team
reports show (:func:`helpers.context.scores.score_team` on the company's context, so a manager's
total, grade and pay are the ones of their team report):

* company, region and team roll-up: managers, scores, grades, sales against target,
  growth on the previous period (环比) and a year ago (同比), payouts;
* distributions: sales attainment against the threshold / target / excellence levels
  of the scoring curve, total scores per team;
* biggest movers: total score now against the previous period;
* payouts against the budget of the incentive plan;
* target fairness: the target plan backtested over past periods, teams and regions
  whose targets are systematically too easy or too hard (:func:`helpers.core.targets.fairness_flags`);
* risks: key customers lost in the period, complaint spikes by team.

Roll-ups are *like for like*: a team's figures for every period are those of the
managers reviewed with the team in this period (the same people then and now), so
growth is not blurred by movers.  Individual payouts appear only when
``leadership.individual_pay`` of the params is true; team and region totals always.
"""

from __future__ import annotations

import html

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from pandas.io.formats.style import Styler

from helpers.data.responsibility import responsible_at, spells_from
from helpers.context.schemes import check_schemes
from helpers.context.health import company_health, share_health
from helpers.context.record import closed_results, snapshot
from helpers.context.scores import Quarterly, check_scoring, company_scores, score_team, share_scores
from helpers.present import health as PH
from helpers.context.workbook import save_xlsx
from helpers.core.scorecard import curve_of
from helpers.context.targets import check_plan, company_targets, share_targets
from helpers.core import scoring
from helpers.core.attainment import NO_DATA
from helpers.present.display import escape, fmt, half_up, money_scale, table
from helpers.present.i18n import join
from helpers.kpis.measures import kpi_name
from helpers.errors import InputError

__all__ = [
    "rollup", "reach_shares", "movers", "complaint_spikes", "key_losses", "budget_status", "Leadership", "build",
]

ROLLUP_KPIS = ("sales", "profit", "new_customers", "complaints")


# =========================================================================== pure calculations


def rollup(rows: pd.DataFrame, by: str | Sequence[str] | None) -> pd.DataFrame:
    """Aggregate per-manager rows to teams, regions or the company (``by=None``).

    ``rows``: one row per roster manager with ``status`` (``ok``, ``incomplete`` or
    no data), ``total``, ``grade``, ``payout``, ``sales``, ``sales_target`` and the
    other columns of :data:`ROLLUP_KPIS` plus ``sales_prev`` and ``sales_year_ago``.

    Per group:

    * ``managers`` on the roster, ``scored`` (a total score), ``mean_total`` (mean of
      the scored totals);
    * sums of sales, profit, new customers, complaints and payouts (NaN = no data,
      counted as nothing: a sum over no values is NaN, not 0);
    * ``sales_target`` = Σ of every roster manager's target in force (with or without data:
      the company's row is the company target of notebook 01); ``sales_attainment`` =
      Σ sales ÷ Σ sales target over the managers with both;
    * ``growth_prev`` = Σ sales ÷ Σ sales_prev − 1 and ``growth_year`` likewise, over
      the managers with both periods (like for like);
    * ``grade_<g>``: managers per grade.
    """
    keys = [by] if isinstance(by, str) else list(by or [])
    d = rows.copy()
    if not keys:
        d["_all"] = "all"
        keys = ["_all"]
    g = d.groupby(keys, sort=True, dropna=False)

    def ssum(col: str) -> pd.Series:
        return g[col].sum(min_count=1)

    def ratio(num: str, den: str) -> pd.Series:
        both = d[num].notna() & d[den].notna() & (d[den] > 0)
        n = d[num].where(both).groupby([d[k] for k in keys], dropna=False).sum(min_count=1)
        m = d[den].where(both).groupby([d[k] for k in keys], dropna=False).sum(min_count=1)
        return n / m

    out = pd.DataFrame({
        "managers": g.size(),
        "scored": g["total"].count(),
        "mean_total": g["total"].mean(),
        **{k: ssum(k) for k in ROLLUP_KPIS},
        "sales_target": ssum("sales_target"),
        "sales_attainment": ratio("sales", "sales_target"),
        "growth_prev": ratio("sales", "sales_prev") - 1,
        "growth_year": ratio("sales", "sales_year_ago") - 1,
        "payout": ssum("payout"),
    })
    grades = sorted(x for x in d["grade"].dropna().unique() if x != NO_DATA)
    for gr in grades:
        out[f"grade_{gr}"] = (d["grade"] == gr).groupby([d[k] for k in keys], dropna=False).sum()
    out = out.reset_index()
    return out.drop(columns=["_all"]) if "_all" in out.columns else out


def reach_shares(attainment: pd.Series, levels: Sequence[float] = (0.8, 1.0, 1.2)) -> pd.Series:
    """Share of managers (with an attainment) at or above each level.

    The rule of thumb for well-set targets (target-setting issue; Alexander Group and
    similar sales-compensation surveys): about 90 % reach the threshold, 60–65 % the
    target and 10 % excellence.  Returns level → share (NaN when nobody has an attainment).
    """
    a = pd.to_numeric(attainment, errors="coerce").astype(float).dropna()
    return pd.Series({lv: (float((a >= lv).mean()) if len(a) else math.nan) for lv in levels}, dtype=float)


def movers(current: pd.Series, previous: pd.Series, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Biggest risers and fallers: change = current total − previous total.

    Only managers scored in both periods.  Returns (risers, fallers), each at most
    ``n`` rows with ``manager_id, current, previous, change``; risers by change
    descending, fallers ascending; equal changes by manager id (deterministic).
    """
    both = pd.DataFrame({"current": current, "previous": previous}).dropna()
    both["change"] = both["current"] - both["previous"]
    both.index.name = "manager_id"
    both = both.reset_index()
    up = both[both["change"] > 0].sort_values(["change", "manager_id"], ascending=[False, True]).head(n)
    down = both[both["change"] < 0].sort_values(["change", "manager_id"], ascending=[True, True]).head(n)
    return up.reset_index(drop=True), down.reset_index(drop=True)


def complaint_spikes(counts: pd.DataFrame, period: str, history: int = 4, ratio: float = 1.5,
                     min_extra: int = 3) -> pd.DataFrame:
    """Teams whose complaints jumped in ``period``.

    ``counts``: complaints per ``team`` and ``period`` (periods sortable as text,
    missing = 0).  baseline = mean over the ``history`` periods before ``period``
    (those present in the table); spike when current ≥ ``ratio`` × baseline **and**
    current − baseline ≥ ``min_extra`` (so 1 → 2 complaints is not a spike).  Returns
    ``team, current, baseline, ratio, spike`` for every team.
    """
    wide = counts.pivot_table(index="team", columns="period", values="complaints", aggfunc="sum", fill_value=0)
    before = [p for p in sorted(wide.columns) if p < period][-history:]
    cur = wide[period] if period in wide.columns else pd.Series(0, index=wide.index)
    base = wide[before].mean(axis=1) if before else pd.Series(math.nan, index=wide.index)
    r = cur / base.where(base > 0)
    spike = (cur >= ratio * base) & (cur - base >= min_extra)
    out = pd.DataFrame({"team": wide.index, "current": cur.to_numpy(dtype=float), "baseline": base.to_numpy(dtype=float),
                        "ratio": r.to_numpy(dtype=float), "spike": spike.to_numpy(dtype=bool)})
    return out.sort_values(["spike", "ratio"], ascending=[False, False], na_position="last").reset_index(drop=True)


def key_losses(customers: pd.DataFrame, orders: pd.DataFrame, start: pd.Timestamp,
               end_exclusive: pd.Timestamp, managers: pd.DataFrame | None = None,
               assignments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Key accounts (segment ``key``) lost in [start, end_exclusive), with the sales
    they brought in the 365 days before they were lost (what is at stake).  With
    ``managers``, ``manager_id`` is the manager responsible on the day of the loss (the
    largest share; empty when nobody was), as the KPIs count it.

    Returns ``customer_id, manager_id, lost_date, sales_12m``, largest first.
    """
    c = customers[(customers["segment"] == "key") & customers["lost_date"].notna()]
    c = c[(c["lost_date"] >= start) & (c["lost_date"] < end_exclusive)]
    cols = ["customer_id", "manager_id", "lost_date", "sales_12m"]
    if c.empty:
        return pd.DataFrame(columns=cols)
    o = orders[orders["customer_id"].isin(c["customer_id"])].merge(
        c[["customer_id", "lost_date"]], on="customer_id")
    o = o[(o["date"] < o["lost_date"]) & (o["date"] >= o["lost_date"] - pd.Timedelta(days=365))]
    s = o.groupby("customer_id")["amount"].sum()
    out = c[["customer_id", "manager_id", "lost_date"]].copy()
    if managers is not None:
        who = responsible_at(spells_from(customers, managers, assignments), c["customer_id"].to_numpy(),
                             c["lost_date"].to_numpy())
        main = who.sort_values(["event", "share"], ascending=[True, False], kind="stable").drop_duplicates("event")
        out["manager_id"] = main.set_index("event")["manager_id"].reindex(range(len(c))).to_numpy()
    out["sales_12m"] = s.reindex(out["customer_id"]).fillna(0.0).to_numpy()
    return out.sort_values(["sales_12m", "customer_id"], ascending=[False, True]).reset_index(drop=True)[cols]


def budget_status(payout: float, budget_per_month: float | None, months: int) -> dict[str, float]:
    """Payout against the variable-pay budget of the period (budget per month × months).

    Returns ``budget``, ``payout``, ``used`` (payout ÷ budget) and ``gap`` (budget −
    payout; negative = over budget); NaN entries when the plan has no budget.
    """
    if budget_per_month is None:
        return {"budget": math.nan, "payout": payout, "used": math.nan, "gap": math.nan}
    b = float(budget_per_month) * months
    return {"budget": b, "payout": payout, "used": payout / b, "gap": b - payout}


# =========================================================================== the summary


MAX_TEAMS_CHARTED = 20
"""Up to this many teams, the charts show one bar or box per team and the table lists
every team; beyond (a company of hundreds or thousands of branches), the charts show
the teams' spread per region and the table the best and worst teams, every team being
in ``leadership_summary.xlsx``."""
TEAMS_LISTED = 10  # best and worst teams listed when there are too many to list all
MAX_ROWS_LISTED = 30  # risk and fairness tables: the most severe rows, the rest in the Excel file


def _capped(ls: Leadership, df: pd.DataFrame, units: dict[str, str], sheet: str) -> Styler:
    """A report table of ``df`` (rows already in order of severity): at most
    :data:`MAX_ROWS_LISTED` rows, with a caption naming the Excel sheet holding them all."""
    if len(df) <= MAX_ROWS_LISTED:
        return table(df, units, ls.lang)
    sty = table(df.head(MAX_ROWS_LISTED), units, ls.lang)
    return sty.set_caption(html.escape(ls.t("ls.rows.caption", n=MAX_ROWS_LISTED, total=len(df),
                                            sheet=ls.t(f"xl.sheet.{sheet}"))))  # the sheet's name as the workbook has it


@dataclass
class Leadership:
    """Everything notebook 05 shows (built by :func:`build`)."""

    ctx: Any
    q: Quarterly           # every manager: scores, grades within the team, pay
    managers: pd.DataFrame           # one row per roster manager: team, region, scores, KPIs
    teams: pd.DataFrame              # roll-up per team
    regions: pd.DataFrame            # roll-up per region
    company: pd.DataFrame            # one row
    levels: tuple[float, float, float]
    shares: pd.Series
    risers: pd.DataFrame | None
    fallers: pd.DataFrame | None
    movers_note: str
    budget: dict[str, float]
    fairness: pd.DataFrame
    fairness_note: str
    losses: pd.DataFrame
    spikes: pd.DataFrame
    health: Any = None               # the plan health check (helpers.context.health)

    def t(self, key: str, **kw: Any) -> str:
        return self.ctx.t(key, **kw)

    @property
    def lang(self) -> str:
        return self.ctx.language

    def team_name(self, team: str) -> str:
        return self.ctx.team_names.get(team, team)

    @property
    def many_teams(self) -> bool:
        """Too many teams for one bar each (:data:`MAX_TEAMS_CHARTED`)."""
        return len(self.teams) > MAX_TEAMS_CHARTED


def _kpi(actuals: pd.DataFrame, label: str, kpi: str, segment: str = "all") -> pd.Series:
    a = actuals[(actuals["period"] == label) & (actuals["kpi"] == kpi) & (actuals["segment"] == segment)]
    return a.drop_duplicates("manager_id").set_index("manager_id")["value"].astype(float)


def _manager_rows(ctx: Any, q: Quarterly) -> pd.DataFrame:
    s = q.summary
    r = ctx.roster.set_index("manager_id")
    rows = pd.DataFrame({"team_id": s["team_id"], "region": r["region"].reindex(s.index), "name": s["name"],
                         "status": s["status"], "total": s["total"], "grade": s["grade"], "rank_team": s["rank"],
                         "rank_company": s["rank_company"], "payout": s["payout"]}, index=s.index)
    a, p = ctx.actuals, ctx.period
    for k in ROLLUP_KPIS:
        rows[k] = _kpi(a, p.label, k).reindex(rows.index)
    # every roster manager's target in force (also those without data): Σ = the company's target
    tl = q.cs.targets_long
    sales_t = tl[tl["indicator"] == "sales"].drop_duplicates("manager_id").set_index("manager_id")["target"]
    rows["sales_target"] = sales_t.reindex(rows.index).astype(float) if len(sales_t) else math.nan
    rows["sales_attainment"] = q.attainment["sales"].reindex(rows.index) if "sales" in q.attainment else math.nan
    rows["sales_prev"] = _kpi(a, p.previous().label, "sales").reindex(rows.index)  # as closed, when closed
    rows["sales_year_ago"] = _kpi(a, p.year_ago().label, "sales").reindex(rows.index)
    no = rows["status"] == NO_DATA
    rows.loc[no, "payout"] = math.nan
    return rows


def _previous_totals(ctx: Any, params_file: Path, workspace: str) -> tuple[pd.Series | None, str]:
    """Every manager's total score of the previous period — as closed when the record has
    it (never recomputed from today's data), else computed — or None and why not."""
    closed = closed_results(ctx, ctx.period.previous().label)
    if closed is not None:
        return closed.grades.set_index("manager_id")["total"].astype(float), ""
    prev = dataclasses.replace(ctx, period=ctx.period.previous())
    try:
        cs = company_scores(prev, params_file, workspace)
    except InputError as exc:
        return None, ctx.t("ls.movers.none", period=prev.period.label, why=exc.problems[0].what)
    return cs.summary["total"], ""


def _fairness(ctx: Any, params_file: Path, workspace: str) -> tuple[pd.DataFrame, str]:
    """Backtest of the target plan: fairness flags by region and team, per indicator."""
    from helpers.core import targets as tg

    try:
        engine, _, _, bt, _ = company_targets(ctx, params_file, workspace)
    except InputError as exc:
        return pd.DataFrame(), exc.problems[0].what
    if bt.empty:
        return pd.DataFrame(), ctx.t("ls.fair.none")
    fs = engine.plan.backtest.fairness
    frames = []
    for iid in dict.fromkeys(bt["indicator"]):
        d = bt[bt["indicator"] == iid]
        for by in ("region", "team"):
            f = tg.fairness_flags(d, by=by, low=fs.low, high=fs.high, last_n=fs.last_n, min_periods=fs.min_periods)
            frames.append(f.rename(columns={by: "group"}).assign(indicator=iid, level=by))
    out = pd.concat(frames, ignore_index=True)
    return out, ""


def _complaint_counts(ctx: Any, rows: pd.DataFrame) -> pd.DataFrame:
    a = ctx.actuals
    c = a[(a["kpi"] == "complaints") & (a["segment"] == "all") & a["manager_id"].isin(rows.index)]
    c = c.assign(team=rows["team_id"].reindex(c["manager_id"]).to_numpy())
    return c.groupby(["team", "period"], as_index=False)["value"].sum().rename(columns={"value": "complaints"})


def build(ctx: Any, params_file: str | Path | None = None, workspace: str | Path | None = None) -> Leadership:
    """The leadership summary of ``ctx`` (the company's context: ``open_team(team="")``)."""
    if ctx.team_id:
        raise ValueError("the leadership summary needs the company's context: open_team(params_file, team='')")
    params_file = Path(params_file or ctx.params_file)
    workspace = str(workspace if workspace is not None else (ctx.workspace or ""))
    lp = ctx.params.leadership
    cs = company_scores(ctx, params_file, workspace, roster=ctx.roster)
    q = score_team(ctx, params_file, workspace, with_review=False, company=cs, statements=False)
    rows = _manager_rows(ctx, q)
    teams = rollup(rows, ["region", "team_id"])
    regions = rollup(rows, "region")
    company = rollup(rows, None)

    curve = curve_of(cs.plan, "sales") if "sales" in cs.weights.index else None
    levels = (curve.threshold, curve.target, curve.cap) if isinstance(curve, scoring.ScoringCurve) \
        else (0.8, 1.0, 1.2)
    shares = reach_shares(rows.loc[rows["status"] != NO_DATA, "sales_attainment"], levels)

    prev, note = _previous_totals(ctx, params_file, workspace)
    risers = fallers = None
    if prev is not None:
        risers, fallers = movers(rows["total"], prev.reindex(rows.index), lp.movers)

    budget = budget_status(float(rows["payout"].sum()), q.incentive_plan.budget.variable_pay_per_month
                           if q.incentive_plan.budget else None, len(ctx.period.months))
    fair, fair_note = _fairness(ctx, params_file, workspace)

    cust, orders = ctx.tables.get("customers"), ctx.tables.get("orders")
    losses = key_losses(cust, orders, ctx.period.start, ctx.period.end_exclusive, ctx.tables.get("managers"),
                        ctx.tables.get("assignments")) if cust is not None else pd.DataFrame()
    if len(losses):
        losses["team_id"] = rows["team_id"].reindex(losses["manager_id"]).to_numpy()
    spikes = complaint_spikes(_complaint_counts(ctx, rows), ctx.period.label, lp.spike_history,
                              lp.complaint_spike_ratio, lp.complaint_spike_min) \
        if "complaints" in ctx.tables else pd.DataFrame()
    return Leadership(ctx, q, rows, teams, regions, company, levels, shares, risers, fallers, note, budget,
                      fair, fair_note, losses, spikes, company_health(ctx, params_file, workspace))


# =========================================================================== what the notebook shows


def key_messages(ls: Leadership) -> list[dict[str, Any]]:
    """The period's headline as data: three to five messages, each ``{"code", "level",
    ...values}`` (numbers and ids, no words), in this order:

    * ``attainment`` — the company's sales attainment, its growth on the previous period
      and a year ago (the direction), and how many teams reached their target;
    * ``risk`` — the biggest risk: the key accounts lost (count, sales at stake, the
      largest one), else the teams with a complaint spike, else the team furthest below
      its sales target (``none`` when every team reached it);
    * ``budget`` — variable pay against the budget (``no_budget`` when the plan has none);
    * ``fairness`` — only when the backtest flags a region or team: how many, and the one
      furthest from target;
    * ``decisions`` — what leadership has to decide: the overrun to approve, the targets
      to adjust before they are published, the plan checks not passed, open disputes.

    ``level`` is ``ok``, ``warn`` or ``alert`` (how the line is marked)."""
    c = ls.company.iloc[0]
    out: list[dict[str, Any]] = []
    teams = ls.teams[ls.teams["sales_attainment"].notna()]
    out.append({"code": "attainment", "level": "ok" if c["sales_attainment"] >= 1 and not c["growth_prev"] < 0 else "warn",
                "attainment": float(c["sales_attainment"]), "growth_prev": float(c["growth_prev"]),
                "growth_year": float(c["growth_year"]), "sales": float(c["sales"]),
                "teams_reached": int((teams["sales_attainment"] >= 1).sum()), "teams": int(len(teams)),
                "mean_total": float(c["mean_total"])})

    lo, sp = ls.losses, ls.spikes
    spiking = [str(x) for x in sp.loc[sp["spike"], "team"]] if len(sp) else []
    if len(lo):
        top = lo.sort_values(["sales_12m", "customer_id"], ascending=[False, True]).iloc[0]
        out.append({"code": "risk", "kind": "losses", "level": "alert", "lost": int(len(lo)),
                    "at_stake": float(lo["sales_12m"].sum()), "customer": str(top["customer_id"]),
                    "manager_id": str(top["manager_id"]) if pd.notna(top["manager_id"]) else "",
                    "team": str(top["team_id"]) if pd.notna(top.get("team_id")) else "",
                    "sales_12m": float(top["sales_12m"]), "spikes": spiking})
    elif spiking:
        out.append({"code": "risk", "kind": "spikes", "level": "alert", "spikes": spiking})
    elif len(teams):
        worst = teams.sort_values(["sales_attainment", "team_id"]).iloc[0]
        below = bool(worst["sales_attainment"] < 1)
        out.append({"code": "risk", "kind": "lowest_team" if below else "none", "level": "warn" if below else "ok",
                    "team": str(worst["team_id"]), "attainment": float(worst["sales_attainment"])})

    b = ls.budget
    if math.isnan(b["budget"]):
        out.append({"code": "budget", "kind": "no_budget", "level": "ok", "payout": float(b["payout"])})
    else:
        at_target = math.nan  # what the plan costs when everyone is exactly on target (the health check's cost)
        cost = ls.health.health.cost if ls.health is not None else None
        if cost is not None and 1.0 in cost.index and "ratio" in cost.columns:
            at_target = float(cost.loc[1.0, "ratio"])
        out.append({"code": "budget", "kind": "over" if b["gap"] < 0 else "within",
                    "level": "alert" if b["gap"] < 0 else "ok", "payout": float(b["payout"]),
                    "budget": float(b["budget"]), "used": float(b["used"]), "gap": float(b["gap"]),
                    "at_target": at_target, "attainment": float(c["sales_attainment"])})

    f = ls.fairness
    flagged = f[f["flag"] != ""] if len(f) else f
    if len(flagged):
        far = flagged.assign(dist=(flagged["median"].astype(float) - 1).abs()) \
            .sort_values(["dist", "level", "group"], ascending=[False, True, True]).iloc[0]
        groups = flagged[["level", "group"]].drop_duplicates()
        out.append({"code": "fairness", "level": "warn", "regions": int((groups["level"] == "region").sum()),
                    "regions_of": int(f.loc[f["level"] == "region", "group"].nunique()),
                    "teams_flagged": int((groups["level"] == "team").sum()),
                    "teams_of": int(f.loc[f["level"] == "team", "group"].nunique()),
                    "level_of": str(far["level"]), "group": str(far["group"]), "indicator": str(far["indicator"]),
                    "median": float(far["median"]), "over": str(far["flag"]).endswith("over target"),
                    "periods_flagged": int(far["periods_over"] if str(far["flag"]).endswith("over target")
                                           else far["periods_under"]), "periods": int(far["periods"])})

    decisions: list[dict[str, Any]] = []
    if not math.isnan(b["budget"]) and b["gap"] < 0:
        decisions.append({"what": "overrun", "gap": float(-b["gap"])})
    if len(flagged):
        groups = flagged[["level", "group"]].drop_duplicates()
        decisions.append({"what": "targets", "regions": int((groups["level"] == "region").sum()),
                          "teams": int((groups["level"] == "team").sum())})
    failed = [ch.code for ch in ls.health.health.checks if not ch.passed] if ls.health is not None else []
    if failed:
        decisions.append({"what": "plan", "checks": failed})
    disputes = snapshot(ls.ctx).disputes
    open_d = int((disputes["status"] == "open").sum()) if len(disputes) else 0
    if open_d:
        decisions.append({"what": "disputes", "n": open_d})
    out.append({"code": "decisions", "level": "alert" if decisions else "ok", "items": decisions})
    return out


def _message_text(ls: Leadership, m: dict[str, Any]) -> str:
    lang, t = ls.lang, ls.t
    cur = lambda x: fmt(x, "currency", lang)  # noqa: E731 - local shorthand
    rat = lambda x: fmt(x, "ratio", lang)  # noqa: E731
    code = m["code"]
    if code == "attainment":
        key = "ls.head.attainment.up" if m["growth_prev"] >= 0 else "ls.head.attainment.down"
        return t(key, att=rat(m["attainment"]), sales=cur(m["sales"]), prev=_signed(m["growth_prev"], lang),
                 year=_signed(m["growth_year"], lang), reached=m["teams_reached"], teams=m["teams"],
                 mean=fmt(m["mean_total"], "score", lang))
    if code == "risk":
        kind = m["kind"]
        if kind == "losses":
            name = ls.managers["name"].get(m["manager_id"], "") if m["manager_id"] else ""
            text = t("ls.head.risk.losses", lost=m["lost"], stake=cur(m["at_stake"]), customer=escape(m["customer"]),
                     team=escape(ls.team_name(m["team"])) if m["team"] else "—", name=escape(str(name)) or "—",
                     top=cur(m["sales_12m"]))
            if m["spikes"]:
                text += ("" if lang == "zh" else " ") + t("ls.head.risk.also_spikes", teams=_names(ls, m["spikes"]))
            return text
        if kind == "spikes":
            return t("ls.head.risk.spikes", teams=_names(ls, m["spikes"]))
        return t(f"ls.head.risk.{kind}", team=escape(ls.team_name(m["team"])), att=rat(m["attainment"]))
    if code == "budget":
        if m["kind"] == "no_budget":
            return t("ls.head.budget.none", payout=cur(m["payout"]))
        text = t(f"ls.head.budget.{m['kind']}", payout=cur(m["payout"]), budget=cur(m["budget"]),
                 used=rat(m["used"]), gap=cur(abs(m["gap"])), over=rat(m["used"] - 1))
        if m["kind"] == "over" and m.get("at_target", math.nan) <= 1 and m["attainment"] > 1:
            # on target the plan fits the budget: the overrun is what over-attainment earned
            text += ("" if lang == "zh" else " ") + t("ls.head.budget.why_over", at_target=rat(m["at_target"]),
                                                       att=rat(m["attainment"]))
        return text
    if code == "fairness":
        group = ls.team_name(m["group"]) if m["level_of"] == "team" else m["group"]
        return t("ls.head.fairness.over" if m["over"] else "ls.head.fairness.under", regions=m["regions"],
                 regions_of=m["regions_of"], teams=m["teams_flagged"], teams_of=m["teams_of"],
                 level=t(f"ls.level.{m['level_of']}"), group=escape(group),
                 kpi=escape(ls.q.library.name(m["indicator"], lang)), median=rat(m["median"]),
                 k=m["periods_flagged"], periods=m["periods"])
    items = m["items"]
    if not items:
        return t("ls.head.decisions.none")
    sep = "；" if lang == "zh" else "; "
    parts = []
    for i, d in enumerate(items, 1):
        if d["what"] == "overrun":
            parts.append(t("ls.head.decide.overrun", i=i, gap=cur(d["gap"])))
        elif d["what"] == "targets":
            parts.append(t("ls.head.decide.targets", i=i, regions=d["regions"], teams=d["teams"]))
        elif d["what"] == "plan":
            names = [t(f"hc.check.{c}") for c in d["checks"]]
            parts.append(t("ls.head.decide.plan", i=i, checks=join(names, lang)))
        else:
            parts.append(t("ls.head.decide.disputes", i=i, n=d["n"]))
    return t("ls.head.decisions", items=sep.join(parts))


def _names(ls: Leadership, teams: Sequence[str]) -> str:
    return join((escape(ls.team_name(x)) for x in teams), ls.lang)


def headline(ls: Leadership) -> Markdown:
    """The first thing leadership reads: the period's key messages (:func:`key_messages`),
    one line each, led by a bold phrase that says how it stands."""
    lines = [f"- {_message_text(ls, m)}" for m in key_messages(ls)]  # the bold lead of each line says how it stands
    return Markdown("\n".join(lines))


def _grades(ls: Leadership) -> list[str]:
    return [c.removeprefix("grade_") for c in ls.company.columns if c.startswith("grade_")]


def intro(ls: Leadership) -> Markdown:
    """The headline: managers, mean score, sales against target and growth, payouts against budget."""
    c = ls.company.iloc[0]
    lang = ls.lang
    text = ls.t("ls.intro", period=ls.ctx.period.label, teams=len(ls.teams), regions=len(ls.regions),
                managers=int(c["managers"]), scored=int(c["scored"]), mean=fmt(c["mean_total"], "score", lang),
                sales=fmt(c["sales"], "currency", lang), att=fmt(c["sales_attainment"], "ratio", lang),
                prev=_signed(c["growth_prev"], lang), year=_signed(c["growth_year"], lang),
                payout=fmt(c["payout"], "currency", lang))
    b = ls.budget
    if not math.isnan(b["budget"]):
        key = "ls.budget.over" if b["gap"] < 0 else "ls.budget.within"
        text += " " + ls.t(key, budget=fmt(b["budget"], "currency", lang), used=fmt(b["used"], "ratio", lang),
                           gap=fmt(abs(b["gap"]), "currency", lang))
    return Markdown(text)


def _signed(x: float, lang: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return fmt(math.nan, "ratio", lang)
    return f"{x:+.1%}"


def _rollup_table(ls: Leadership, df: pd.DataFrame, first: list[tuple[str, str]]) -> Styler:
    lang = ls.lang
    cols: dict[str, Any] = {label: df[c].to_numpy() for label, c in first}
    spec = [("ls.col.managers", "managers", "count"), ("ls.col.mean_total", "mean_total", "score"),
            ("kpi:sales", "sales", "currency"), ("ls.col.attainment", "sales_attainment", "ratio"),
            ("ls.col.growth_prev", "growth_prev", "change"), ("ls.col.growth_year", "growth_year", "change"),
            ("kpi:new_customers", "new_customers", "count"), ("kpi:complaints", "complaints", "count"),
            ("ls.col.payout", "payout", "currency")]
    units = {}
    for key, c, unit in spec:
        label = kpi_name(key[4:], lang) if key.startswith("kpi:") else ls.t(key)
        cols[label] = df[c].to_numpy(dtype=float)
        units[label] = unit
    grades = _grades(ls)
    if grades:
        cols[ls.t("ls.col.grades")] = [" / ".join(str(int(r[f"grade_{g}"])) for g in grades) for _, r in df.iterrows()]
    out = pd.DataFrame(cols)
    if grades:
        out = out.rename(columns={ls.t("ls.col.grades"): f"{ls.t('ls.col.grades')} ({'/'.join(grades)})"})
    return table(out, units, lang)


def region_table(ls: Leadership) -> Styler:
    """Company and regions: managers, mean score, sales, attainment, growth, payouts, grades."""
    df = pd.concat([ls.regions, ls.company.assign(region=ls.t("report.company"))], ignore_index=True)
    return _rollup_table(ls, df, [(ls.t("report.region"), "region")])


def team_table(ls: Leadership) -> Styler:
    """Every team, grouped by region; with many teams (:attr:`Leadership.many_teams`) the
    :data:`TEAMS_LISTED` best and worst by sales attainment, with a caption saying so."""
    df = ls.teams.assign(name=[ls.team_name(x) for x in ls.teams["team_id"]])
    first = [(ls.t("report.region"), "region"), (ls.t("report.team"), "name")]
    if not ls.many_teams:
        return _rollup_table(ls, df, first)
    ranked = df.sort_values(["sales_attainment", "team_id"], ascending=[False, True], na_position="last")
    ranked = ranked[ranked["sales_attainment"].notna()]
    n = min(TEAMS_LISTED, len(ranked) // 2)
    picked = pd.concat([ranked.head(n).assign(band=ls.t("ls.teams.best")),
                        ranked.tail(n).assign(band=ls.t("ls.teams.worst"))], ignore_index=True)
    sty = _rollup_table(ls, picked, [(ls.t("ls.col.band"), "band"), *first])
    return sty.set_caption(html.escape(ls.t("ls.teams.caption", n=n, total=len(df))))


def _spread(ax: Any, d: pd.DataFrame, by: str, order: list[str], col: str, size: float = 3) -> None:
    """Box and points of ``col`` per ``by`` group (one point per row of ``d``), groups in ``order``."""
    import seaborn as sns

    from helpers.present import plotting

    d = d[d[col].notna()]
    sns.boxplot(data=d, y=by, x=col, order=order, ax=ax, color="#e8eef5", fliersize=0)
    with plotting.same_jitter():  # the same data, the same picture
        sns.stripplot(data=d, y=by, x=col, order=order, ax=ax, size=size, alpha=0.8, color=plotting.palette(2)[1])
    ax.set_ylabel("")


def _spread_by_region(ls: Leadership, ax: Any, d: pd.DataFrame, col: str) -> None:
    """:func:`_spread` per region, regions in roll-up order."""
    _spread(ax, d, "region", list(dict.fromkeys(ls.regions["region"])), col)


def team_chart(ls: Leadership) -> None:
    """Teams side by side: sales attainment and mean total score (bars coloured by
    region); with many teams, the spread of the teams within each region (one point per
    team)."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    if ls.many_teams:
        d = ls.teams.assign(sales_attainment=ls.teams["sales_attainment"].astype(float).clip(upper=2.0))
        fig, axes = plt.subplots(1, 2, figsize=(11, max(2.6, 0.42 * len(ls.regions) + 1.4)), sharey=True)
        for ax, col, title, ref in ((axes[0], "sales_attainment", "ls.chart.attainment", 1.0),
                                    (axes[1], "mean_total", "ls.chart.mean_total", 100.0)):
            _spread_by_region(ls, ax, d, col)
            ax.axvline(ref, color="grey", ls="--", lw=1)
            ax.set_title(ls.t(title) + ls.t("ls.chart.per_team_suffix"))
            ax.set_xlabel("")
        axes[0].xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        plotting.finish(fig)
        return
    d = ls.teams.sort_values(["region", "team_id"]).reset_index(drop=True)
    labels = [ls.team_name(x) for x in d["team_id"]]
    regions = list(dict.fromkeys(d["region"]))
    colours = dict(zip(regions, plotting.palette(len(regions))))
    fig, axes = plt.subplots(1, 2, figsize=(11, max(2.6, 0.42 * len(d) + 1.2)), sharey=True)
    for ax, col, title, ref in ((axes[0], "sales_attainment", "ls.chart.attainment", 1.0),
                                (axes[1], "mean_total", "ls.chart.mean_total", 100.0)):
        vals = d[col].to_numpy(dtype=float)
        ax.barh(labels, np.nan_to_num(vals), color=[colours[r] for r in d["region"]])
        for y, v in enumerate(vals):
            if not math.isnan(v):
                ax.text(v, y, f" {v:.0%}" if col == "sales_attainment" else f" {v:.1f}", va="center", fontsize=9)
        ax.axvline(ref, color="grey", ls="--", lw=1)
        ax.set_title(ls.t(title))
        ax.set_xlim(0, max(ref * 1.3, float(np.nanmax(vals)) * 1.15) if np.isfinite(vals).any() else ref * 1.3)
        if col == "sales_attainment":
            ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    axes[0].invert_yaxis()
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[r]) for r in regions]
    axes[1].legend(handles, regions, title=ls.t("report.region"), fontsize=8, loc="lower right")
    plotting.finish(fig)


def distribution_text(ls: Leadership) -> Markdown:
    """Shares of managers reaching the threshold, the target and excellence."""
    lo, mid, hi = ls.levels
    s = ls.shares
    return Markdown(ls.t("ls.dist.text", lo=f"{lo:.0%}", mid=f"{mid:.0%}", hi=f"{hi:.0%}",
                         s_lo=fmt(s.get(lo), "ratio", ls.lang), s_mid=fmt(s.get(mid), "ratio", ls.lang),
                         s_hi=fmt(s.get(hi), "ratio", ls.lang)))


def distribution_chart(ls: Leadership) -> None:
    """Left: sales attainment of every scored manager with the three levels; right: total
    scores per team (box and points)."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    d = ls.managers[ls.managers["status"] != NO_DATA]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1, 1.2]})
    att = d["sales_attainment"].astype(float).replace([np.inf, -np.inf], np.nan).dropna()
    if len(att):
        axes[0].hist(att.clip(upper=2.0), bins=20, color=plotting.palette(1)[0], edgecolor="white")
        for lv, style in zip(ls.levels, (":", "--", "-.")):
            axes[0].axvline(lv, color="black", ls=style, lw=1)
            axes[0].text(lv, 1.0, f"{lv:.0%}", fontsize=8, ha="center", va="bottom",  # above the bars
                         transform=axes[0].get_xaxis_transform())
        axes[0].xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    axes[0].set_title(ls.t("ls.chart.attainment_hist"), pad=14)
    axes[0].set_xlabel(ls.t("ls.col.attainment"))
    axes[0].set_ylabel(ls.t("ls.col.managers"))
    s = d[d["total"].notna()].assign(team=lambda x: [ls.team_name(t) for t in x["team_id"]])
    if ls.many_teams and len(s):  # too many teams for a box each: the managers' totals per region
        _spread_by_region(ls, axes[1], s, "total")
    elif len(s):
        _spread(axes[1], s, "team", [ls.team_name(t) for t in sorted(s["team_id"].unique())], "total", size=4)
    axes[1].axvline(100, color="grey", ls="--", lw=1)
    axes[1].set_title(ls.t("ls.chart.total_by_region" if ls.many_teams else "ls.chart.total_by_team"))
    axes[1].set_xlabel(ls.t("ls.col.total"))  # one dot per manager: their total, not a mean
    axes[1].set_ylabel("")
    plotting.finish(fig)


def movers_tables(ls: Leadership) -> Markdown | Styler:
    """Biggest risers and fallers of the total score on the previous period (one table)."""
    if ls.risers is None:
        return Markdown(ls.movers_note)
    parts = []
    for kind, df in (("ls.movers.up", ls.risers), ("ls.movers.down", ls.fallers)):
        assert df is not None
        parts.append(pd.DataFrame({
            ls.t("ls.col.direction"): ls.t(kind),
            ls.t("report.team"): [ls.team_name(x) for x in ls.managers["team_id"].reindex(df["manager_id"])],
            ls.t("col.name"): ls.managers["name"].reindex(df["manager_id"]).to_numpy(),
            ls.t("ls.col.previous"): df["previous"].to_numpy(dtype=float),
            ls.t("ls.col.current"): df["current"].to_numpy(dtype=float),
            # the change between the two totals as shown (to one decimal), so the row adds up on the page
            ls.t("ls.col.change"): [float(half_up(c, 1) - half_up(p, 1)) for c, p in zip(df["current"], df["previous"])],
        }))
    out = pd.concat(parts, ignore_index=True)
    if out.empty:
        return Markdown(ls.t("ls.movers.empty"))
    return table(out, {ls.t("ls.col.previous"): "score", ls.t("ls.col.current"): "score",
                       ls.t("ls.col.change"): "points"}, ls.lang)


def payout_chart(ls: Leadership) -> None:
    """Payouts per team (bars) and, when the plan has a budget, the company total against it."""
    import matplotlib.pyplot as plt

    from helpers.present import plotting

    if ls.many_teams:  # one bar per region
        d = ls.regions
        labels = [str(x) for x in d["region"]]
    else:
        d = ls.teams.sort_values(["region", "team_id"])
        labels = [ls.team_name(x) for x in d["team_id"]]
    b = ls.budget
    has_budget = not math.isnan(b["budget"])
    fig, axes = plt.subplots(1, 2 if has_budget else 1, figsize=(11 if has_budget else 7, 3.4), squeeze=False,
                             gridspec_kw={"width_ratios": [2.2, 1]} if has_budget else None)
    ax = axes[0][0]
    vals = d["payout"].to_numpy(dtype=float) / money_scale(ls.lang)
    ax.bar(labels, np.nan_to_num(vals), color=plotting.palette(1)[0])
    for x, v in enumerate(vals):
        ax.text(x, v, f"{v:,.0f}", ha="center", va="bottom", fontsize=8)
    ax.set_title(ls.t("ls.chart.payout_by_region" if ls.many_teams else "ls.chart.payout_by_team"))
    ax.set_ylabel(ls.t("ls.axis.money"))
    ax.tick_params(axis="x", labelsize=8, rotation=30)
    if has_budget:
        ax2 = axes[0][1]
        k = money_scale(ls.lang)
        ax2.bar([ls.t("ls.budget.label"), ls.t("ls.col.payout")], [b["budget"] / k, b["payout"] / k],
                color=["#cccccc", plotting.palette(2)[1]])
        ax2.text(1, b["payout"] / k, f"{b['used']:.0%}", ha="center", va="bottom", fontsize=10, fontweight="bold")
        ax2.set_title(ls.t("ls.chart.budget"))
        ax2.set_ylabel(ls.t("ls.axis.money"))
    plotting.finish(fig)


def fairness_table(ls: Leadership) -> Markdown | Styler:
    """Regions and teams whose backtested targets are systematically too easy or too hard:
    one table of regions and one of teams (one row type per table), furthest from target first."""
    f = ls.fairness
    if f.empty:
        return Markdown(ls.t("ls.fair.none_why", why=escape(ls.fairness_note)))
    flagged = f[f["flag"] != ""]
    if flagged.empty:
        return Markdown(ls.t("ls.fair.all_ok", n=f.loc[f["level"] == "team", "group"].nunique()))
    lib = ls.q.library
    labels = {"systematically over target": ls.t("ls.fair.over"), "systematically under target": ls.t("ls.fair.under")}
    shown: Markdown | Styler = Markdown("")
    for level in ("region", "team"):
        part = flagged[flagged["level"] == level]
        display(Markdown(f"**{ls.t('ls.fair.regions' if level == 'region' else 'ls.fair.teams')}**"))
        if part.empty:
            shown = Markdown(ls.t("ls.fair.ok_level", level=ls.t(f"ls.level.{level}")))
        else:
            gap = (part["median"].astype(float) - 1).abs()
            part = part.loc[gap.sort_values(ascending=False, kind="stable").index]  # furthest from target first
            name = ls.t("report.region" if level == "region" else "report.team")
            df = pd.DataFrame({
                name: [ls.team_name(g) if level == "team" else g for g in part["group"]],
                ls.t("col.kpi"): [lib.name(i, ls.lang) for i in part["indicator"]],
                ls.t("ls.col.median_att"): part["median"].to_numpy(dtype=float),
                ls.t("ls.col.periods"): [f"{o} / {u} / {n}" for o, u, n in zip(part["periods_over"],
                                                                             part["periods_under"], part["periods"])],
                ls.t("ls.col.verdict"): [labels.get(x, x) for x in part["flag"]],
            })
            shown = _capped(ls, df, {ls.t("ls.col.median_att"): "ratio"}, "fairness")
        if level == "region":
            display(shown)
    return shown


def losses_table(ls: Leadership) -> Markdown | Styler:
    """Key accounts lost in the period, by team and manager, with their sales of the last 12 months."""
    lo = ls.losses
    if "customers" not in ls.ctx.tables:
        return Markdown(ls.t("ls.risk.no_customers"))
    if lo.empty:
        return Markdown(ls.t("ls.risk.no_losses"))
    lo = lo.sort_values("sales_12m", ascending=False, kind="stable")  # the biggest losses first
    df = pd.DataFrame({
        ls.t("report.team"): [ls.team_name(x) for x in lo["team_id"]],
        ls.t("col.name"): ls.managers["name"].reindex(lo["manager_id"]).to_numpy(),
        ls.t("ls.col.customer"): lo["customer_id"].to_numpy(),
        ls.t("ls.col.lost_date"): [d.date().isoformat() for d in lo["lost_date"]],
        ls.t("ls.col.sales_12m"): lo["sales_12m"].to_numpy(dtype=float),
    })
    return _capped(ls, df, {ls.t("ls.col.sales_12m"): "currency"}, "key_losses")


def spikes_table(ls: Leadership) -> Markdown | Styler:
    """Complaints per team this period against the average of the previous periods; spikes first."""
    sp = ls.spikes
    if sp.empty:
        return Markdown(ls.t("ls.risk.no_complaints"))
    lp = ls.ctx.params.leadership
    df = pd.DataFrame({
        ls.t("report.team"): [ls.team_name(x) for x in sp["team"]],
        ls.t("ls.col.current"): sp["current"].to_numpy(dtype=float),
        ls.t("ls.col.baseline", n=lp.spike_history): sp["baseline"].to_numpy(dtype=float),
        ls.t("ls.col.ratio"): [("—" if math.isnan(r) else f"{r:.1f}×") for r in sp["ratio"]],
    })
    if sp["spike"].any():  # the column only when some team has a spike (never an empty column)
        df[ls.t("ls.col.flag")] = [ls.t("ls.risk.spike") if x else "" for x in sp["spike"]]
    return _capped(ls, df, {ls.t("ls.col.current"): "count", ls.t("ls.col.baseline", n=lp.spike_history): "score"},
                   "complaints")


def risks_text(ls: Leadership) -> Markdown:
    """One sentence: key accounts lost and the teams with a complaint spike."""
    lp = ls.ctx.params.leadership
    n_lost = len(ls.losses)
    at_stake = float(ls.losses["sales_12m"].sum()) if n_lost else 0.0
    spiking = [ls.team_name(x) for x in ls.spikes.loc[ls.spikes["spike"], "team"]] if len(ls.spikes) else []
    sep = "、" if ls.lang == "zh" else ", "
    return Markdown(ls.t("ls.risk.text", lost=n_lost, stake=fmt(at_stake, "currency", ls.lang),
                         spikes=sep.join(escape(x) for x in spiking) if spiking else ls.t("ls.risk.none"),
                         ratio=f"{lp.complaint_spike_ratio:g}", extra=lp.complaint_spike_min, n=lp.spike_history))


def pay_table(ls: Leadership) -> Markdown | Styler:
    """Each manager's score, grade and payout, only when the params allow individual pay."""
    if not ls.ctx.params.leadership.individual_pay:
        return Markdown(ls.t("ls.pay.hidden"))
    d = ls.managers[ls.managers["status"] != NO_DATA].sort_values(["team_id", "rank_team"])
    df = pd.DataFrame({
        ls.t("report.team"): [ls.team_name(x) for x in d["team_id"]],
        ls.t("col.name"): d["name"].to_numpy(),
        ls.t("ls.col.mean_total"): d["total"].to_numpy(dtype=float),
        ls.t("ls.col.grade"): d["grade"].to_numpy(),
        ls.t("ls.col.payout"): d["payout"].to_numpy(dtype=float),
    })
    return table(df, {ls.t("ls.col.mean_total"): "score", ls.t("ls.col.payout"): "currency"}, ls.lang)


def record_note(ls: Leadership) -> Markdown:
    """Which comparison periods were read from the record (as closed) and which were computed."""
    snap = snapshot(ls.ctx)
    used = [x for x in (ls.ctx.period.previous().label, ls.ctx.period.year_ago().label) if x in snap.history]
    key = "ls.record.closed" if used else "ls.record.none"
    return Markdown(ls.t(key, periods=", ".join(used)))


def signoff_text(ls: Leadership) -> Markdown | Styler:
    """Sign-off status (签字确认) of the period: per team, how many managers signed their
    statement, and who refused (from the record: the HR file or ``kpi-workbook signoff``)."""
    snap = snapshot(ls.ctx)
    rows = ls.managers[ls.managers["status"] != NO_DATA]
    so = snap.signoffs.set_index("manager_id")["status"] if len(snap.signoffs) else pd.Series(dtype=str)
    st = so.reindex(rows.index).fillna("pending")
    n, signed, refused = len(rows), int((st == "signed").sum()), int((st == "refused").sum())
    text = ls.t("ls.signoff.line", signed=signed, n=n, refused=refused, pending=n - signed - refused)
    if signed == n or signed + refused == 0:  # all signed, or nothing recorded yet: one line says it
        return Markdown(text)
    display(Markdown(text))
    df = pd.DataFrame({"team": rows["team_id"], "status": st})
    g = df.groupby("team", sort=True)["status"]
    out = pd.DataFrame({ls.t("report.team"): [ls.team_name(x) for x in g.size().index],
                        ls.t("ls.signoff.col.signed"): [f"{int((v == 'signed').sum())}/{len(v)}" for _, v in g],
                        ls.t("ls.signoff.col.refused"): [int((v == "refused").sum()) for _, v in g]})
    return table(out, None, ls.lang)


def health_line(ls: Leadership) -> Markdown:
    """The plan health check in one sentence (the consultant's detail is in notebook 03)."""
    return Markdown(PH.leadership_line(ls.health, ls.lang) + " " + ls.t("ls.health_more"))


def export_frames(ls: Leadership) -> dict[str, pd.DataFrame]:
    """``teams`` (with the region and company rows), ``movers``, ``key_losses``,
    ``complaints``, ``fairness`` and, only when individual pay may be shown, ``managers``."""
    teams = pd.concat([ls.teams.assign(level="team"),
                       ls.regions.assign(level="region", team_id=""),
                       ls.company.assign(level="company", region="", team_id="")], ignore_index=True)
    teams.insert(0, "period", ls.ctx.period.label)
    first = ["period", "level", "region", "team_id"]
    teams = teams[first + [c for c in teams.columns if c not in first]]
    out = {"teams": teams}
    if ls.risers is not None and ls.fallers is not None:
        mv = pd.concat([ls.risers.assign(direction="up"), ls.fallers.assign(direction="down")], ignore_index=True)
        mv["team_id"] = ls.managers["team_id"].reindex(mv["manager_id"]).to_numpy()
        mv["name"] = ls.managers["name"].reindex(mv["manager_id"]).to_numpy()
        out["movers"] = mv
    out["key_losses"] = ls.losses
    out["complaints"] = ls.spikes
    out["fairness"] = ls.fairness
    if ls.ctx.params.leadership.individual_pay:
        out["managers"] = ls.managers.reset_index()
    return out


def save(ls: Leadership) -> None:
    """Write ``leadership_summary.csv`` (the roll-up, for programs) and
    ``leadership_summary.xlsx`` (every table, for people: headers and words in the
    report's language, :func:`helpers.present.excel.leadership_sheets`)."""
    from helpers.present.excel import leadership_sheets

    frames = export_frames(ls)
    ls.ctx.save_csv(frames["teams"], "leadership_summary")
    if ls.ctx.output_dir is None:
        return
    band = None
    if len(ls.fairness):  # the band the fairness reasons name (the target plan's backtest settings)
        try:
            fs = company_targets(ls.ctx)[0].plan.backtest.fairness
            band = (float(fs.low), float(fs.high))
        except InputError:
            band = None
    names = {i: ls.q.library.name(i, ls.lang) for i in ls.q.library.ids()}
    save_xlsx(ls.ctx.output_dir, leadership_sheets(frames, ls.lang, names, ls.ctx.team_names, ls.ctx.period.label,
                                                   fairness_band=band), "leadership_summary")


# ======================================================================================
# what the run needs to know (read by helpers.run.runner; the notebook's metadata names this module)
# ======================================================================================


def check_inputs(params: Any, params_file: str | Path, ds: Any) -> list:
    """What the review checks: the leadership summary rolls up the reviews' scores and targets."""
    return [*check_scoring(params, params_file), *check_plan(params, params_file, tables=set(ds.tables)),
            *check_schemes(params, params_file)]


SHARED = {"targets": share_targets, "scores": share_scores, "health": share_health}
"""Company-wide results this notebook reads, each with the function that prepares it once per run."""
