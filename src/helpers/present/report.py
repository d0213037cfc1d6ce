"""Executed notebook → self-contained HTML report for leadership.

One nbconvert template (``templates/kpi_report``, based on JupyterLab's) renders
every report: no code, no prompts, no stderr or warnings, no CDN scripts, images
inline, a title block, a table of contents built from the headings.  Its one
stylesheet is ``report.css`` (about 9 KB, not JupyterLab's 270 KB): the outputs'
typography and tables, and the print rules for A4 (page numbers, headings kept with
what follows, table headers repeated on each page, wide tables wrapped to the page).
A notebook carries its prose in both languages: a prose cell shows the report
language's text (:mod:`helpers.present.prose`), and a markdown cell tagged ``zh`` or
``en`` (a text in one language only) is kept only in its language's report.  A
Content-Security-Policy meta tag forbids any network request from the page.
"""

from __future__ import annotations

import html
import re
from importlib import resources
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from helpers.present.i18n import t
from helpers.present.png import compact_png
from helpers.present.prose import notebook_language, show

TEMPLATE_NAME = "kpi_report"
LANG_TAGS = ("zh", "en")

class CleanOutputs(Preprocessor):
    """Drop stderr streams and error outputs; drop cells of the other language; put the
    report language's text into each bilingual prose cell (:mod:`helpers.present.prose`)."""

    language: str = "zh"
    _edited: str | None = None  # the language a notebook's prose sources are in

    def preprocess(self, nb, resources):  # noqa: D102 - nbconvert API
        self._edited = notebook_language(nb)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):  # noqa: D102 - nbconvert API
        show(cell, self.language, self._edited, tag=True)
        tags = set(cell.get("metadata", {}).get("tags", []))
        other = (tags & set(LANG_TAGS)) - {self.language}
        if other and self.language not in tags:
            cell["source"] = ""
            cell["outputs"] = []
            cell["cell_type"] = "raw" if cell["cell_type"] == "markdown" else cell["cell_type"]
            return cell, resources
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                o for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                and o.get("output_type") != "error"
            ]
        return cell, resources

class CompactImages(Preprocessor):
    """Re-encode every PNG output with :func:`compact_png` (reports stay small)."""

    def preprocess_cell(self, cell, resources, index):  # noqa: D102 - nbconvert API
        import base64

        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png:
                small = compact_png(base64.b64decode(png))
                out["data"]["image/png"] = base64.b64encode(small).decode("ascii")
        return cell, resources


def _template_dir() -> str:
    return str(resources.files("helpers.present").joinpath("templates"))

def _css() -> str:
    from helpers.present.index_page import report_css

    return report_css()


_OUTPUT_DIV = re.compile(r'(<div\b[^>]*\bclass="[^"]*\bjp-OutputArea-output\b[^"]*")')
_CHAR_REF = re.compile(r"(<(style|script)\b.*?</\2>)|&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));", re.S | re.I)


def _char(m: re.Match) -> str:
    """A numeric character reference to a character outside ASCII as that character (the
    page is UTF-8: "概览", not "&#27010;&#35272;"); every other reference, and a whole
    ``<style>`` or ``<script>`` element, as it is."""
    if m.group(1):
        return m.group(1)
    cp = int(m.group(3), 16) if m.group(3) else int(m.group(4))
    return chr(cp) if 127 < cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF else m.group(0)


class ReportExporter(HTMLExporter):
    """nbconvert's HTMLExporter without the pass it makes over the finished page with
    BeautifulSoup (parse and write the whole page again: a tenth of a second a report,
    a third of a worker's time).  That pass gives images without an alternative text
    an English one (our template gives every chart one in the report's language) and
    makes every output focusable (``tabindex="0"``: a wide table scrolls with the
    keyboard), which is done here on the template's own markup; and it writes characters
    the markdown renderer gave as numeric references ("&#27010;") as themselves."""

    def from_notebook_node(self, nb, resources=None, **kw):  # noqa: D102 - nbconvert API
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        resources = self._init_resources(resources)
        # what HTMLExporter registers before rendering (reports show no code: nothing to highlight)
        self.register_filter("highlight_code", self.filters.get("highlight_code", lambda source, *a, **k: source))
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata,
                                                                       parent=self, resources=resources))
        html_page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return _CHAR_REF.sub(_char, _OUTPUT_DIV.sub(r'\1 tabindex="0"', html_page)), resources


def make_exporter(language: str = "zh") -> HTMLExporter:
    """An HTMLExporter for reports in ``language`` (reuse it for many notebooks)."""
    from traitlets.config import Config

    exp = ReportExporter(
        # no pygments stylesheet: reports show no code; the notebook validated once, after
        # every preprocessor, not after each of them (15 times a report)
        config=Config({"CSSHTMLHeaderPreprocessor": {"enabled": False}}),
        optimistic_validation=True,
        language_code=language,  # <html lang>: Chromium picks the CJK font by it
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[_template_dir()],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    remove = TagRemovePreprocessor(remove_cell_tags={"remove", "workshop", "injected-parameters"}, enabled=True)
    clean = CleanOutputs()
    clean.language = language
    exp.register_preprocessor(remove, enabled=True)
    exp.register_preprocessor(clean, enabled=True)
    exp.register_preprocessor(CompactImages(), enabled=True)
    return exp


def warm_exporter(exporter: HTMLExporter, language: str = "zh") -> None:
    """Render an empty report with ``exporter``: its templates (the report's and
    nbconvert's that it extends) are compiled on the first page it renders, so a process
    that forks workers can do this once for all of them."""
    render_html(nbformat.v4.new_notebook(), {"lang": language, "title": "", "facts": []}, exporter)


_HEADING = re.compile(r'<h([23])\s+id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)

def add_toc(body: str, title: str) -> str:
    """Insert a table of contents at the ``<!--KPI-TOC-->`` mark: the h2 headings numbered,
    each with its h3 headings nested under it (unnumbered)."""
    sections: list[tuple[str, list[str]]] = []
    for level, anchor, inner in _HEADING.findall(body):
        text = html.unescape(re.sub(r"<[^>]+>", "", inner)).replace("¶", "").strip()  # ¶: the anchor link's mark
        if not text:
            continue
        link = f'<a href="#{anchor}">{html.escape(text)}</a>'
        if level == "2" or not sections:
            sections.append((link, []))
        else:
            sections[-1][1].append(link)
    items = "".join(f"<li>{link}" + (f"<ul>{''.join(f'<li>{s}</li>' for s in subs)}</ul>" if subs else "") + "</li>"
                    for link, subs in sections)
    nav = f'<nav class="kpi-toc"><h2>{html.escape(title)}</h2><ol>{items}</ol></nav>' if sections else ""
    return body.replace("<!--KPI-TOC-->", nav, 1)


def render_html(nb: nbformat.NotebookNode, meta: dict[str, Any], exporter: HTMLExporter | None = None) -> str:
    """HTML of an executed notebook with the report template.

    ``meta`` fills the title block: ``title``, ``org``, ``lang``, ``facts`` (list of
    (label, value) pairs) and ``toc_title``.
    """
    lang = meta.get("lang", "zh")
    exporter = exporter or make_exporter(lang)
    nb = nbformat.from_dict(nb)
    nb.metadata["kpi_report"] = meta
    nb.metadata.pop("widgets", None)  # widget state for a widget manager the report does not load (tens of KB)
    nb.metadata["title"] = " · ".join(x for x in (meta.get("title"), meta.get("org")) if x) or "report"  # <title>
    body, _ = exporter.from_notebook_node(nb, resources={"kpi_css": _css(), "language_code": lang,
                                                                 "chart_alt": t("report.chart_alt", lang)})
    return add_toc(body, meta.get("toc_title", "Contents"))

