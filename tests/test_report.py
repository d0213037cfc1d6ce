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
