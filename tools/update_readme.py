"""Regenerate the README sections that describe code: the data model and the KPI table.

Run ``python tools/update_readme.py`` after changing helpers.data.schema or helpers.kpis.measures;
tests/test_demo_i18n.py fails while the README is stale.
"""
from __future__ import annotations

import re
from pathlib import Path

from helpers.kpis.measures import KPIS
from helpers.data.schema import data_model_markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def kpi_table() -> str:
    rows = [
        f"| `{k.id}` | {k.zh} / {k.en} | {k.unit} | {'higher' if k.higher_is_better else 'lower'} | "
        f"{', '.join(k.tables)} | {k.formula} |"
        for k in KPIS.values()
    ]
    return "| id | name | unit | better | tables | formula |\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"


SECTIONS = {"data-model": data_model_markdown, "kpi-table": kpi_table}


def render(text: str) -> str:
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        text = pattern.sub(lambda m: m.group(1) + make() + m.group(2), text)
    return text


if __name__ == "__main__":
    README.write_text(render(README.read_text(encoding="utf-8")), encoding="utf-8")
    print("README sections updated")
