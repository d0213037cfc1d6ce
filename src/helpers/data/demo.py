"""A seeded generator of realistic demo data in the canonical form.

The demo company sells through customer managers in three regions (华东, 华南, 华北),
two teams each.  It is built to exercise every part of the workbook:

* ~48 managers with different skill, a new hire and a leaver in the middle of
  2026Q3 (the leaver's customers pass to the new hire) and one manager who moves
  team on 2026-08-01;
* a few thousand customers in three segments (key 大客户, small 小客户, walk-in 散客)
  with a heavy-tailed (log-normal) value distribution, acquisition and churn;
* monthly history 2024-01 … 2026-09 with the Spring Festival dip, a year-end peak
  and ~8 % yearly growth;
* surveys, complaints, visits, leads, market sizes per region and month, and
  qualitative ratings.

Everything is drawn from one ``numpy`` generator seeded by :class:`DemoConfig`, so
the same config always writes the same files.  Scale options (managers, months,
order rate) let the benchmarks produce 10M+ order lines (written as Parquet).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REGIONS: tuple[tuple[str, str], ...] = (("east", "华东"), ("south", "华南"), ("north", "华北"))
_CN_NUM = "一二三四五六七八九十"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强海燕晓东红梅丹鹏飞宇欣怡子涵浩然思远佳琪文博雨萱嘉怡俊杰梓轩一鸣晨曦"
PRODUCT_LINES: tuple[tuple[str, float, float], ...] = (
    # name, share of sales, gross margin
    ("高端系列", 0.25, 0.32),
    ("标准系列", 0.45, 0.22),
    ("增值服务", 0.15, 0.45),
    ("配件耗材", 0.15, 0.18),
)
SEGMENT_MIX = {"key": 0.06, "small": 0.50, "walkin": 0.44}
# mean monthly spend (currency units) and log-normal sigma, per segment
SEGMENT_VALUE = {"key": (60_000.0, 0.8), "small": (6_000.0, 0.9), "walkin": (1_500.0, 1.0)}
SEGMENT_FREQ = {"key": 2.5, "small": 0.9, "walkin": 0.22}  # orders per active month
SEGMENT_CHURN = {"key": 0.008, "small": 0.025, "walkin": 0.06}  # monthly hazard
GENERATOR_VERSION = 4  # bump when the generator's output changes, so cached demo data is rebuilt
SPRING_FESTIVAL = {2023: 1, 2024: 2, 2025: 1, 2026: 2, 2027: 2, 2028: 1}  # month of 春节


@dataclass(frozen=True)
class DemoConfig:
    """What to generate.  Defaults give the built-in demo (about 48 managers)."""

    seed: int = 20260930
    managers: int = 48
    teams: int = 6
    start: str = "2024-01"
    end: str = "2026-09"
    customers_per_manager: int = 70
    order_rate: float = 1.0  # multiplies orders per customer-month (scale knob)
    fmt: str = "csv"  # csv | parquet

    def digest(self) -> str:
        """Short hash identifying the config (stored beside the data)."""
        key = json.dumps({**asdict(self), "generator": GENERATOR_VERSION}, sort_keys=True)
        return hashlib.sha256(key.encode()).hexdigest()[:16]


def seasonality(month: pd.Period) -> float:
    """Demand factor of a month: Spring Festival dip, pre-festival and year-end peaks."""
    sf = SPRING_FESTIVAL.get(month.year, 2)
    if month.month == sf:
        return 0.72
    if month.month == sf - 1 or (sf == 1 and month.month == 12):
        base = 1.12  # stocking up before the festival
    else:
        base = 1.0
    return base * {11: 1.08, 12: 1.22, 6: 1.04, 7: 0.96, 8: 0.97}.get(month.month, 1.0)


def _names(rng: np.random.Generator, n: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        s = SURNAMES[rng.integers(len(SURNAMES))]
        g = "".join(GIVEN[i] for i in rng.integers(len(GIVEN), size=int(rng.integers(1, 3))))
        if s + g not in seen:
            seen.add(s + g)
            out.append(s + g)
    return out


def _teams(n_teams: int) -> pd.DataFrame:
    rows = []
    per_region = int(np.ceil(n_teams / len(REGIONS)))
    for k in range(n_teams):
        (rid, rname), j = REGIONS[k // per_region % len(REGIONS)], k % per_region
        num = _CN_NUM[j] if j < len(_CN_NUM) else str(j + 1)
        rows.append({"team_id": f"{rid}-{j + 1}", "team_name": f"{rname}{num}部", "region": rname})
    return pd.DataFrame(rows)


RUBRIC_LEVELS = np.array([100.0, 85.0, 70.0, 55.0, 40.0])  # the points of params/rubric.yaml's levels


def _level(score: np.ndarray) -> np.ndarray:
    """Each score moved to the nearest rubric level (ties to the lower level)."""
    d = np.abs(np.asarray(score, dtype=float)[:, None] - RUBRIC_LEVELS[None, :])
    d = d + 1e-9 * np.arange(RUBRIC_LEVELS.size)[::-1][None, :]  # a tie goes to the lower level (later column)
    return RUBRIC_LEVELS[d.argmin(axis=1)]


def _random_dates(rng: np.random.Generator, months: pd.PeriodIndex) -> np.ndarray:
    """A uniformly random day inside each given month."""
    starts = months.to_timestamp(how="start").values.astype("datetime64[D]")
    days = months.days_in_month.values
    return starts + rng.integers(0, days).astype("timedelta64[D]")


def generate(cfg: DemoConfig = DemoConfig()) -> dict[str, pd.DataFrame]:
    """Generate every canonical table for ``cfg`` (in memory)."""
    rng = np.random.default_rng(cfg.seed)
    months = pd.period_range(cfg.start, cfg.end, freq="M")
    n_months = len(months)
    last = months[-1]
    review_q = last.asfreq("Q")
    q_first = review_q.asfreq("M", how="start")
    teams = _teams(cfg.teams)

    # ---------------------------------------------------------------- managers
    n = cfg.managers
    mids = [f"M{i + 1:03d}" for i in range(n)] if n < 1000 else [f"M{i + 1:06d}" for i in range(n)]
    team_idx = np.arange(n) % cfg.teams
    skill = np.exp(rng.normal(0.0, 0.25, n))
    hire = pd.to_datetime("2015-01-01") + pd.to_timedelta(rng.integers(0, 365 * 8, n), unit="D")
    leave = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    hire = pd.Series(hire)
    new_hire, leaver, mover = n - 1, 1 if n > 2 else None, 4 if n > 5 else None
    # new hire joins mid-quarter; the leaver leaves mid-quarter; both in the last quarter
    hire[new_hire] = (q_first + 1).start_time + pd.Timedelta(days=16)
    if leaver is not None:
        leave[leaver] = (q_first + 1).start_time + pd.Timedelta(days=20)
        team_idx[new_hire] = team_idx[leaver]
    managers = pd.DataFrame(
        {
            "manager_id": mids,
            "name": _names(rng, n),
            "team_id": teams["team_id"].values[team_idx],
            "region": teams["region"].values[team_idx],
            "hire_date": hire.dt.normalize(),
            "leave_date": leave,
        }
    )
    history = pd.DataFrame(columns=["manager_id", "team_id", "start_month", "end_month"])
    if mover is not None:
        old_team = managers.at[mover, "team_id"]
        region = managers.at[mover, "region"]
        same_region = teams[(teams["region"] == region) & (teams["team_id"] != old_team)]["team_id"]
        if len(same_region):
            new_team = same_region.iloc[0]
            move = q_first + 1  # moves on the first day of the quarter's second month
            managers.at[mover, "team_id"] = new_team
            history = pd.DataFrame(
                {
                    "manager_id": [mids[mover], mids[mover]],
                    "team_id": [old_team, new_team],
                    "start_month": [str(managers.at[mover, "hire_date"].to_period("M")), str(move)],
                    "end_month": [str(move - 1), None],
                }
            )

    # --------------------------------------------------------------- customers
    seg_names = np.array(list(SEGMENT_MIX))
    seg_p = np.array(list(SEGMENT_MIX.values()))
    # the initial base, acquired during the two years before the history starts
    n0 = rng.poisson(cfg.customers_per_manager * skill * 0.75)
    n0[new_hire] = 0
    owner0 = np.repeat(np.arange(n), n0)
    acq0 = _random_dates(rng, pd.PeriodIndex(months[0] - rng.integers(1, 25, owner0.size), freq="M"))
    # monthly acquisitions: growth, season, skill
    grow = 1.08 ** (np.arange(n_months) / 12.0)
    season = np.array([seasonality(m) for m in months])
    lam = 1.5 * np.outer(skill, grow * season)  # managers × months
    active_mgr = (months.to_timestamp(how="end").values[None, :] >= managers["hire_date"].values[:, None]) & (
        managers["leave_date"].isna().values[:, None]
        | (months.to_timestamp(how="start").values[None, :] <= managers["leave_date"].values[:, None])
    )
    counts = rng.poisson(lam * active_mgr)
    owner1 = np.repeat(np.repeat(np.arange(n), n_months), counts.ravel())
    month1 = np.tile(np.arange(n_months), n)
    month1 = np.repeat(month1, counts.ravel())
    acq1 = _random_dates(rng, months[month1])
    # the new hire starts after their hire date
    acq1 = np.maximum(acq1, managers["hire_date"].values[owner1].astype("datetime64[D]"))
    owner = np.concatenate([owner0, owner1])
    acquired = np.concatenate([acq0, acq1]).astype("datetime64[D]")
    nc = owner.size
    segment = seg_names[rng.choice(len(seg_names), size=nc, p=seg_p)]
    mean_spend = np.array([SEGMENT_VALUE[s][0] for s in segment])
    sigma = np.array([SEGMENT_VALUE[s][1] for s in segment])
    value = mean_spend * np.exp(rng.normal(-0.5 * sigma**2, sigma))  # log-normal with that mean
    # churn: geometric lifetime in months from a monthly hazard, better managers keep more
    hazard = np.array([SEGMENT_CHURN[s] for s in segment]) / skill[owner]
    life_months = rng.geometric(np.clip(hazard, 1e-4, 0.9))
    lost = acquired + (life_months * 30.44).astype("timedelta64[D]")
    end_day = np.datetime64(last.end_time.date())
    lost = np.where(lost <= end_day, lost, np.datetime64("NaT"))
    cust_ids = np.array([f"C{i + 1:06d}" for i in range(nc)])
    # referrals: some new customers were referred by an earlier customer of the same manager
    referred = np.full(nc, None, dtype=object)
    cand = np.flatnonzero((np.arange(nc) >= owner0.size) & (rng.random(nc) < 0.12))
    by_owner: dict[int, np.ndarray] = {}
    for i in cand:
        pool = by_owner.setdefault(int(owner[i]), np.flatnonzero(owner == owner[i]))
        pool = pool[acquired[pool] < acquired[i]]
        if pool.size:
            referred[i] = cust_ids[pool[rng.integers(pool.size)]]
    # the leaver's customers pass to the new hire after the leave date
    orig_owner = owner.copy()
    if leaver is not None:
        owner = np.where(owner == leaver, new_hire, owner)
    customers = pd.DataFrame(
        {
            "customer_id": cust_ids,
            "manager_id": np.array(mids)[owner],
            "segment": segment,
            "acquired_date": pd.to_datetime(acquired),
            "lost_date": pd.to_datetime(lost),
            "referred_by": referred,
            # a separate stream so the rest of the demo does not move: about 60 % of the losses
            # are the manager's doing (the others: the customer closed, moved, was acquired)
            "lost_attributable": ~np.isnat(lost) & (np.random.default_rng(cfg.seed + 7).random(nc) < 0.6),
        }
    )

    # ------------------------------------------------------------------ orders
    order_frames = []
    freq = np.array([SEGMENT_FREQ[s] for s in segment]) * cfg.order_rate
    line_names = np.array([p[0] for p in PRODUCT_LINES])
    line_p = np.array([p[1] for p in PRODUCT_LINES])
    line_margin = np.array([p[2] for p in PRODUCT_LINES])
    leave_day = managers["leave_date"].values.astype("datetime64[D]")
    next_id = 0
    for k, m in enumerate(months):
        m_start = np.datetime64(m.start_time.date())
        m_end = np.datetime64(m.end_time.date())
        alive = (acquired <= m_end) & (np.isnat(lost) | (lost >= m_start))
        idx = np.flatnonzero(alive)
        n_orders = rng.poisson(freq[idx] * season[k] * (0.4 + 0.6 * skill[orig_owner[idx]] ** 0.5))
        # a new customer's first order lands on the acquisition month
        first = (acquired[idx] >= m_start) & (n_orders == 0)
        n_orders = n_orders + first
        cidx = np.repeat(idx, n_orders)
        if not cidx.size:
            continue
        lo = np.maximum(acquired[cidx], m_start)
        hi = m_end if np.isnat(lost).all() else np.where(np.isnat(lost[cidx]), m_end, np.minimum(lost[cidx], m_end))
        hi = np.maximum(hi, lo)
        span = (hi - lo).astype(int) + 1
        day = lo + (rng.random(cidx.size) * span).astype(int).astype("timedelta64[D]")
        per_order = value[cidx] * grow[k] * season[k] / np.maximum(freq[cidx], 0.3)
        amount = np.round(per_order * np.exp(rng.normal(-0.06, 0.35, cidx.size)), 2)
        line = rng.choice(len(line_names), size=cidx.size, p=line_p)
        margin = line_margin[line] + rng.normal(0, 0.05, cidx.size)
        profit = np.round(amount * margin, 2)
        # credit: the original owner until they leave, then the current owner
        credited = orig_owner[cidx]
        if leaver is not None:
            gone = (credited == leaver) & (day > leave_day[leaver])
            credited = np.where(gone, new_hire, credited)
        ids = np.arange(next_id, next_id + cidx.size)
        next_id += cidx.size
        order_frames.append(
            pd.DataFrame(
                {
                    "order_id": ids,
                    "date": day,
                    "customer_id": cidx,
                    "manager_id": credited,
                    "amount": amount,
                    "profit": profit,
                    "product_line": line,
                }
            )
        )
    orders = pd.concat(order_frames, ignore_index=True)
    orders = orders.sort_values(["date", "order_id"], kind="stable").reset_index(drop=True)
    width = max(7, len(str(next_id)))
    orders["order_id"] = [f"O{i:0{width}d}" for i in range(1, len(orders) + 1)]
    orders["customer_id"] = cust_ids[orders["customer_id"].to_numpy()]
    orders["manager_id"] = np.array(mids)[orders["manager_id"].to_numpy()]
    orders["product_line"] = line_names[orders["product_line"].to_numpy()]
    orders["date"] = pd.to_datetime(orders["date"])

    # ---------------------------------------------------- surveys, complaints, visits
    survey_rows, complaint_rows, visit_rows = [], [], []
    quality = np.clip(0.82 * skill ** 0.6, 0.4, 0.97)  # P(satisfied) by manager
    for k, m in enumerate(months):
        m_start = np.datetime64(m.start_time.date())
        m_end = np.datetime64(m.end_time.date())
        alive = np.flatnonzero((acquired <= m_end) & (np.isnat(lost) | (lost >= m_start)))
        if not alive.size:
            continue
        cur_owner = orig_owner[alive]
        if leaver is not None and m_start > leave_day[leaver]:
            cur_owner = np.where(cur_owner == leaver, new_hire, cur_owner)
        # surveys: ~10 % of active customers each month
        pick = rng.random(alive.size) < 0.10
        s, so = alive[pick], cur_owner[pick]
        sat = rng.random(s.size) < quality[so]
        csat = np.where(sat, rng.choice([4, 5], s.size, p=[0.55, 0.45]), rng.choice([1, 2, 3], s.size, p=[0.15, 0.3, 0.55]))
        nps = np.clip(np.round(np.where(sat, rng.normal(8.6, 1.1, s.size), rng.normal(5.0, 1.8, s.size))), 0, 10)
        span = int((m_end - m_start).astype(int)) + 1
        survey_rows.append(pd.DataFrame({"date": m_start + rng.integers(0, span, s.size).astype("timedelta64[D]"),
                                         "c": s, "csat": csat, "nps": nps}))
        # complaints: rarer for better managers
        p_c = 0.012 / quality[cur_owner]
        c = rng.random(alive.size) < p_c
        co = cur_owner[c]
        resolved = rng.random(co.size) < np.clip(quality[co] + 0.05, 0, 0.99)
        escalated = (~resolved) & (rng.random(co.size) < 0.5) | (rng.random(co.size) < 0.03)
        complaint_rows.append(pd.DataFrame({"date": m_start + rng.integers(0, span, co.size).astype("timedelta64[D]"),
                                            "c": alive[c], "m": co, "resolved": resolved, "escalated": escalated}))
        # visits: key accounts about twice a month, small customers now and then
        rate = np.select([segment[alive] == "key", segment[alive] == "small"], [2.0, 0.35], 0.05) * skill[cur_owner] ** 0.5
        nv = rng.poisson(rate)
        vc = np.repeat(alive, nv)
        vm = np.repeat(cur_owner, nv)
        ch = rng.choice(["visit", "call", "online"], vc.size, p=[0.55, 0.35, 0.10])
        visit_rows.append(pd.DataFrame({"date": m_start + rng.integers(0, span, vc.size).astype("timedelta64[D]"),
                                        "m": vm, "c": vc, "channel": ch}))
    surveys = pd.concat(survey_rows, ignore_index=True).sort_values(["date", "c"], kind="stable")
    surveys = pd.DataFrame({"date": pd.to_datetime(surveys["date"]), "customer_id": cust_ids[surveys["c"]],
                            "csat": surveys["csat"].astype(int), "nps": surveys["nps"].astype(int)})
    comp = pd.concat(complaint_rows, ignore_index=True).sort_values(["date", "c"], kind="stable")
    complaints = pd.DataFrame({
        "complaint_id": [f"K{i + 1:06d}" for i in range(len(comp))],
        "date": pd.to_datetime(comp["date"]).values,
        "customer_id": cust_ids[comp["c"]],
        "manager_id": np.array(mids)[comp["m"]],
        "resolved": comp["resolved"].values,
        "escalated": comp["escalated"].values,
    })
    vis = pd.concat(visit_rows, ignore_index=True).sort_values(["date", "m", "c"], kind="stable")
    visits = pd.DataFrame({"date": pd.to_datetime(vis["date"]).values, "manager_id": np.array(mids)[vis["m"]],
                           "customer_id": cust_ids[vis["c"]], "channel": vis["channel"].values})

    # ------------------------------------------------------------------ market
    om = orders.assign(month=orders["date"].dt.to_period("M"))
    om = om.merge(managers[["manager_id", "region"]], on="manager_id")
    reg_sales = om.groupby(["region", "month"])["amount"].sum()
    share = np.linspace(0.10, 0.12, n_months)
    mk = []
    for region in teams["region"].unique():
        s = reg_sales.get(region, pd.Series(dtype=float)).reindex(months, fill_value=0.0).to_numpy()
        size = s / share * np.exp(rng.normal(0, 0.04, n_months))
        mk.append(pd.DataFrame({"region": region, "month": [str(m) for m in months], "market_size": np.round(size, -2)}))
    market = pd.concat(mk, ignore_index=True)

    # ----------------------------------------------------------------- ratings
    rater_rng = np.random.default_rng(cfg.seed + 11)
    dims = ("attitude", "teamwork", "innovation", "work_quality", "work_quantity", "summary_quality")
    zskill = (np.log(skill) - np.log(skill).mean()) / max(np.log(skill).std(), 1e-9)
    rt = []
    for m in months:
        ok = (managers["hire_date"].dt.to_period("M") <= m) & (
            managers["leave_date"].isna() | (managers["leave_date"].dt.to_period("M") >= m)
        )
        who = np.flatnonzero(ok.to_numpy())
        team_of = managers["team_id"].to_numpy()[who]
        region_of = managers["region"].to_numpy()[who]
        for d in dims:
            score = np.clip(np.round(rng.normal(78 + 6 * zskill[who], 6)), 40, 100)
            # the rubric's levels (params/rubric.yaml): raters pick a level, not any number
            rt.append(pd.DataFrame({"manager_id": np.array(mids)[who], "period": str(m), "dimension": d,
                                    "score": _level(score), "rater": [f"主管-{t}" for t in team_of]}))
            # a second rater, the regional manager, a little more lenient (a separate stream:
            # the rest of the demo does not move)
            second = np.clip(np.round(rater_rng.normal(81 + 6 * zskill[who], 7)), 40, 100)
            rt.append(pd.DataFrame({"manager_id": np.array(mids)[who], "period": str(m), "dimension": d,
                                    "score": _level(second), "rater": [f"区域经理-{r}" for r in region_of]}))
    ratings = pd.concat(rt, ignore_index=True)

    # ------------------------------------------------------------------- leads
    conv = {"key": 0.25, "small": 0.12, "walkin": 0.08}
    new_mask = acquired >= np.datetime64(months[0].start_time.date())
    conv_idx = np.flatnonzero(new_mask)
    lead_frames = [pd.DataFrame({
        "date": acquired[conv_idx] - rng.integers(0, 30, conv_idx.size).astype("timedelta64[D]"),
        "m": orig_owner[conv_idx], "segment": segment[conv_idx], "converted": True})]
    for seg, p in conv.items():
        won = conv_idx[segment[conv_idx] == seg]
        n_lost = int(round(won.size * (1 - p) / p))
        pick = rng.choice(won, size=n_lost) if won.size else np.array([], dtype=int)
        lead_frames.append(pd.DataFrame({
            "date": acquired[pick] - rng.integers(0, 60, pick.size).astype("timedelta64[D]"),
            "m": orig_owner[pick], "segment": seg, "converted": False}))
    ld = pd.concat(lead_frames, ignore_index=True)
    ld = ld[ld["date"] >= np.datetime64(months[0].start_time.date())]
    # leads go to whoever was employed on the lead date
    ld = ld.sort_values(["date", "m"], kind="stable").reset_index(drop=True)
    leads = pd.DataFrame({"lead_id": [f"L{i + 1:06d}" for i in range(len(ld))], "date": pd.to_datetime(ld["date"]).values,
                          "manager_id": np.array(mids)[ld["m"]], "segment": ld["segment"].values,
                          "converted": ld["converted"].values})

    return {
        "teams": teams,
        "managers": managers,
        "team_history": history,
        "customers": customers,
        "orders": orders,
        "surveys": surveys,
        "complaints": complaints,
        "visits": visits,
        "market": market,
        "ratings": ratings,
        "leads": leads,
    }


def _write(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(out[c]):
            out[c] = np.where(out[c], "true", "false")
    if path.suffix == ".parquet":
        out.to_parquet(path, index=False)
    else:
        out.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_demo(folder: str | Path, cfg: DemoConfig = DemoConfig()) -> Path:
    """Generate the demo into ``folder`` atomically (written aside, then renamed)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".demo-", dir=folder.parent))
    try:
        for name, df in generate(cfg).items():
            _write(df, tmp / f"{name}.{cfg.fmt}")
        (tmp / "DEMO.json").write_text(json.dumps({"config": asdict(cfg), "digest": cfg.digest()}, indent=2),
                                       encoding="utf-8")
        if folder.exists():
            old = folder.with_name(folder.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def ensure_demo(folder: str | Path, cfg: DemoConfig = DemoConfig()) -> Path:
    """Write the demo into ``folder`` unless the same config is already there."""
    folder = Path(folder)
    marker = folder / "DEMO.json"
    if marker.exists():
        try:
            if json.loads(marker.read_text(encoding="utf-8")).get("digest") == cfg.digest():
                return folder
        except (OSError, ValueError):
            pass
    return write_demo(folder, cfg)
