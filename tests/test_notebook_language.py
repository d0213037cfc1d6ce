"""JupyterLab shows one language: each prose text is one markdown cell in the notebook's
language carrying both texts in its metadata; the reports take their language's text;
``kpi-workbook notebooks --language en`` writes the notebooks in English."""

from __future__ import annotations

import copy
import html
import re
import sys
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from helpers.present.prose import in_language, set_parameter
from helpers.present.report import render_html
from helpers.run.cli import app

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
LANGS = {"zh", "en"}


def prose(cell) -> dict:
    return cell.metadata.get("kpi_workbook", {}).get("prose", {})


def lang_tags(cell) -> set[str]:
    return set(cell.metadata.get("tags", [])) & LANGS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_shows_one_language(path: Path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kpi_workbook"]["language"] == "zh"
    md = [c for c in nb.cells if c.cell_type == "markdown"]
    assert md, "the notebook has prose"
    for c in md:
        assert lang_tags(c) <= {"zh"}, f"{c.id}: a markdown cell of another language: {c.source[:60]!r}"
        # what JupyterLab shows is Chinese; an English twin would have no CJK character
        assert CJK.search(c.source), f"{c.id}: prose not in Chinese: {c.source[:60]!r}"
    for a, b in zip(nb.cells, nb.cells[1:]):
        both_md = a.cell_type == b.cell_type == "markdown"
        assert not (both_md and lang_tags(a) and lang_tags(b) and lang_tags(a) != lang_tags(b)), \
            f"{a.id}/{b.id}: the same prose twice, once per language"
        assert not (both_md and prose(a) and prose(a) == prose(b)), f"{a.id}/{b.id}: one prose text twice"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_prose_pairs_are_complete(path: Path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if prose(c)]
    assert cells, "the notebook's prose is stored in both languages"
    seen = [c.id for c in nb.cells]
    for c in cells:
        texts, ids = prose(c), c.metadata["kpi_workbook"]["ids"]
        assert set(texts) == LANGS and all(t.strip() for t in texts.values()), c.id
        assert c.source == texts["zh"]
        assert CJK.search(texts["zh"]) and not CJK.search(texts["en"]), f"{c.id}: languages swapped or mixed"
        assert set(ids) == LANGS and c.id == ids["zh"]
        seen.append(ids["en"])
    assert len(seen) == len(set(seen)), "every language's cell id is unique in the notebook"


# --------------------------------------------------------------------------- the builder

def built(cells: list[tuple], tmp_path: Path) -> nbformat.NotebookNode:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from nbbuild import build
    finally:
        sys.path.remove(str(ROOT / "tools"))
    build(cells, tmp_path / "x.ipynb")
    return nbformat.read(tmp_path / "x.ipynb", as_version=4)


def test_builder_merges_pairs_and_keeps_single_texts(tmp_path: Path):
    nb = built([
        ("md", "# 标题", ["zh", "remove"]), ("md", "# Title", ["en", "remove"]),  # a pair, both removed
        ("code", "x = 1", ["parameters"]),
        ("md", "## Second", ["en"]), ("md", "## 第二节", ["zh"]),  # a pair written English first
        ("md", "只有中文", ["zh"]),  # one language only: as it was
        ("code", "z = 0"),
        ("md", "English only", ["en"]),
        ("md", "研讨", ["zh", "workshop"]), ("md", "Workshop", ["en"]),  # tagged differently: not a pair
        ("code", "y = 2", ["workshop"]),
    ], tmp_path)
    got = [(c.id, c.cell_type, c.source, c.metadata.get("tags", []), prose(c)) for c in nb.cells]
    assert got == [
        ("c00", "markdown", "# 标题", ["remove"], {"zh": "# 标题", "en": "# Title"}),
        ("c02", "code", "x = 1", ["parameters"], {}),
        ("c04", "markdown", "## 第二节", [], {"zh": "## 第二节", "en": "## Second"}),
        ("c05", "markdown", "只有中文", ["zh"], {}),
        ("c06", "code", "z = 0", [], {}),
        ("c07", "markdown", "English only", ["en"], {}),
        ("c08", "markdown", "研讨", ["zh", "workshop"], {}),
        ("c09", "markdown", "Workshop", ["en"], {}),
        ("c10", "code", "y = 2", ["workshop"], {}),
    ]
    assert nb.cells[0].metadata["kpi_workbook"]["ids"] == {"zh": "c00", "en": "c01"}
    assert nb.cells[2].metadata["kpi_workbook"]["ids"] == {"zh": "c04", "en": "c03"}
    assert nb.metadata["kpi_workbook"]["language"] == "zh"


# --------------------------------------------------------------------------- the reports

def executed(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as if run: every code cell prints 'output <id>' (no kernel needed)."""
    nb = copy.deepcopy(nb)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"output {c.id}\n")]
            c.execution_count = 1
    return nb


META = {"zh": {"title": "战略分解", "org": "演示公司", "lang": "zh", "toc_title": "目录", "facts": []},
        "en": {"title": "Decomposition", "org": "Demo Co", "lang": "en", "toc_title": "Contents", "facts": []}}


def main_text(page: str) -> str:
    """The report's visible text between <main> and </main>, tags dropped."""
    body = page[page.index("<main>"):page.rindex("</main>")]
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def headings(nb, lang: str) -> list[str]:
    return [t.lstrip("#").strip() for c in nb.cells if prose(c) and "remove" not in c.metadata.get("tags", [])
            for t in [prose(c)[lang]] if t.startswith("#")]


@pytest.fixture(scope="module")
def decomposition():
    return nbformat.read(ROOT / "notebooks" / "02_kpi_decomposition.ipynb", as_version=4)


def test_report_in_each_language_has_that_language_only(decomposition):
    run = executed(decomposition)
    zh = render_html(run, META["zh"])
    en = render_html(run, META["en"])
    zh_text, en_text = main_text(zh), main_text(en)
    zh_toc, en_toc = (p[p.index('<nav class="kpi-toc">'):p.index("</nav>")] for p in (zh, en))
    assert not CJK.search(en_text), f"Chinese in the English report: {CJK.findall(en_text)[:10]}"
    for h in headings(decomposition, "en"):
        assert h in en_text and h not in zh_text, h
        assert f">{html.escape(h)}</a>" in en_toc, f"{h}: in the English table of contents"
    for h in headings(decomposition, "zh"):
        assert h in zh_text, h
        assert f">{html.escape(h)}</a>" in zh_toc, f"{h}: in the Chinese table of contents"
    for c in decomposition.cells:
        if prose(c) and not prose(c)["en"].startswith("#"):
            words = prose(c)["en"].split()[:6]  # the paragraph's first words, as the reader sees them
            assert " ".join(words) in " ".join(en_text.split()), words
    assert "output c08" in zh_text and "output c08" in en_text  # the outputs are in both
    assert "Strategy and KPI decomposition" not in en_text  # a 'remove' prose cell stays out


def as_pairs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook as it was before prose was merged: each text a markdown cell tagged
    with its language, the zh one first, with the cell ids recorded for each language."""
    old = copy.deepcopy(nb)
    old.cells = []
    for c in nb.cells:
        if not prose(c):
            old.cells.append(copy.deepcopy(c))
            continue
        for lang in ("zh", "en"):
            twin = nbformat.v4.new_markdown_cell(prose(c)[lang])
            twin.metadata["tags"] = [lang, *c.metadata.get("tags", [])]
            twin["id"] = c.metadata["kpi_workbook"]["ids"][lang]
            old.cells.append(twin)
    old.cells.sort(key=lambda c: c.id)
    del old.metadata["kpi_workbook"]["language"]
    return old


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_is_what_the_pairs_gave(decomposition, lang):
    """The same page, byte for byte, as the notebook written as zh/en pairs of cells."""
    run = executed(decomposition)
    assert render_html(run, META[lang]) == render_html(as_pairs(run), META[lang])
    english = in_language(decomposition, "en")
    assert render_html(executed(english), META[lang]) == render_html(run, META[lang])


def test_an_edit_made_in_jupyterlab_reaches_the_report_of_that_language(decomposition):
    nb = executed(decomposition)
    cell = next(c for c in nb.cells if prose(c).get("zh") == "## 战略与目标")
    cell.source = "## 战略与本季目标"
    assert "战略与本季目标" in main_text(render_html(nb, META["zh"]))
    en = main_text(render_html(nb, META["en"]))
    assert "Strategy and objectives" in en and "本季" not in en


# --------------------------------------------------------------------------- English notebooks

def test_notebooks_command_writes_english_notebooks(tmp_path: Path):
    out = tmp_path / "en"
    result = CliRunner().invoke(app, ["notebooks", "--language", "en", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in out.glob("*.ipynb"))
    assert written == [p.name for p in NOTEBOOKS]
    for path in out.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kpi_workbook"]["language"] == "en"
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        values: dict = {}
        exec(params.source, values)  # noqa: S102 - our own parameters cell
        assert values["language"] == "en"
        assert (out / values["params_file"]).resolve() == (ROOT / "params" / "demo.yaml").resolve()
        md = [c for c in nb.cells if c.cell_type == "markdown"]
        assert md and all(not CJK.search(c.source) for c in md), path.name
        assert all(c.source == prose(c)["en"] for c in md if prose(c))
        ids = [c.id for c in nb.cells]
        assert len(ids) == len(set(ids))
    # the committed notebook of the same name is unchanged: still Chinese
    assert nbformat.read(NOTEBOOKS[0], as_version=4).metadata["kpi_workbook"]["language"] == "zh"


def test_notebooks_command_refuses_without_writing(tmp_path: Path):
    out = tmp_path / "en"
    out.mkdir()
    (out / NOTEBOOKS[0].name).write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(app, ["notebooks", "--out", str(out)])
    assert result.exit_code == 2
    assert f"{out / NOTEBOOKS[0].name}: already exists" in result.output
    assert sorted(p.name for p in out.iterdir()) == [NOTEBOOKS[0].name]
    assert (out / NOTEBOOKS[0].name).read_text(encoding="utf-8") == "mine"
    result = CliRunner().invoke(app, ["notebooks", "--language", "fr", "--out", str(tmp_path / "fr")])
    assert result.exit_code == 2 and "--language: 'fr' is not a notebook language" in result.output
    assert not (tmp_path / "fr").exists()


def test_set_parameter_keeps_the_comment():
    src = 'params_file = "../params/demo.yaml"\nlanguage = ""     # empty: the params file\nteam = "a"'
    assert set_parameter(src, "language", "en") == \
        'params_file = "../params/demo.yaml"\nlanguage = "en"   # empty: the params file\nteam = "a"'
    assert set_parameter(src, "params_file", 'C:\\a "b"') == \
        'params_file = "C:\\\\a \\"b\\""\nlanguage = ""     # empty: the params file\nteam = "a"'
    with pytest.raises(ValueError, match="period"):
        set_parameter(src, "period", "2026Q3")
