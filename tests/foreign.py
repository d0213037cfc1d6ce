"""A foreign-shaped CRM export, built by the tests (not the demo generator's shape).

Modelled on public "CRM sales opportunities" exports: one row per opportunity (deal
stage Won / Lost / Engaging, close date, close value), sales agents under team
managers in regional offices, and accounts that buy from many agents.  Ten months of
history (2017-03 to 2017-12), no profit, no surveys, no segments, no employment dates.
Names carry spaces and '&' (ids need ``slug: true``).  Deterministic (seeded).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

OFFICES = {"Central": ["Dustin Brinkmann", "Melvin Marxen"], "East": ["Cara Losch", "Rocco Neubert"],
           "West": ["Summer Sewald", "Celia Rouche"]}
FIRST = ["Anna", "Boris", "Cecily", "Darcel", "Elease", "Garret", "Hayden", "James", "Jonathan", "Kami", "Lajuana",
         "Markita", "Moses", "Niesha", "Reed", "Rosalina", "Versie", "Wilburn"]
LAST = ["Snelling", "Frye", "Lampkin", "Schlecht", "Gillaspie", "Kinder", "Ulbricht", "Ascencio", "Krebs", "Bicknell",
        "Sweeting", "Hagan", "Frankland", "Zuckerman", "Moses", "Camper", "Bavaro", "Rowe"]
PRODUCTS = ["GTX Basic", "GTX Pro", "MG Special", "MG Advanced", "GTX Plus Pro", "GTXPro"]
ACCOUNTS = ["Acme Corporation", "Betasoloin", "Bioholding", "Blackzim", "Bluth Company", "Bubba Gump", "Cancity",
            "Cheers", "Codehow", "Conecom", "Dalttechnology", "Dambase", "Domzoom", "Doncon", "Dontechi",
            "Donware", "Faxquote", "Finhigh", "Fivedex", "Funholding", "Gekko & Co", "Genco Pura Olive Oil Company",
            "Globex Corporation", "Golddex", "Goodsilron", "Groovestreet", "Hatfan", "Hottechi", "Initech",
            "Inity", "Isdom", "J-Texon", "Kan-code", "Kinnamplus", "Konex", "Konmatfix", "Labdrill", "Lexiqvolax",
            "Massive Dynamic", "Mathtouch"]
START, END = pd.Timestamp("2017-03-01"), pd.Timestamp("2017-12-31")
AS_OF = "2018-01-15"


def write_export(folder: Path, seed: int = 7, opportunities: int = 1600) -> Path:
    """Write ``sales_teams.csv``, ``accounts.csv``, ``sales_pipeline.csv`` and the mapping
    ``crm.yaml`` into ``folder``; returns the mapping's path."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    teams = []
    i = 0
    for office, managers in OFFICES.items():
        for m in managers:
            for _ in range(3):
                teams.append({"sales_agent": f"{FIRST[i]} {LAST[i]}", "manager": m, "regional_office": office})
                i += 1
    agents = pd.DataFrame(teams)
    agents.to_csv(folder / "sales_teams.csv", index=False)
    pd.DataFrame({"account": ACCOUNTS, "sector": rng.choice(["retail", "medical", "software", "finance"], len(ACCOUNTS)),
                  "revenue": rng.integers(100, 9000, len(ACCOUNTS))}).to_csv(folder / "accounts.csv", index=False)
    # each account buys from several agents; better agents win more and larger deals
    skill = rng.uniform(0.35, 0.75, len(agents))
    days = (END - START).days
    # every fourth account stops buying between mid-April and mid-July (churn)
    stop = {acc: pd.Timestamp("2017-04-15") + pd.Timedelta(days=9 * (i // 4)) for i, acc in enumerate(ACCOUNTS) if i % 4 == 0}
    rows = []
    for k in range(opportunities):
        a = int(rng.integers(len(agents)))
        acc = ACCOUNTS[int(rng.integers(len(ACCOUNTS)))]
        engage = START - pd.Timedelta(days=30) + pd.Timedelta(days=int(rng.integers(days)))
        close = engage + pd.Timedelta(days=int(rng.integers(5, 90)))
        if acc in stop and close > stop[acc]:
            acc = ACCOUNTS[1 + 4 * int(rng.integers(len(ACCOUNTS) // 4))]  # the deal goes to an account still buying
        product = PRODUCTS[int(rng.integers(len(PRODUCTS)))]
        if close > END:  # still open at the export date
            rows.append({"opportunity_id": f"OPP{k:05d}", "sales_agent": agents.at[a, "sales_agent"], "product": product,
                         "account": "" if rng.random() < 0.5 else acc, "deal_stage": "Engaging",
                         "engage_date": engage.date().isoformat(), "close_date": "", "close_value": ""})
            continue
        won = rng.random() < skill[a]
        value = int(rng.gamma(2.0, 900 * (1 + 2 * skill[a]))) if won else 0
        rows.append({"opportunity_id": f"OPP{k:05d}", "sales_agent": agents.at[a, "sales_agent"], "product": product,
                     "account": acc, "deal_stage": "Won" if won else "Lost", "engage_date": engage.date().isoformat(),
                     "close_date": max(close, START).date().isoformat(), "close_value": value})
    pd.DataFrame(rows).to_csv(folder / "sales_pipeline.csv", index=False)
    mapping = {
        "description": "CRM opportunities export: agents are the customer managers; accounts buy from many agents.",
        "tables": {
            "managers": {"files": "sales_teams.csv", "columns": {"name": "sales_agent", "region": "regional_office"},
                         "constants": {"hire_date": "2016-10-01", "leave_date": None},
                         "derive": {"manager_id": {"from": "sales_agent", "slug": True},
                                    "team_id": {"from": "manager", "slug": True}}},
            "orders": {"files": "sales_pipeline.csv", "keep": {"deal_stage": ["Won"]},
                       "columns": {"order_id": "opportunity_id", "date": "close_date", "amount": "close_value",
                                   "product_line": "product"},
                       "derive": {"manager_id": {"from": "sales_agent", "slug": True},
                                  "customer_id": {"from": "account", "slug": True}}},
            "customers": {"from_table": {"table": "orders", "key": "customer_id"},
                          "aggregate": {"acquired_date": {"min": "date"}, "lost_date": {"idle": "date", "months": 6},
                                        "manager_id": {"top": "manager_id", "by": "amount"}}},
            "assignments": {"from_orders": {"rule": "share", "months": 6}},
        },
    }
    path = folder / "crm.yaml"
    path.write_text(yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write_params(folder: Path, root: Path, notebooks: list[str] | None = None, period: str = "2017Q4",
                 name: str = "params.yaml") -> Path:
    """Run params for the export with the project's shipped presets (the demo's
    methodology files, as a new user starts); returns the params file."""
    from helpers.plan.params import RunParams

    params = yaml.safe_load((root / "params" / "demo.yaml").read_text(encoding="utf-8"))
    params["title"] = {"zh": "CRM 导出 · 客户经理绩效报告", "en": "CRM export · Customer-manager performance"}
    params["period"] = period
    params["data"] = {"source": str(folder / "crm.yaml"), "as_of": AS_OF}
    params["notebook_folder"] = str(root / "notebooks")
    params["output"] = {"folder": str(folder / "reports")}
    if notebooks is not None:
        params["notebooks"] = notebooks
    defaults = RunParams.model_validate({"data": {"folder": "x"}})
    for key in ("indicators", "strategy", "alternative_strategy", "weights", "targets", "incentives", "scoring"):
        value = params.get(key, getattr(defaults, key))
        if value:
            params[key] = str(root / "params" / value)
    path = folder / name
    path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
