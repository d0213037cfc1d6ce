"""HTML pieces of the reports as template files (``present/templates/<name>/*.j2``),
rendered with autoescaping: every value passed in is text, never markup."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=PackageLoader("helpers.present", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       keep_trailing_newline=False)


def render(template: str, **values: Any) -> str:
    """Render ``templates/<template>`` (e.g. ``signoff/signoff.html.j2``) with ``values``."""
    return _env().get_template(template).render(**values)


def compile_all() -> int:
    """Compile every template now (each is compiled on its first use otherwise); returns
    how many.  Called where processes are forked from (a run's fork server), so that
    each kernel and worker finds them compiled."""
    env = _env()  # kpi_report/ is the HTML export's (nbconvert's filters): helpers.present.report.warm_exporter
    names = [n for n in env.list_templates() if n.endswith(".j2") and not n.startswith("kpi_report/")]
    for name in names:
        env.get_template(name)
    return len(names)
