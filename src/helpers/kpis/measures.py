"""KPI actuals per manager per month or quarter, from the canonical tables.

Every KPI is defined once in :data:`KPIS` (id, names, unit, polarity, the tables it
needs, formula).  :func:`kpi_actuals` computes all available KPIs for every manager
and period in one pass and returns a long table::

    manager_id | period | segment | kpi | value | numerator | denominator | rows

``segment`` is ``all`` or one of ``key`` / ``small`` / ``walkin``; ``rows`` is the
number of source rows behind the figure (the audit trail: "how was this
computed").  A KPI whose table is absent is *not in the table at all* and is
listed by :func:`availability` as not available — it is never reported as zero.  A
ratio whose denominator is zero (no customers, no surveys) has ``value`` NaN.

Attribution rules (documented for managers who ask):

* orders, complaints, visits and leads count for the manager named on the row;
* customer-base measures (customers at the start, new, lost, retention, churn, the
  active rate's base and buyers, surveys) count for the managers responsible for the
  customer on the day of the event, with their share
  (:mod:`helpers.data.responsibility`: the ``assignments`` table, else the customer's
  current manager) — never before a manager's hire date or after the leave date;
* a customer without a segment counts in every total (``all``) and in no segment;
* market share uses the region of the manager in ``managers.region``.

How ratios aggregate over a quarter: numerators and denominators are summed over
the period (never averages of monthly ratios), except the "monthly" rates (active
rate, CLV inputs), whose numerator and denominator are sums of the monthly ones,
i.e. a customer-weighted average of the monthly rates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.data.responsibility import covers, responsible_at, spells
from helpers.data.tables import Dataset
from helpers.data.schema import QUAL_DIMENSIONS, SEGMENTS
from helpers.frames import positions

ANNUAL_DISCOUNT_RATE = 0.10
"""Discount rate used in the CLV estimate (yearly; converted to monthly)."""


@dataclass(frozen=True)
class KpiDef:
    """Definition of one KPI actual."""

    id: str
    zh: str
    en: str
    unit: str  # currency | count | ratio | score | points
    higher_is_better: bool
    tables: tuple[str, ...]
    formula: str
    segmented: bool = True
    column: tuple[str, str] | None = None  # (table, column) that must hold data


def _k(*args, **kw) -> KpiDef:
    return KpiDef(*args, **kw)


KPIS: dict[str, KpiDef] = {
    k.id: k
    for k in (
        _k("sales", "销售额", "Sales", "currency", True, ("orders",), "Σ orders.amount in the period"),
        _k("profit", "毛利", "Gross profit", "currency", True, ("orders",), "Σ orders.profit in the period",
           column=("orders", "profit")),
        _k("margin", "毛利率", "Gross margin", "ratio", True, ("orders",), "profit ÷ sales", column=("orders", "profit")),
        _k("orders", "订单数", "Orders", "count", True, ("orders",), "number of order lines"),
        _k("aov", "平均订单金额", "Average order value", "currency", True, ("orders",), "sales ÷ orders"),
        _k("buyers", "成交客户数", "Buying customers", "count", True, ("orders",), "distinct customers with an order"),
        _k("new_customers", "新增客户数", "New customers", "count", True, ("customers",),
           "customers whose acquired_date falls in the period"),
        _k("lost_customers", "流失客户数", "Lost customers", "count", False, ("customers",),
           "customers whose lost_date falls in the period"),
        _k("customers_start", "期初客户数", "Customers at start", "count", True, ("customers",),
           "customers acquired before the period start and not lost before it"),
        _k("retention_rate", "客户留存率", "Retention rate", "ratio", True, ("customers",),
           "1 − (customers at start lost during the period ÷ customers at start)"),
        _k("churn_rate", "客户流失率", "Churn rate", "ratio", False, ("customers",),
           "customers at start lost during the period ÷ customers at start"),
        _k("repeat_purchase_rate", "重复购买率", "Repeat-purchase rate", "ratio", True, ("orders",),
           "customers with ≥ 2 orders in the period ÷ customers with ≥ 1"),
        _k("active_rate", "月均活跃率", "Monthly active rate", "ratio", True, ("orders", "customers"),
           "Σ over months of the base's customers who bought ÷ Σ over months of (customers at month start + new "
           "in month)"),
        _k("csat", "客户满意度", "Customer satisfaction (CSAT)", "ratio", True, ("surveys",),
           "responses with csat ≥ 4 ÷ responses (customers of the manager)"),
        _k("nps", "净推荐值", "Net promoter score", "points", True, ("surveys",),
           "100 × (responses 9–10 − responses 0–6) ÷ responses with an NPS answer"),
        _k("complaints", "投诉数", "Complaints", "count", False, ("complaints",), "complaints received"),
        _k("complaint_rate", "客户投诉率", "Complaint rate", "ratio", False, ("complaints", "orders"),
           "complaints ÷ buying customers"),
        _k("resolution_rate", "投诉解决率", "Complaint resolution rate", "ratio", True, ("complaints",),
           "resolved complaints ÷ complaints"),
        _k("escalations", "升级投诉数", "Escalated complaints", "count", False, ("complaints",),
           "complaints escalated beyond the manager"),
        _k("visits", "拜访次数", "Visits", "count", True, ("visits",), "visits and calls logged"),
        _k("visit_coverage", "拜访覆盖率", "Visit coverage", "ratio", True, ("visits", "customers"),
           "customers visited ÷ customers held at any time in the period (both with the manager's share)"),
        _k("conversion_rate", "线索转化率", "Lead conversion rate", "ratio", True, ("leads",),
           "converted leads ÷ leads created in the period"),
        _k("referral_rate", "客户推荐率", "Referral rate", "ratio", True, ("customers",),
           "new customers with referred_by ÷ new customers", column=("customers", "referred_by")),
        _k("clv", "客户终身价值", "Customer lifetime value", "currency", True, ("orders", "customers"),
           "m · r ÷ (1 + i − r): m = profit per customer-month, r = monthly retention, i = monthly discount "
           "(Gupta & Lehmann 2003)", column=("orders", "profit")),
        _k("market_share", "市场占有率", "Market share", "ratio", True, ("orders", "market"),
           "sales ÷ market size of the manager's region", segmented=False),
        _k("market_share_change", "市场占有率变化", "Market share change", "points", True, ("orders", "market"),
           "market share − market share of the previous period, in percentage points", segmented=False),
        *(
            _k(f"qual_{d}", zh, en, "score", True, ("ratings",), f"mean rating score for '{d}'", segmented=False)
            for d, zh, en in zip(
                QUAL_DIMENSIONS,
                ("工作态度", "团队合作", "创新能力", "工作质量", "工作量", "月度总结质量"),
                ("Attitude", "Teamwork", "Innovation", "Work quality", "Work quantity", "Monthly-summary quality"),
            )
        ),
    )
}


def kpi_name(kpi: str, language: str = "zh") -> str:
    """Display name of a KPI in ``language`` (``zh`` or ``en``)."""
    d = KPIS[kpi]
    return d.zh if language == "zh" else d.en


def rates_above_one(actuals: pd.DataFrame) -> pd.DataFrame:
    """KPI values that are shares (unit ``ratio``) but above 100 %: a data-quality finding,
    never a result to show as it is.  Typically customers buying from managers who do
    not own them (an active rate of 1,333 % when every account buys from ten agents), or
    profit above sales.  Returns ``manager_id, period, segment, kpi, value``."""
    ratio = [k for k, v in KPIS.items() if v.unit == "ratio"]
    a = actuals[actuals["kpi"].isin(ratio) & (actuals["value"] > 1 + 1e-9)]
    return a[["manager_id", "period", "segment", "kpi", "value"]].reset_index(drop=True)


def availability(ds: Dataset) -> pd.DataFrame:
    """Which KPIs can be computed from the tables present, and why not.

    Returns one row per KPI, the built-in ones and then the plan's declared measures
    (``ds.measures``, under their indicator ids): ``kpi``, ``available`` (bool),
    ``missing`` (tables or columns absent), ``segments`` (the customer segments the data
    has, for which the KPI is reported by segment; a segment no customer has is not
    available), ``zh`` and ``en`` (its names: a declared measure's are the YAML's).
    """
    return ds.derived(("availability",), lambda: _availability(ds))


def _availability(ds: Dataset) -> pd.DataFrame:
    rows = []
    present = present_segments(ds.customers)
    for k in KPIS.values():
        missing = [t for t in k.tables if not ds.has(t)]
        if k.column and ds.has(k.column[0]):
            t, c = k.column
            if c not in ds[t].columns or ds[t][c].isna().all():
                missing.append(f"{t}.{c}")
        rows.append({"kpi": k.id, "available": not missing, "missing": ", ".join(missing),
                     "segments": ", ".join(present) if k.segmented else "", "zh": k.zh, "en": k.en})
    if ds.measures:
        from helpers.kpis.declared import measure_problems
    for d in ds.measures:  # a measure of a table the data lacks is not available, never 0
        missing = [t for t in d.tables() if not ds.has(t)]
        if measure_problems(d.measure, "", d.id):  # refused by the run's gate, with the key; never computed
            missing.append("a valid definition")
        rows.append({"kpi": d.id, "available": not missing, "missing": ", ".join(missing), "segments": "",
                     "zh": d.zh, "en": d.en})
    return pd.DataFrame(rows)


def present_segments(cust: pd.DataFrame) -> list[str]:
    """The segments of the data model some customer has (in their order)."""
    have = set(cust["segment"].dropna().unique().tolist()) if "segment" in cust.columns else set()
    return [s_ for s_ in SEGMENTS if s_ in have]


# ----------------------------------------------------------------------------- core


def _ord(p: pd.Series | pd.PeriodIndex) -> np.ndarray:
    """Integer ordinals of periods (NaT → a very large number: 'never')."""
    idx = pd.PeriodIndex(p)
    out = idx.asi8.copy()
    out[idx.isna()] = np.iinfo("int64").max // 2
    return out


def _employment_grid(ds: Dataset, freq: str, lo: int, hi: int) -> pd.DataFrame:
    """(manager_id, p) for every period in [lo, hi] in which the manager was employed."""
    m = ds.managers
    start = np.maximum(_ord(m["hire_date"].dt.to_period(freq)), lo)
    end = np.minimum(_ord(m["leave_date"].dt.to_period(freq)), hi)
    n = np.clip(end - start + 1, 0, None)
    mid = np.repeat(m["manager_id"].to_numpy(), n)
    p = np.concatenate([np.arange(s, s + k) for s, k in zip(start, n)]) if n.sum() else np.array([], dtype="int64")
    return pd.DataFrame({"manager_id": mid, "p": p.astype("int64")})


def _count(df: pd.DataFrame, keys: list[str], name: str, col: str | None = None, how: str = "size") -> pd.Series:
    return _counts(df, keys, [(name, col, how)])[0]


def _counts(df: pd.DataFrame, keys: list[str], spec: list[tuple[str, str | None, str]]) -> list[pd.Series]:
    """:func:`_count` of each ``(name, col, how)`` of ``spec``, from one grouping of ``df``
    (the keys are factorized once, not once per measure)."""
    g = df.groupby(keys, sort=False, observed=True)
    return [(g.size() if how == "size" else (g[col].sum() if how == "sum" else g[col].nunique())).rename(name)
            for name, col, how in spec]


def _factorize_rows(keys: pd.DataFrame) -> tuple[np.ndarray, pd.MultiIndex]:
    """``pd.MultiIndex.from_frame(keys).factorize()``: a code per row, in order of first
    appearance, and the distinct rows; through one integer per row, not a tuple per row
    (0.1 s for 270,000 rows that way)."""
    combined = np.zeros(len(keys), dtype="int64")
    radix = 1
    for col in keys.columns:
        code, values = pd.factorize(keys[col], use_na_sentinel=False)
        combined = combined * (len(values) + 1) + code
        radix *= len(values) + 1
    if radix >= 2 ** 62:  # too many combinations for one integer: the tuples
        return pd.MultiIndex.from_frame(keys).factorize()
    codes, _ = pd.factorize(combined)
    first = np.unique(codes, return_index=True)[1]
    return codes, pd.MultiIndex.from_frame(keys.iloc[first])


def _interval_counts(keys: pd.DataFrame, start: np.ndarray, end: np.ndarray, lo: int, hi: int, name: str,
                     weight: np.ndarray | None = None) -> pd.Series:
    """Weight of the items counted in each period p with start < p <= end (per key).

    For the customers at the start of p: acquired in an earlier period and lost in p
    or later (or never), each counted with its share.

    Difference-array count: +w at start+1, −w at end+1, cumulated over periods.
    """
    codes, uniq = _factorize_rows(keys)
    width = hi - lo + 2
    w = np.ones(len(keys)) if weight is None else np.asarray(weight, dtype="float64")
    arr = np.zeros((len(uniq), width), dtype="float64")
    a = np.clip(start + 1 - lo, 0, width - 1)
    b = np.clip(end + 1 - lo, 0, width - 1)
    ok = a < b
    np.add.at(arr, (codes[ok], a[ok]), w[ok])
    np.add.at(arr, (codes[ok], b[ok]), -w[ok])
    cum = np.cumsum(arr, axis=1)[:, : width - 1]
    per = width - 1
    idx = pd.MultiIndex.from_arrays(
        [uniq.get_level_values(i).repeat(per) for i in range(uniq.nlevels)]
        + [np.tile(np.arange(lo, lo + per, dtype="int64"), len(uniq))], names=[*keys.columns, "p"]
    )
    s = pd.Series(cum.ravel(), index=idx, name=name)
    return s[np.abs(s) > 1e-12]


NO_SEGMENT = "unspecified"
"""Segment of customers whose segment is not known: they count in every total
(segment ``all``) and in no segment of their own (not reported)."""


def _ord_open(p: pd.Series, low: bool) -> np.ndarray:
    """Integer ordinals of periods, NaT → 'since ever' (``low``) or 'for ever'."""
    idx = pd.PeriodIndex(p)
    out = idx.asi8.copy()
    out[idx.isna()] = (np.iinfo("int64").min // 2) if low else (np.iinfo("int64").max // 2)
    return out


def _weighted(df: pd.DataFrame, keys: list[str], name: str, col: str = "w") -> pd.Series:
    return df.groupby(keys, sort=False, observed=True)[col].sum().rename(name)


def customer_measures(cust: pd.DataFrame, sp: pd.DataFrame, freq: str, lo: int, hi: int,
                      bought: pd.DataFrame, visited: pd.DataFrame | None = None) -> list[pd.Series]:
    """The customer-base measures per (manager_id, p, segment), one definition for both
    engines (pandas here, DuckDB in :mod:`helpers.kpis.duckdb_engine`).

    Every customer event is credited to the managers responsible for the customer on
    its day (``sp``: responsibility spells, :func:`helpers.data.responsibility.spells`),
    each with its share: new (and referred) customers on the acquisition day, lost
    customers on the day of the loss (and, among them, those who were the manager's
    customers at the start of the period: the retention numerator), customers at the
    start of the period (held on its first day).  Summed over the period's months:
    customers at each month's start (``start_m``), the month's base (start + new,
    ``base_m``), those of the base who bought in the month from anyone (``buyers_m``;
    ``bought``: distinct ``customer_id, p`` with ``p`` the month ordinal; or ``customer, p``
    with ``customer`` the customer's row in ``cust``) and those lost
    from the month's start (``lost_start_m``).  ``lo``/``hi``: the first and last period
    ordinal of the data.

    Visit coverage: the customers held at any time in the period (``held``) and, given
    ``visited`` (distinct ``manager_id, customer_id, p`` of the visits), those of them the
    manager visited (``visited_customers``), each with the manager's share.
    """
    keys = ["manager_id", "p", "segment"]
    parts: list[pd.Series] = []
    # Customers, managers and segments are integer codes in the joins and groupings below
    # (text keys cost several times more at millions of rows); the parts get their labels
    # back at the end (_labelled).
    at = positions(sp["customer_id"], cust["customer_id"])  # the spell's customer's row in cust
    j = sp[at >= 0]
    at = at[at >= 0]
    manager_code, managers = pd.factorize(j["manager_id"])
    segment_code, segment_names = pd.factorize(pd.Series(segments_of(cust).to_numpy()))
    j = pd.DataFrame({"customer_id": at, "manager_id": manager_code, "start": j["start"].to_numpy(),
                      "end": j["end"].to_numpy(), "share": j["share"].to_numpy(),
                      **{c_: cust[c_].to_numpy()[at] for c_ in ("acquired_date", "lost_date", "referred_by")
                         if c_ in cust.columns}})
    acq_d, lost_d = j["acquired_date"], j["lost_date"]
    c = pd.DataFrame(
        {
            "manager_id": j["manager_id"].to_numpy(),
            "segment": segment_code[at],
            "w": j["share"].to_numpy(dtype="float64"),
            "acq": _ord(acq_d.dt.to_period(freq)),
            "lost": _ord(lost_d.dt.to_period(freq)),
            "acq_m": _ord(acq_d.dt.to_period("M")),
            "lost_m": _ord(lost_d.dt.to_period("M")),
            # the spell holds the customer at the start of period p when f_p < p <= t_p
            "f": _ord_open((j["start"] - pd.Timedelta(days=1)).dt.to_period(freq), low=True),
            "t": _ord_open(j["end"].dt.to_period(freq), low=False),
            "f_m": _ord_open((j["start"] - pd.Timedelta(days=1)).dt.to_period("M"), low=True),
            "t_m": _ord_open(j["end"].dt.to_period("M"), low=False),
            "new_held": covers(j, acq_d),
            "lost_held": covers(j, lost_d),
            "referred": j["referred_by"].notna().to_numpy() if "referred_by" in j.columns else False,
            "customer_id": j["customer_id"].to_numpy(),
        }
    )
    new = c[c["new_held"]]
    parts.append(_weighted(new.rename(columns={"acq": "p"}), keys, "new_customers"))
    parts.append(_weighted(new[new["referred"]].rename(columns={"acq": "p"}), keys, "referred_new"))
    lost = c[c["lost_held"] & (c["lost"] < hi + 1)]
    parts.append(_weighted(lost.rename(columns={"lost": "p"}), keys, "lost_customers"))
    # retention: lost during the period among the customers the manager held at its start
    from_start = lost[(lost["acq"] < lost["lost"]) & (lost["f"] < lost["lost"])]
    parts.append(_weighted(from_start.rename(columns={"lost": "p"}), keys, "lost_from_start"))
    parts.append(_interval_counts(c[["manager_id", "segment"]], np.maximum(c["acq"], c["f"]).to_numpy(),
                                  np.minimum(c["lost"], c["t"]).to_numpy(), lo, hi, "customers_start",
                                  c["w"].to_numpy()).reorder_levels([0, 2, 1]))

    # held at any time in the period: the customer's life and the spell overlap it
    h_s = np.maximum(c["acq"].to_numpy(), _ord_open(j["start"].dt.to_period(freq), low=True))
    h_e = np.minimum(c["lost"].to_numpy(), c["t"].to_numpy())
    parts.append(_interval_counts(c[["manager_id", "segment"]], h_s - 1, h_e, lo, hi, "held",
                                  c["w"].to_numpy()).reorder_levels([0, 2, 1]))
    if visited is not None:
        v = pd.DataFrame({"manager_id": positions(visited["manager_id"], managers),
                          "customer_id": positions(visited["customer_id"], cust["customer_id"]),
                          "p": visited["p"].to_numpy()}).drop_duplicates().merge(
            c[["manager_id", "customer_id", "segment", "w"]].assign(h_s=h_s, h_e=h_e),
            on=["manager_id", "customer_id"])
        v = v[(v["h_s"] <= v["p"]) & (v["p"] <= v["h_e"])]
        v = v.sort_values("w", ascending=False).drop_duplicates(["manager_id", "customer_id", "p"])
        parts.append(_weighted(v, keys, "visited_customers"))

    # monthly stocks summed into the period: Σ customers at month start, Σ base, Σ buyers
    m_lo = int(pd.Period(ordinal=lo, freq=freq).asfreq("M", how="start").ordinal)
    m_hi = int(pd.Period(ordinal=hi, freq=freq).asfreq("M", how="end").ordinal)
    s_m, e_m = np.maximum(c["acq_m"], c["f_m"]), np.minimum(c["lost_m"], c["t_m"])
    start_m = _interval_counts(c[["manager_id", "segment"]], s_m.to_numpy(), e_m.to_numpy(),
                               m_lo, m_hi, "start_m", c["w"].to_numpy()).reset_index()
    new_m = _weighted(new.rename(columns={"acq_m": "p"}), keys, "new_m").reset_index()
    lost_m = c[c["lost_held"] & (c["acq_m"] < c["lost_m"]) & (c["f_m"] < c["lost_m"]) & (c["lost_m"] <= m_hi)]
    lost_m = _weighted(lost_m.rename(columns={"lost_m": "p"}), keys, "lost_start_m").reset_index()
    # buyers: customers of the month's base (held at its start, or won in it) who bought in it
    b = pd.DataFrame({"customer_id": bought["customer"].to_numpy() if "customer" in bought.columns
                      else positions(bought["customer_id"], cust["customer_id"]), "p": bought["p"].to_numpy()}) \
        .merge(c[["customer_id", "manager_id", "segment", "w", "acq_m", "new_held"]]
               .assign(s_m=s_m.to_numpy(), e_m=e_m.to_numpy()), on="customer_id")
    in_base = ((b["s_m"] < b["p"]) & (b["p"] <= b["e_m"])) | ((b["acq_m"] == b["p"]) & b["new_held"])
    buyers_m = _weighted(b.loc[in_base, [*keys, "w"]], keys, "buyers_m").reset_index()
    monthly = start_m.merge(new_m, how="outer", on=keys)
    monthly = monthly.merge(lost_m, how="outer", on=keys)
    monthly = monthly.merge(buyers_m, how="outer", on=keys).fillna(0)
    monthly["base_m"] = monthly["start_m"] + monthly["new_m"]
    if freq == "Q":
        monthly["p"] = pd.PeriodIndex.from_ordinals(monthly["p"].astype("int64"), freq="M").asfreq("Q").asi8
    agg = monthly.groupby(keys, sort=False)[["start_m", "base_m", "buyers_m", "lost_start_m"]].sum()
    return [_labelled(part, managers, segment_names) for part in parts + [agg[c_] for c_ in agg.columns]]


def _labelled(part: pd.Series, managers: pd.Index, segments: pd.Index) -> pd.Series:
    """``part`` with the manager and segment codes of its index replaced by their labels."""
    idx = part.index
    return part.set_axis(idx.set_levels([managers.take(idx.levels[idx.names.index("manager_id")]),
                                         segments.take(idx.levels[idx.names.index("segment")])],
                                        level=["manager_id", "segment"]))


def bought_months(customer_ids, dates) -> pd.DataFrame:
    """Distinct (customer_id, month ordinal ``p``) with an order."""
    return pd.DataFrame({"customer_id": np.asarray(customer_ids),
                         "p": _ord(pd.to_datetime(pd.Series(np.asarray(dates))).dt.to_period("M"))}).drop_duplicates()


def survey_measures(ds: Dataset, sp: pd.DataFrame, seg_of: pd.Series, freq: str) -> list[pd.Series]:
    """Survey measures per (manager_id, p, segment): each response counts for the managers
    responsible for the customer on the response day, with their share."""
    keys = ["manager_id", "p", "segment"]
    s = ds["surveys"]
    who = responsible_at(sp, s["customer_id"].to_numpy(), s["date"].to_numpy())
    e = who["event"].to_numpy()
    nps = s["nps"].to_numpy(dtype="float64")[e]
    sv = pd.DataFrame(
        {
            "manager_id": who["manager_id"].to_numpy(),
            "segment": segment_at(seg_of, s["customer_id"].iloc[e]),
            "p": _ord(s["date"].dt.to_period(freq))[e],
            "w": who["share"].to_numpy(),
        }
    )
    w = sv["w"]
    sv["sat"] = w * (s["csat"].to_numpy()[e] >= 4)
    sv["has_nps"] = w * ~np.isnan(nps)
    sv["pro"] = w * (nps >= 9)
    sv["det"] = w * (nps <= 6)
    return _counts(sv, keys, [(name, col, "sum") for col, name in (("w", "surveys"), ("sat", "satisfied"),
                                                                   ("has_nps", "nps_n"), ("pro", "promoters"),
                                                                   ("det", "detractors"))])


def segments_of(cust: pd.DataFrame) -> pd.Series:
    """customer_id → segment (:data:`NO_SEGMENT` where unknown)."""
    seg = cust["segment"] if "segment" in cust.columns else pd.Series(np.nan, index=cust.index)
    return pd.Series(seg.astype(object).fillna(NO_SEGMENT).to_numpy(), index=pd.Index(cust["customer_id"]))


def segment_at(seg_of: pd.Series, customer_ids: pd.Series) -> np.ndarray:
    """``seg_of.reindex(customer_ids).to_numpy()``: the segment of each customer (NaN for an
    unknown one), looked up through :func:`helpers.frames.positions`."""
    at = positions(customer_ids, seg_of.index)
    out = np.full(len(at), np.nan, dtype=object)
    out[at >= 0] = seg_of.to_numpy(dtype=object)[at[at >= 0]]
    return out


def grid_segments(cust: pd.DataFrame) -> list[str]:
    """The segments measures are kept for: the three of the data model, and
    :data:`NO_SEGMENT` when some customer has none (it adds to the totals)."""
    return list(SEGMENTS) + ([NO_SEGMENT] if "segment" not in cust.columns or cust["segment"].isna().any() else [])


def base_measures(ds: Dataset, freq: str = "Q") -> pd.DataFrame:
    """Additive measures per (manager_id, p, segment) for period frequency ``freq``.

    ``p`` is the integer ordinal of the pandas Period.  Counts are 0 where nothing
    happened in a period the manager was employed.  Columns absent when their table
    is absent.
    """
    if freq not in ("M", "Q"):
        raise ValueError("freq must be 'M' or 'Q'")
    cust = ds.customers
    seg_of = segments_of(cust)
    sp = spells(ds)
    orders = ds.orders
    o = pd.DataFrame(
        {
            "manager_id": orders["manager_id"].to_numpy(),
            "customer_id": orders["customer_id"].to_numpy(),
            "segment": segment_at(seg_of, orders["customer_id"]),
            "p": _ord(orders["date"].dt.to_period(freq)),
            "m": _ord(orders["date"].dt.to_period("M")),
            "amount": orders["amount"].to_numpy(),
            "profit": orders["profit"].to_numpy() if "profit" in orders.columns else np.nan,
        }
    )
    dates = [orders["date"].min(), orders["date"].max(), cust["acquired_date"].min()]
    lo = int(_ord(pd.PeriodIndex([min(d for d in dates if pd.notna(d))], freq=freq))[0])
    lo = max(lo, int(o["p"].min())) if len(o) else lo
    hi = int(o["p"].max()) if len(o) else lo
    keys = ["manager_id", "p", "segment"]
    parts: list[pd.Series] = _counts(o, keys, [("sales", "amount", "sum"), ("profit", "profit", "sum"),
                                              ("orders", None, "size")])
    per_cust = o.groupby(["manager_id", "p", "segment", "customer_id"], sort=False, observed=True).size()
    parts.append(per_cust.groupby(level=[0, 1, 2]).size().rename("buyers"))
    parts.append((per_cust >= 2).groupby(level=[0, 1, 2]).sum().rename("repeat_buyers"))

    visited = None
    if ds.has("visits"):
        v = ds["visits"]
        visited = pd.DataFrame({"manager_id": v["manager_id"].to_numpy(), "customer_id": v["customer_id"].to_numpy(),
                                "p": _ord(v["date"].dt.to_period(freq))})
    parts += customer_measures(cust, sp, freq, lo, hi, bought_months(o["customer_id"], orders["date"]), visited)

    if ds.has("surveys"):
        parts += survey_measures(ds, sp, seg_of, freq)
    if ds.has("complaints"):
        k = ds["complaints"]
        kv = pd.DataFrame(
            {
                "manager_id": k["manager_id"].to_numpy(),
                "segment": segment_at(seg_of, k["customer_id"]),
                "p": _ord(k["date"].dt.to_period(freq)),
                "resolved": k["resolved"].astype(bool).to_numpy(),
                "escalated": k["escalated"].astype(bool).to_numpy(),
            }
        )
        parts += _counts(kv, keys, [("complaints", None, "size"), ("resolved", "resolved", "sum"),
                                    ("escalated", "escalated", "sum")])
    if ds.has("visits"):
        v = ds["visits"]
        vv = pd.DataFrame(
            {
                "manager_id": v["manager_id"].to_numpy(),
                "customer_id": v["customer_id"].to_numpy(),
                "segment": segment_at(seg_of, v["customer_id"]),
                "p": _ord(v["date"].dt.to_period(freq)),
            }
        )
        parts.append(_count(vv, keys, "visits"))
    if ds.has("leads"):
        ld = ds["leads"]
        lv = pd.DataFrame(
            {
                "manager_id": ld["manager_id"].to_numpy(),
                "segment": ld["segment"].to_numpy(),
                "p": _ord(ld["date"].dt.to_period(freq)),
                "converted": ld["converted"].astype(bool).to_numpy(),
            }
        )
        parts += _counts(lv, keys, [("leads", None, "size"), ("converted", "converted", "sum")])

    return on_grid(ds, freq, lo, hi, parts)


def on_grid(ds: Dataset, freq: str, lo: int, hi: int, parts: list[pd.Series]) -> pd.DataFrame:
    """The measures ``parts`` (Series on manager_id, p, segment) as columns of the
    employment grid (each manager's periods of employment in ``[lo, hi]`` × the segments
    of :func:`grid_segments`), 0 where a part has no value: a left join of every part on
    the grid, made with integer keys — (manager code · S + segment code) · W + period
    offset, S the grid's segments and W its periods with one to spare on each side;
    periods outside ``[lo, hi]`` map to offsets not on the grid and drop out — instead
    of aligning the parts' indexes with one another first."""
    keys = ["manager_id", "p", "segment"]
    grid = _employment_grid(ds, freq, lo, hi)
    segments = pd.Index(grid_segments(ds.customers))
    grid = grid.merge(pd.DataFrame({"segment": list(segments)}), how="cross")
    managers = pd.Index(ds.managers["manager_id"])
    width = hi - lo + 3

    def key(mid, p, seg) -> np.ndarray:
        m = positions(mid, managers)
        sc = positions(seg, segments).astype("int64")
        off = np.clip(np.asarray(p, dtype="int64") - lo + 1, 0, width - 1)
        k = (m * len(segments) + sc) * width + off
        return np.where((m < 0) | (sc < 0), -1, k)

    grid_key = pd.Index(key(grid["manager_id"], grid["p"], grid["segment"]))
    cols: dict[str, np.ndarray] = {}
    for part in parts:
        part = part.reorder_levels(keys) if list(part.index.names) != keys else part
        idx = part.index
        pos = grid_key.get_indexer(key(idx.get_level_values(0), idx.get_level_values(1), idx.get_level_values(2)))
        col = np.zeros(len(grid), dtype="float64")
        hit = pos >= 0
        col[pos[hit]] = part.to_numpy(dtype="float64")[hit]
        cols[str(part.name)] = col
    return pd.concat([grid, pd.DataFrame(cols, index=grid.index)], axis=1)


def _ratio(num, den) -> np.ndarray:
    """num / den where den > 0, else NaN (as float64 arrays)."""
    n, d = np.asarray(num, dtype="float64"), np.asarray(den, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, n / d, np.nan)


def derive(b: pd.DataFrame) -> pd.DataFrame:
    """KPI values (wide) from base measures: one column per KPI, plus ``<kpi>__num``,
    ``<kpi>__den``, ``<kpi>__rows`` for the audit trail."""
    cols = set(b.columns)
    wide: dict[str, np.ndarray] = {}  # the columns, put into the frame at once (not one insertion each)

    def put(kpi: str, value, num, den, rows) -> None:
        wide[kpi] = np.asarray(value, dtype="float64")
        wide[f"{kpi}__num"] = np.asarray(num, dtype="float64")
        wide[f"{kpi}__den"] = np.asarray(den, dtype="float64")
        wide[f"{kpi}__rows"] = np.asarray(rows, dtype="float64")

    one = pd.Series(np.nan, index=b.index)
    put("sales", b["sales"], b["sales"], one, b["orders"])
    put("profit", b["profit"], b["profit"], one, b["orders"])
    put("margin", _ratio(b["profit"], b["sales"]), b["profit"], b["sales"], b["orders"])
    put("orders", b["orders"], b["orders"], one, b["orders"])
    put("aov", _ratio(b["sales"], b["orders"]), b["sales"], b["orders"], b["orders"])
    put("buyers", b["buyers"], b["buyers"], one, b["orders"])
    put("repeat_purchase_rate", _ratio(b["repeat_buyers"], b["buyers"]), b["repeat_buyers"], b["buyers"], b["orders"])
    put("new_customers", b["new_customers"], b["new_customers"], one, b["new_customers"])
    put("lost_customers", b["lost_customers"], b["lost_customers"], one, b["lost_customers"])
    put("customers_start", b["customers_start"], b["customers_start"], one, b["customers_start"])
    churn = _ratio(b["lost_from_start"], b["customers_start"])
    put("churn_rate", churn, b["lost_from_start"], b["customers_start"], b["customers_start"])
    put("retention_rate", 1 - churn, b["customers_start"] - b["lost_from_start"], b["customers_start"], b["customers_start"])
    put("active_rate", _ratio(b["buyers_m"], b["base_m"]), b["buyers_m"], b["base_m"], b["base_m"])
    put("referral_rate", _ratio(b["referred_new"], b["new_customers"]), b["referred_new"], b["new_customers"], b["new_customers"])
    # CLV (Gupta & Lehmann 2003): m · r / (1 + i − r), monthly figures
    i = (1 + ANNUAL_DISCOUNT_RATE) ** (1 / 12) - 1
    m = _ratio(b["profit"], b["base_m"])
    r = 1 - _ratio(b["lost_start_m"], b["start_m"])
    put("clv", m * r / (1 + i - r), b["profit"], b["base_m"], b["orders"])
    if "surveys" in cols:
        put("csat", _ratio(b["satisfied"], b["surveys"]), b["satisfied"], b["surveys"], b["surveys"])
        put("nps", 100 * _ratio(b["promoters"] - b["detractors"], b["nps_n"]), b["promoters"] - b["detractors"],
            b["nps_n"], b["nps_n"])
    if "complaints" in cols:
        put("complaints", b["complaints"], b["complaints"], one, b["complaints"])
        put("complaint_rate", _ratio(b["complaints"], b["buyers"]), b["complaints"], b["buyers"], b["complaints"])
        put("resolution_rate", _ratio(b["resolved"], b["complaints"]), b["resolved"], b["complaints"], b["complaints"])
        put("escalations", b["escalated"], b["escalated"], one, b["complaints"])
    if "visits" in cols:
        put("visits", b["visits"], b["visits"], one, b["visits"])
        put("visit_coverage", _ratio(b["visited_customers"], b["held"]), b["visited_customers"], b["held"], b["visits"])
    if "leads" in cols:
        put("conversion_rate", _ratio(b["converted"], b["leads"]), b["converted"], b["leads"], b["leads"])
    keys = b[["manager_id", "p", "segment"]]
    return pd.concat([keys, pd.DataFrame(wide, index=keys.index, copy=False)], axis=1)  # the arrays, not copies


def _all_segments(b: pd.DataFrame, segments: list[str] | None = None) -> pd.DataFrame:
    """Add segment ``all`` = sum of the segments (every base measure is additive); keep of
    the segments only ``segments`` (the ones the data has: :func:`present_segments`), when
    given — customers without a segment count in ``all`` and nowhere else."""
    num = [c for c in b.columns if c not in ("manager_id", "p", "segment")]
    tot = b.groupby(["manager_id", "p"], sort=False)[num].sum().reset_index().assign(segment="all")
    if segments is not None:
        b = b[b["segment"].isin(segments)]
    return pd.concat([tot, b], ignore_index=True)


def _market_share(ds: Dataset, b_all: pd.DataFrame, freq: str) -> pd.DataFrame:
    mk = ds["market"]
    size = (
        mk.assign(p=_ord(pd.PeriodIndex(mk["month"], freq="M").asfreq(freq)))
        .groupby(["region", "p"])["market_size"].agg(["sum", "size"]).reset_index()
    )
    region = ds.managers.set_index("manager_id")["region"]
    s = b_all[["manager_id", "p", "sales", "orders"]].assign(region=region.reindex(b_all["manager_id"]).to_numpy())
    s = s.merge(size, how="left", on=["region", "p"])
    s["market_share"] = _ratio(s["sales"], s["sum"])
    s = s.sort_values(["manager_id", "p"])
    prev = s.groupby("manager_id")["market_share"].shift()
    prev_p = s.groupby("manager_id")["p"].shift()
    prev = prev.where(prev_p == s["p"] - 1)
    s["market_share_change"] = 100 * (s["market_share"] - prev)
    return s


def _period_ordinals(labels: pd.Series, freq: str, to: str) -> np.ndarray:
    """Ordinals at frequency ``to`` of period labels at ``freq`` (``2026-07`` or ``2026Q3``),
    parsing each distinct label once (a few dozen) instead of every row."""
    codes, uniq = pd.factorize(labels)
    per = pd.PeriodIndex([pd.Period(x, freq=freq) for x in uniq], freq=freq)
    return _ord(per if to == freq else per.asfreq(to))[codes]


def _qualitative(ds: Dataset, freq: str) -> pd.DataFrame:
    r = ds["ratings"]
    is_month = r["period"].str.len() == 7
    rows = []
    monthly = r[is_month]
    rows.append(monthly.assign(p=_period_ordinals(monthly["period"], "M", freq)))
    if freq == "Q":
        q = r[~is_month]
        rows.append(q.assign(p=_period_ordinals(q["period"], "Q", "Q")))
    rr = pd.concat(rows, ignore_index=True)
    return rr.groupby(["manager_id", "p", "dimension"])["score"].agg(["mean", "sum", "size"]).reset_index()


def qualitative_on(rows: pd.DataFrame, q: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each qualitative dimension, the ``mean, sum, size`` of :func:`_qualitative`'s
    ``q`` on each of ``rows``' (manager_id, p), NaN where the manager has no rating for
    it: ``rows.merge(q[q.dimension == d], how="left")`` per dimension, through one
    integer key per row (q has one row per manager, period and dimension)."""
    n = len(rows)
    codes, _ = pd.factorize(pd.concat([rows["manager_id"], q["manager_id"]], ignore_index=True))
    rp, qp = rows["p"].to_numpy(dtype="int64"), q["p"].to_numpy(dtype="int64")
    p0 = int(min(rp.min(initial=0), qp.min(initial=0)))
    width = int(max(rp.max(initial=0), qp.max(initial=0))) - p0 + 1
    row_key = codes[:n].astype("int64") * width + (rp - p0)
    q_key = codes[n:].astype("int64") * width + (qp - p0)
    dim = q["dimension"].to_numpy(dtype=object)
    out = {}
    for d in QUAL_DIMENSIONS:
        sel = dim == d
        at = pd.Index(q_key[sel]).get_indexer(row_key)
        hit = at >= 0
        cols = []
        for c_ in ("mean", "sum", "size"):
            col = np.full(n, np.nan)
            col[hit] = q[c_].to_numpy(dtype="float64")[sel][at[hit]]
            cols.append(col)
        out[d] = (cols[0], cols[1], cols[2])
    return out


def kpi_actuals(ds: Dataset, freq: str = "Q") -> pd.DataFrame:
    """All available KPIs per manager per period (``freq`` ``"Q"`` or ``"M"``).

    Long format: ``manager_id, period, segment, kpi, value, numerator, denominator,
    rows``.  ``period`` is the label (``2026Q3`` / ``2026-09``).  Only periods in which
    the manager was employed appear; unavailable KPIs do not appear at all.  Computed
    once per dataset and frequency (:meth:`~helpers.data.tables.Dataset.derived`).
    """
    return ds.derived(("kpi_actuals", freq), lambda: _kpi_actuals(ds, freq))


def _kpi_actuals(ds: Dataset, freq: str) -> pd.DataFrame:
    b = _all_segments(base_measures(ds, freq), present_segments(ds.customers))
    wide = derive(b)
    avail = set(availability(ds).query("available")["kpi"])
    seg_kpis = [k for k in KPIS if k in wide.columns and k in avail]
    frames = []
    if seg_kpis:  # long: the keys once per KPI, KPI after KPI, and each KPI's four columns stacked
        n = len(wide)
        f = wide[["manager_id", "p", "segment"]].iloc[np.tile(np.arange(n), len(seg_kpis))].reset_index(drop=True)
        for col, suffix in (("value", ""), ("numerator", "__num"), ("denominator", "__den"), ("rows", "__rows")):
            f[col] = np.concatenate([wide[f"{k}{suffix}"].to_numpy() for k in seg_kpis])
        f["kpi"] = np.repeat(np.array(seg_kpis, dtype=object), n)
        frames.append(f)
    b_all = b[b["segment"] == "all"]
    if "market_share" in avail:
        ms = _market_share(ds, b_all, freq)
        frames.append(pd.DataFrame({"manager_id": ms["manager_id"], "p": ms["p"], "segment": "all",
                                    "value": ms["market_share"], "numerator": ms["sales"], "denominator": ms["sum"],
                                    "rows": ms["orders"] + ms["size"].fillna(0), "kpi": "market_share"}))
        frames.append(pd.DataFrame({"manager_id": ms["manager_id"], "p": ms["p"], "segment": "all",
                                    "value": ms["market_share_change"], "numerator": np.nan, "denominator": np.nan,
                                    "rows": ms["orders"], "kpi": "market_share_change"}))
    if ds.has("ratings"):
        on = qualitative_on(b_all, _qualitative(ds, freq))
        for d in QUAL_DIMENSIONS:
            mean, total, size = on[d]
            frames.append(pd.DataFrame({"manager_id": b_all["manager_id"].to_numpy(), "p": b_all["p"].to_numpy(),
                                        "segment": "all", "value": mean, "numerator": total, "denominator": size,
                                        "rows": np.nan_to_num(size), "kpi": f"qual_{d}"}))
    out = pd.concat(frames, ignore_index=True)
    out["period"] = period_labels(out["p"], freq)
    out["rows"] = out["rows"].fillna(0).astype("int64")
    out = out[["manager_id", "period", "segment", "kpi", "value", "numerator", "denominator", "rows"]]
    out = _with_declared(ds, out, freq, avail)
    order = {k: i for i, k in enumerate([*KPIS, *(d.id for d in ds.measures)])}
    seg_order = {"all": 0, **{s: i + 1 for i, s in enumerate(SEGMENTS)}}
    out = out.sort_values(
        ["manager_id", "period", "kpi", "segment"],
        key=lambda s: s.map(order) if s.name == "kpi" else (s.map(seg_order) if s.name == "segment" else s),
        kind="stable",
    )
    return out.reset_index(drop=True)


def _with_declared(ds: Dataset, out: pd.DataFrame, freq: str, avail: set[str],
                   aggregate=None, span: tuple[int, int] | None = None) -> pd.DataFrame:
    """The KPI actuals ``out`` and the plan's declared measures (``ds.measures``) that
    the data can compute, each as the segment ``all`` of a KPI named by its indicator id
    (``aggregate``, ``span``: as :func:`helpers.kpis.declared.declared_values`)."""
    if not ds.measures:
        return out
    from helpers.kpis.declared import declared_values

    frames = [out]
    for d in ds.measures:
        if d.id in avail:
            v = declared_values(ds, d.measure, freq, aggregate=aggregate, span=span)
            frames.append(v.assign(segment="all", kpi=d.id)[out.columns])
    return pd.concat(frames, ignore_index=True)


def period_labels(ordinals: pd.Series, freq: str) -> np.ndarray:
    """Period labels (``2026Q3`` / ``2026-09``) of period ordinals, each distinct one
    formatted once."""
    codes, uniq = pd.factorize(ordinals.astype("int64"))
    labels = pd.PeriodIndex.from_ordinals(np.asarray(uniq, dtype="int64"), freq=freq).map(_label)
    return np.asarray(labels, dtype=object)[codes]


def _label(p: pd.Period) -> str:
    return f"{p.year}Q{p.quarter}" if p.freqstr.startswith("Q") else f"{p.year}-{p.month:02d}"


def kpi_wide(actuals: pd.DataFrame, period: str, segment: str = "all") -> pd.DataFrame:
    """One row per manager, one column per KPI, for one period and segment."""
    sel = actuals[(actuals["period"] == period) & (actuals["segment"] == segment)]
    wide = sel.pivot(index="manager_id", columns="kpi", values="value")
    return wide[[k for k in KPIS if k in wide.columns]]
