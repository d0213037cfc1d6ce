"""Who is responsible for a customer on a given day, and with what share.

Customer-based indicators (the customer base, new and lost customers, retention,
churn, the active rate, CSAT and NPS) credit the managers responsible for the
customer on the day of each event, pro-rated by their share.  Responsibility comes in
*spells* — ``customer_id, manager_id, start, end, share`` (``start``/``end`` inclusive
days; NaT: open) — from, in order of preference:

1. the optional ``assignments`` table (ownership history and credit splits, 主办/协办),
   for the customers it lists;
2. otherwise the customer's current manager (``customers.manager_id``), for all time.

Either way a spell is cut to the manager's employment (hire date to leave date): a
manager is never credited or charged for what happened to a customer before joining
or after leaving — in those days nobody is.

:func:`from_orders` derives an assignments table from the orders themselves, for
exports where a customer buys from several managers and nobody owns it: each month,
the managers who sold to the customer in that month and the ``months − 1`` before it
share it by their sales (``rule: share``), or the one who sold the most holds it alone
(``rule: main``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.frames import isin

if TYPE_CHECKING:
    from helpers.data.tables import Dataset

SPELL_COLUMNS = ["customer_id", "manager_id", "start", "end", "share"]
TOLERANCE = 1e-6


def spells(ds: "Dataset") -> pd.DataFrame:
    """Responsibility spells of every customer, cut to each manager's employment."""
    return spells_from(ds.customers, ds.managers, ds["assignments"] if ds.has("assignments") else None)


def spells_from(customers: pd.DataFrame, managers: pd.DataFrame, assignments: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """:func:`spells` from the tables themselves (a team's slice of them, in a notebook);
    a spell of a manager not in ``managers`` is dropped."""
    c = customers
    sp = pd.DataFrame({"customer_id": c["customer_id"].to_numpy(), "manager_id": c["manager_id"].to_numpy(),
                       "start": pd.NaT, "end": pd.NaT, "share": 1.0})
    if assignments is not None and len(assignments):
        a = assignments
        share = a["share"] if "share" in a.columns else pd.Series(1.0, index=a.index)
        listed = pd.DataFrame({"customer_id": a["customer_id"].to_numpy(), "manager_id": a["manager_id"].to_numpy(),
                               "start": a["start_date"].to_numpy(), "end": a["end_date"].to_numpy(),
                               "share": share.fillna(1.0).astype("float64").to_numpy()})
        # a customer the table does not list stays with its current manager
        sp = pd.concat([listed, sp[~isin(sp["customer_id"], listed["customer_id"])]], ignore_index=True)
    sp["start"] = pd.to_datetime(sp["start"])
    sp["end"] = pd.to_datetime(sp["end"])
    sp = sp[isin(sp["manager_id"], managers["manager_id"])].reset_index(drop=True)
    m = managers.set_index("manager_id")
    hire = pd.to_datetime(m["hire_date"]).reindex(sp["manager_id"]).to_numpy()
    leave = pd.to_datetime(m["leave_date"]).reindex(sp["manager_id"]).to_numpy()
    start = sp["start"].to_numpy()
    end = sp["end"].to_numpy()
    sp["start"] = np.where(pd.isna(start) | (hire > start), hire, start)
    sp["end"] = np.where(pd.isna(end) | (leave < end), leave, end)
    empty = sp["start"].notna() & sp["end"].notna() & (sp["end"] < sp["start"])
    return sp[~empty & (sp["share"] > 0)].reset_index(drop=True)[SPELL_COLUMNS]


def covers(sp: pd.DataFrame, dates: pd.Series | np.ndarray) -> np.ndarray:
    """Whether each spell (row-aligned with ``dates``) holds the customer on that day."""
    d = pd.to_datetime(pd.Series(np.asarray(dates))).to_numpy()
    start = sp["start"].to_numpy()
    end = sp["end"].to_numpy()
    return ~pd.isna(d) & (pd.isna(start) | (start <= d)) & (pd.isna(end) | (d <= end))


def responsible_at(sp: pd.DataFrame, customer_ids, dates) -> pd.DataFrame:
    """The managers responsible for each event (a customer on a day).

    Returns ``event`` (the position of the event in the inputs), ``manager_id`` and
    ``share``; an event nobody is responsible for has no row, one shared has several.
    """
    ev = pd.DataFrame({"event": np.arange(len(customer_ids)), "customer_id": np.asarray(customer_ids),
                       "date": pd.to_datetime(pd.Series(np.asarray(dates))).to_numpy()})
    j = ev.merge(sp, on="customer_id", how="inner")
    j = j[covers(j, j["date"])]
    return j[["event", "manager_id", "share"]].sort_values(["event", "manager_id"], kind="stable").reset_index(drop=True)


def share_overlaps(a: pd.DataFrame) -> pd.DataFrame:
    """Customer-days on which the shares of an assignments table do not add up.

    Checked on each day a spell starts: the shares of the spells holding the customer
    that day must add up to 1 when two or more hold it, and never exceed 1.  Returns
    ``customer_id, date, total, holders`` (empty when the table is consistent).
    """
    share = (a["share"] if "share" in a.columns else pd.Series(1.0, index=a.index)).fillna(1.0)
    # an open start is checked on a day before any data (every spell open at the start holds it)
    s = pd.DataFrame({"customer_id": a["customer_id"].to_numpy(),
                      "start": pd.to_datetime(a["start_date"]).fillna(pd.Timestamp("1900-01-01")).to_numpy(),
                      "end": pd.to_datetime(a["end_date"]).to_numpy(), "share": share.astype("float64").to_numpy()})
    days = s[["customer_id", "start"]].drop_duplicates().rename(columns={"start": "date"})
    j = days.merge(s, on="customer_id")
    j = j[covers(j, j["date"])]
    g = j.groupby(["customer_id", "date"], sort=True)["share"].agg(total="sum", holders="size").reset_index()
    bad = (g["total"] > 1 + TOLERANCE) | ((g["holders"] >= 2) & (g["total"] < 1 - TOLERANCE))
    return g[bad].reset_index(drop=True)


def from_orders(orders: pd.DataFrame, rule: str = "share", months: int = 12, by: str = "amount") -> pd.DataFrame:
    """An assignments table derived from the orders, one spell per customer, manager and month.

    In each month, the managers who sold to the customer in that month or the
    ``months − 1`` months before it are responsible: ``rule="share"`` by their share of
    those sales (by ``amount``, or by number of order lines with ``by="orders"``);
    ``rule="main"``: the one who sold the most alone (ties: the smaller id).  A customer
    with no order in the window has nobody responsible that month.
    """
    if rule not in ("share", "main"):
        raise ValueError("rule must be 'share' or 'main'")
    if months < 1:
        raise ValueError("months must be at least 1")
    cols = ["customer_id", "manager_id", "start_date", "end_date", "share"]
    o = orders.dropna(subset=["customer_id", "manager_id", "date"])
    if o.empty:
        return pd.DataFrame(columns=cols)
    month = pd.to_datetime(o["date"]).dt.to_period("M").astype("int64").to_numpy()
    weight = np.ones(len(o)) if by == "orders" else o[by].astype("float64").clip(lower=0).to_numpy()
    base = pd.DataFrame({"customer_id": o["customer_id"].to_numpy(), "manager_id": o["manager_id"].to_numpy(),
                         "m": month, "w": weight})
    base = base.groupby(["customer_id", "manager_id", "m"], sort=False)["w"].sum().reset_index()
    last = int(month.max())
    window = pd.concat([base.assign(m=base["m"] + k) for k in range(months)], ignore_index=True)
    window = window[window["m"] <= last]
    w = window.groupby(["customer_id", "manager_id", "m"], sort=True)["w"].sum().reset_index()
    if rule == "main":
        w = w.sort_values(["customer_id", "m", "w", "manager_id"], ascending=[True, True, False, True], kind="stable")
        w = w.drop_duplicates(["customer_id", "m"]).assign(share=1.0)
    else:
        total = w.groupby(["customer_id", "m"], sort=False)["w"].transform("sum")
        w = w[total > 0].assign(share=lambda f: f["w"] / total[total > 0])
        # shares rounded so that they add up to exactly 1 per customer and month
        w["share"] = w["share"].round(6)
        fix = 1.0 - w.groupby(["customer_id", "m"], sort=False)["share"].transform("sum")
        first = ~w.duplicated(["customer_id", "m"])
        w.loc[first, "share"] += fix[first]
    per = pd.PeriodIndex.from_ordinals(w["m"].to_numpy(), freq="M")
    out = pd.DataFrame({"customer_id": w["customer_id"].to_numpy(), "manager_id": w["manager_id"].to_numpy(),
                        "start_date": per.start_time.normalize(), "end_date": per.end_time.normalize(),
                        "share": w["share"].to_numpy()})
    return out.sort_values(["customer_id", "start_date", "manager_id"], kind="stable").reset_index(drop=True)
