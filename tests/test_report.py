"""The report template: no code, no stderr, no CDN, one language, a TOC, escaped text."""

from __future__ import annotations

import nbformat

from helpers.present.report import add_toc, render_html


def executed_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    md_zh = nbformat.v4.new_markdown_cell("## 概览")
    md_zh.metadata["tags"] = ["zh"]
    md_en = nbformat.v4.new_markdown_cell("## Overview")
    md_en.metadata["tags"] = ["en"]
    code = nbformat.v4.new_code_cell("secret_code_marker = 1\nprint('visible output')")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="visible output\n"),
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: noisy\n"),
    ]
    code.execution_count = 1
    nb.cells = [md_zh, md_en, code, nbformat.v4.new_markdown_cell("### 细节")]
    return nb


META = {"title": "数据质量 · 华东一部", "org": "演示公司", "lang": "zh", "toc_title": "目录",
        "facts": [["团队", "<b>east-1</b>"], ["考核期间", "2026Q3"]]}


def test_render_zh():
    html = render_html(executed_notebook(), META)
    assert "visible output" in html
    assert "secret_code_marker" not in html  # no code
    assert "UserWarning" not in html  # no stderr
    assert "Overview" not in html and "概览" in html  # one language
    assert '<nav class="kpi-toc"><h2>目录</h2>' in html and 'href="#' in html
    assert "&lt;b&gt;east-1&lt;/b&gt;" in html  # title block escapes user text
    assert "<script src" not in html and "cdn" not in html.lower()
    assert "Content-Security-Policy" in html
    assert 'lang="zh"' in html
    assert "<title>数据质量 · 华东一部 · 演示公司</title>" in html  # the browser tab / PDF name, not "Notebook"


def test_render_en():
    html = render_html(executed_notebook(), {**META, "lang": "en", "toc_title": "Contents"})
    assert "Overview" in html and "概览" not in html


def test_toc_levels():
    body = ('<!--KPI-TOC--><h2 id="a">A<a class="anchor-link" href="#a">¶</a></h2><h3 id="b">B &amp; C</h3>'
            '<h3 id="c">D</h3><h2 id="e">E</h2>')
    out = add_toc(body, "Contents")
    # sections numbered 1, 2 by the <ol>; their sub-sections nested, so they do not take numbers
    assert ('<ol><li><a href="#a">A</a><ul><li><a href="#b">B &amp; C</a></li><li><a href="#c">D</a></li></ul></li>'
            '<li><a href="#e">E</a></li></ol>') in out



def test_the_anchor_mark_stays_out_of_the_toc_as_an_entity_too():
    """The template writes a heading's anchor link as ``&#182;``: it is not heading text."""
    out = add_toc('<!--KPI-TOC--><h2 id="a">概览<a class="anchor-link" href="#a">&#182;</a></h2>', "目录")
    assert '<ol><li><a href="#a">概览</a></li></ol>' in out


def test_the_page_is_nbconverts_own_without_its_second_pass():
    """The report's exporter skips HTMLExporter's BeautifulSoup pass over the finished page:
    the page is nbconvert's (both read back by BeautifulSoup are the same document, focus
    marks aside), every output stays focusable, no image lacks its alternative text, and
    no prose block is made a tab stop."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from helpers.present.report import make_exporter

    nb = executed_notebook()
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    nb.cells.append(nbformat.v4.new_code_cell("chart", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": png, "text/plain": "<Figure>"})]))
    ours = make_exporter("zh")
    theirs = make_exporter("zh")
    theirs.__class__ = HTMLExporter  # nbconvert's own from_notebook_node, its second pass included
    page, reference = render_html(nb, META, ours), render_html(nb, META, theirs)

    def unfocused(html: str) -> str:
        soup = BeautifulSoup(html, "html.parser")
        for el in soup.find_all(attrs={"tabindex": True}):
            del el.attrs["tabindex"]
        return str(soup)

    assert unfocused(page) == unfocused(reference)
    soup = BeautifulSoup(page, "html.parser")
    outputs = soup.select("div.jp-OutputArea-output")
    assert len(outputs) == 2 and all(el.get("tabindex") == "0" for el in outputs)
    assert [el.get("tabindex") for el in soup.select("div.jp-OutputArea-output")] == \
        [el.get("tabindex") for el in BeautifulSoup(reference, "html.parser").select("div.jp-OutputArea-output")]
    assert soup.select("img") and not soup.select("img:not([alt])") and soup.img["alt"] != ""
    assert not soup.select("div.jp-Cell-inputWrapper[tabindex]")
    # characters as themselves (the markdown renderer writes headings as "&#27010;&#35272;"),
    # ASCII references and <style>/<script> elements as they are
    assert "概览" in page and "&#27010;" not in page
    from helpers.present.report import _CHAR_REF, _char

    assert _CHAR_REF.sub(_char, '<style>a{content:"&#26412;"}</style><p>&#26412;&#x6982; &#60; &#182;</p>') == \
        '<style>a{content:"&#26412;"}</style><p>本概 &#60; ¶</p>'


def test_artifacts_are_written_whole_with_normal_permissions(tmp_path):
    """write_text_atomic leaves no temporary file and gives the umask's mode (not mkstemp's 0600)."""
    import os

    from helpers.atomic import write_text_atomic

    old = os.umask(0o022)
    try:
        p = write_text_atomic(tmp_path / "r.html", "<p>报告</p>")
    finally:
        os.umask(old)
    assert p.read_text(encoding="utf-8") == "<p>报告</p>"
    assert oct(p.stat().st_mode & 0o777) == oct(0o644)
    assert [x.name for x in tmp_path.iterdir()] == ["r.html"]


def test_compact_png_keeps_the_picture_and_shrinks_it():
    """A chart re-encoded with a 256-colour palette: same size in pixels, every pixel
    within a few levels of the original, fewer bytes; a non-PNG is left alone."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from PIL import Image

    from helpers.present.report import compact_png

    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    x = np.linspace(0, 10, 200)
    for k in range(4):
        ax.plot(x, np.sin(x + k), lw=2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    raw = buf.getvalue()
    small = compact_png(raw)
    assert len(small) < 0.7 * len(raw)
    a = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"), dtype=int)
    b = np.asarray(Image.open(io.BytesIO(small)).convert("RGB"), dtype=int)
    assert a.shape == b.shape and np.abs(a - b).mean() < 2.0
    assert compact_png(b"not a png") == b"not a png"



def test_a_chart_drawn_into_the_palette_is_the_png_the_export_would_make():
    """figure_png (in the kernel) gives the very bytes that compact_png (in the export) makes
    of the figure's savefig PNG: the same pixels, one encoding instead of three; also for
    a figure with a transparent background (RGBA kept)."""
    import io

    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from helpers.present.png import compact_png, figure_png
    from helpers.present import plotting

    plotting.setup()
    for transparent in (False, True):
        fig, axes = plt.subplots(1, 3, figsize=(9, 2.4))
        for k, ax in enumerate(axes):
            ax.plot(range(6), np.arange(6) ** (k + 1), marker="o", label="本人")
            ax.set_title(f"销售额 {k}")
        if transparent:
            fig.patch.set_alpha(0.0)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        expected = compact_png(buf.getvalue())
        assert expected != buf.getvalue()  # the export would have re-encoded it
        assert figure_png(fig) == expected
        plt.close(fig)


def test_one_small_stylesheet_of_our_own():
    """The page carries report.css only (not JupyterLab's 270 KB nor pygments' code styles),
    no widget state, and says its language; the print rules number the pages."""
    import re

    from helpers.present.index_page import report_css

    nb = executed_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"w": {"v": "WIDGET_STATE"}}}}
    html = render_html(nb, META)
    head = html[: html.index("</head>")]
    styles = re.findall(r"<style[^>]*>(.*?)</style>", head, flags=re.S)
    assert [s.strip() for s in styles] == [report_css().strip()]
    assert len(head.encode("utf-8")) < 16 * 1024
    assert ".jp-Notebook-cell" not in html and ".highlight" not in html
    assert "WIDGET_STATE" not in html
    assert html.lstrip().startswith("<!DOCTYPE html>") and '<html lang="zh">' in html
    assert 'content: counter(page) " / " counter(pages)' in styles[0]
    assert '<html lang="en">' in render_html(nb, {**META, "lang": "en"})
