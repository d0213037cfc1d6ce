"""Reader's words only: no developer text reaches a report.

Readers (leadership, HR, managers) never see code, params files or notebook numbers.
Every HTML report of a full demo run in Chinese and one in English (00–04 per team, the
statements, 05, the index) is scanned, on its visible text (tags, scripts, styles and
attributes removed; title and alt text kept), for:

* parameter keys: dotted snake_case keys (``leadership.individual_pay``) and ``key: value``
  fragments (``individual_pay: false``);
* file paths and names of the plan (``params/…``, ``*.yaml``, ``*.csv``, ``*.py``, …);
* raw ids of the indicator library, the KPI catalogue and the soft-rating dimensions,
  and any other snake_case name (a column such as ``acquired_date``, a key);
* notebook numbers (笔记本 01, notebook 03, "(01)");
* in a Chinese report, Latin words of 3+ letters outside ``ZH_LATIN_OK``;
* in an English report, CJK characters outside the names that come from the data.

Allowed file names: none.  The reports send HR to the scorecard "beside this report" by
its description, never by a file name; the index links the files, and a link's *text* is
what is scanned, so the index names them in words too.  A reader therefore never needs a
file name, and any ``*.csv`` on a page is developer text.

The second half checks one display name for one thing: the scheme in force and the
indicators it weights are named in 03, 04 and 05 exactly as the plan names them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup  # a dependency of nbconvert

from conftest import ROOT, demo_words

# ---------------------------------------------------------------- the scanner


def visible_text(html: str) -> str:
    """What a reader sees: text without tags, scripts, styles or attributes; title and alt
    text are kept (a reader sees them on hover / in place of an image)."""
    soup = BeautifulSoup(html, "html.parser")
    extra = []
    for el in soup.find_all(True):
        for attr in ("title", "alt"):
            if el.name != "title" and el.get(attr):
                extra.append(str(el[attr]))
    for el in soup(["script", "style", "template", "noscript"]):
        el.decompose()
    return "\n".join([soup.get_text("\n"), *extra])


def _ids() -> tuple[set[str], set[str]]:
    """Raw ids a reader must not see: (snake_case ids, one-word ids that are no reader's word)."""
    from helpers.kpis.measures import KPIS

    lib = yaml.safe_load((ROOT / "params" / "indicators.yaml").read_text(encoding="utf-8"))
    rubric = yaml.safe_load((ROOT / "params" / "rubric.yaml").read_text(encoding="utf-8"))
    ids = {i["id"] for i in lib["indicators"]} | set(KPIS) | set(rubric["dimensions"])
    snake = {i for i in ids if "_" in i}
    # one-word ids are English words (sales, profit, visits, teamwork) — a reader's word in
    # an English report and a Latin word (caught below) in a Chinese one — except the
    # acronyms, which a reader sees in capitals (CSAT, NPS): lowercase they are the id.
    acronyms = {i for i in ids if "_" not in i and i in {"csat", "nps", "aov", "clv"}}
    return snake, acronyms


SNAKE_IDS, ACRONYM_IDS = _ids()

# Latin words a Chinese report may show, case-sensitive: acronyms and method names that
# Chinese performance-management texts write in Latin letters (KPI, CSAT, NPS, AHP, CRITIC,
# SMART, CLV, AOV), the statistics and the author the weighting report cites by name
# (Kendall τ, Spearman ρ, Saaty 1980; λmax is the AHP eigenvalue's standard symbol), file
# formats the reader is handed (CSV, PDF, Excel).  Data names (the teams' ids such as
# east-1, manager ids M001) come from the data and are allowed separately.  Grades are
# single letters and never reach 3.
ZH_LATIN_OK = {"KPI", "NPS", "CSAT", "AHP", "CRITIC", "SMART", "CLV", "AOV", "CSV", "PDF", "Excel",
               "Kendall", "Spearman", "Saaty"}

FILE_EXT = r"(?:ya?ml|csv|py|ipynb|json|xlsx|parquet|j2|toml|html)"
PATTERNS: list[tuple[str, re.Pattern]] = [
    # leadership.individual_pay, sources.commitments_csv, st.header (not e.g. / i.e. / 1.5 / file.csv)
    ("parameter key", re.compile(r"(?<![\w./])[a-z][a-z0-9]+(?:_[a-z0-9]+)*(?:\.[a-z][a-z0-9]+(?:_[a-z0-9]+)*)+"
                                 r"(?![\w/])")),
    ("key: value", re.compile(r"(?<![\w])[a-z][a-z0-9]*_[a-z0-9_]+\s*[:=]\s*[\w.%-]+|(?<![\w])[a-z_]+:\s*(?:true|false|null)\b")),
    ("file path", re.compile(r"(?<![\w])(?:params|data|src|tools|notebooks|tests)/[\w./-]*")),
    ("file name", re.compile(rf"(?<![\w])[\w.-]+\.{FILE_EXT}(?![\w])")),
    ("notebook number", re.compile(r"笔记本\s*[（(]?\s*0\d|notebook\s*[（(]?\s*0\d|[（(]\s*0[0-5]\s*[）)]|(?<!\d)0[0-5]_[a-z]",
                                   re.I)),
]
SNAKE_RE = re.compile(r"(?<![\w.])(" + "|".join(sorted(map(re.escape, SNAKE_IDS), key=len, reverse=True)) + r")(?![\w])")
ACRONYM_RE = re.compile(r"(?<![\w.])(" + "|".join(sorted(ACRONYM_IDS)) + r")(?![\w])")  # case-sensitive
IDENT_RE = re.compile(r"(?<![\w.-])[a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9](?![\w-])")
VERSION_RE = re.compile(r"(?<![\w])(?=[0-9a-f]*\d)[0-9a-f]{8,40}(?![\w])")
LINE_CODE_RE = re.compile(r"(?<![\w-])[IPTA]-[0-9A-F]{6}(?![\w])")  # a line's printed code (helpers.core.refs)
LATIN_RE = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z])")
CJK_RE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")


@dataclass(frozen=True)
class Hit:
    file: str
    kind: str
    token: str
    snippet: str

    def __str__(self) -> str:
        return f"{self.file}: {self.kind} {self.token!r} in …{self.snippet}…"


def _snippet(text: str, start: int, end: int, width: int = 40) -> str:
    return re.sub(r"\s+", " ", text[max(0, start - width):end + width]).strip()


def scan_text(text: str, language: str, file: str = "", data_words: frozenset[str] = frozenset()) -> list[Hit]:
    """Every piece of developer text in ``text`` (a report's visible text)."""
    hits: list[Hit] = []
    file_re = re.compile(rf"\.{FILE_EXT}$")
    for kind, pat in PATTERNS:
        for m in pat.finditer(text):
            token = m.group(0)
            if kind == "parameter key" and file_re.search(token):
                continue  # a file name, reported as one
            hits.append(Hit(file, kind, token, _snippet(text, m.start(), m.end())))
    for rx in (SNAKE_RE, ACRONYM_RE):
        for m in rx.finditer(text):
            hits.append(Hit(file, "raw id", m.group(0), _snippet(text, m.start(), m.end())))
    for m in IDENT_RE.finditer(text):  # any other snake_case name: a column, a key, a code name
        if m.group(0) not in SNAKE_IDS and not any(h.token.endswith(m.group(0)) or m.group(0) in h.token for h in hits):
            hits.append(Hit(file, "code name", m.group(0), _snippet(text, m.start(), m.end())))
    if language == "zh":
        data_latin = {w for d in data_words for w in LATIN_RE.findall(d)}
        # a version code (12 hex digits, e.g. 确认单版本 d5aad42582ae) is what a manager quotes when signing
        text = VERSION_RE.sub(lambda m: " " * len(m.group(0)), text)
        # so is a line's printed code (编号 P-3DBDF6): a number to quote, no programme name in it
        text = LINE_CODE_RE.sub(lambda m: " " * len(m.group(0)), text)
        for m in LATIN_RE.finditer(text):
            word = m.group(0)
            if word == "max":
                ok = text[m.start() - 1:m.start()] == "λ"  # only as the subscript of λmax
            else:
                ok = word in ZH_LATIN_OK or word in data_latin
            if not ok:
                hits.append(Hit(file, "English in a Chinese report", word, _snippet(text, m.start(), m.end())))
    else:
        for m in CJK_RE.finditer(text):
            run = m.group(0)
            if run in data_words or not re.search(r"[\u4e00-\u9fff]", run):
                continue  # a data name, or CJK punctuation alone (“·”, full-width brackets)
            hits.append(Hit(file, "Chinese in an English report", run, _snippet(text, m.start(), m.end())))
    # one hit per (kind, token, snippet): the same sentence in a loop is one finding
    return list(dict.fromkeys(hits))


def scan_folder(folder: Path, language: str, data_words: frozenset[str]) -> Iterator[Hit]:
    for path in sorted(folder.rglob("*.html")):
        text = visible_text(path.read_text(encoding="utf-8"))
        yield from scan_text(text, language, str(path.relative_to(folder)), data_words)


def report_kind(rel: str) -> str:
    name = Path(rel).name
    if name.startswith("statement_"):
        return "statement"
    return Path(name).stem


# ------------------------------------------------------------ the scanner works


def test_scanner_finds_planted_developer_text():
    html = """<html><head><title>t</title><style>.a{x:1}</style><script>var leadership_x = 1;</script></head>
    <body><p data-k="sources.commitments_csv">看 <code>leadership.individual_pay: false</code>（05）</p>
    <p>见 params/scoring.yaml 与 targets.csv，笔记本 01 的 new_customers，current 方案，csat 与 CSAT，acquired_date 列</p>
    <img alt="notebook 03 chart" src="x.png"></body></html>"""
    text = visible_text(html)
    assert "var leadership_x" not in text and "x:1" not in text and "sources.commitments_csv" not in text
    found = {(h.kind, h.token) for h in scan_text(text, "zh")}
    assert ("parameter key", "leadership.individual_pay") in found
    assert ("key: value", "individual_pay: false") in found
    assert ("file path", "params/scoring.yaml") in found
    assert ("file name", "targets.csv") in found
    assert ("notebook number", "笔记本 01") in found
    assert ("notebook number", "notebook 03") in found  # alt text is scanned
    assert ("notebook number", "（05）") in found
    assert ("raw id", "new_customers") in found
    assert ("raw id", "csat") in found
    assert ("code name", "acquired_date") in found
    assert ("English in a Chinese report", "current") in found
    assert ("English in a Chinese report", "CSAT") not in found


def test_scanner_leaves_readers_words_alone():
    zh = "销售额 KPI 达成率 CSAT 与 NPS；按 AHP 和 CRITIC 赋权，SMART 检查，导出 Excel、PDF。经理 M001 王伟，例如 1.5 倍。版本 d5aad42582ae，编号 I-4ABC58 与 P-3DBDF6"
    assert scan_text(zh, "zh", data_words=frozenset({"王伟"})) == []
    en = "Sales, profit and visits of 王伟 (east-1), e.g. 1.5 times the target; CSAT and NPS; teamwork · attitude."
    assert scan_text(en, "en", data_words=frozenset({"王伟"})) == []
    hits = scan_text("Weights of 现行方案 for 王伟", "en", data_words=frozenset({"王伟"}))
    assert [(h.kind, h.token) for h in hits] == [("Chinese in an English report", "现行方案")]


# ------------------------------------------------------------ the demo reports


def data_names(demo_dir: Path) -> set[str]:
    """Names from the data a report may show in either language: people, teams, regions,
    product lines (conftest.demo_words), and the team and manager ids (east-1, M001)."""
    import pandas as pd

    teams = pd.read_csv(demo_dir / "teams.csv")["team_id"]
    managers = pd.read_csv(demo_dir / "managers.csv")["manager_id"]
    return demo_words(demo_dir) | set(teams) | set(managers)


KINDS = ["00_data_quality", "01_target_setting", "02_kpi_decomposition", "03_weighting_scenarios",
         "04_quarterly_review", "statement", "05_leadership_summary", "index"]


@pytest.fixture(scope="session")
def word_hits(demo_run, demo_run_en, demo_dir) -> dict[tuple[str, str], list[Hit]]:
    words = frozenset(data_names(demo_dir))
    out: dict[tuple[str, str], list[Hit]] = {}
    for language, (proc, folder) in (("zh", demo_run), ("en", demo_run_en)):
        assert proc.returncode == 0, proc.stderr[-2000:]
        files = sorted(folder.rglob("*.html"))
        assert {report_kind(str(p)) for p in files} == set(KINDS), f"{language}: reports missing"
        for kind in KINDS:
            out[(language, kind)] = []
        for hit in scan_folder(folder, language, words):
            out[(language, report_kind(hit.file))].append(hit)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_reports_show_readers_words_only(word_hits, language, kind):
    hits = word_hits[(language, kind)]
    assert not hits, f"{len(hits)} developer text(s) in {language} {kind}:\n" + "\n".join(map(str, hits[:60]))


def _canonical(language: str) -> dict[str, str]:
    """The display names of the plan: the scheme in force and the indicators it weights,
    read straight from the params files (not from the code that renders them)."""
    from helpers.kpis.measures import KPIS

    demo = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text(encoding="utf-8"))
    scheme_id = demo.get("weight_scheme", "current")
    scheme = yaml.safe_load((ROOT / "params" / "weights" / f"{scheme_id}.yaml").read_text(encoding="utf-8"))
    lib = {i["id"]: i for i in yaml.safe_load((ROOT / "params" / "indicators.yaml").read_text(encoding="utf-8"))["indicators"]}
    names = {"scheme": scheme["name"][language]}
    for iid in scheme["weights"]:
        ind = lib[iid]
        names[iid] = ind.get(language) or getattr(KPIS[ind["kpi"]], language)
    return names


@pytest.mark.slow
@pytest.mark.parametrize("language", ["zh", "en"])
def test_one_name_for_one_thing(demo_run, demo_run_en, language):
    """The scheme in force and its indicators carry the plan's display names in the
    scenarios (03), the quarterly review (04) and the leadership summary (05)."""
    folder = (demo_run if language == "zh" else demo_run_en)[1]
    names = _canonical(language)
    if language == "zh":
        assert names["scheme"] == "现行方案" and names["sales"] == "销售额"  # the table read right
    else:
        assert names["scheme"] == "Current scheme" and names["sales"] == "Sales"
    pages = {p: visible_text(p.read_text(encoding="utf-8")) for p in
             [*folder.glob("*/03_weighting_scenarios.html"), *folder.glob("*/04_quarterly_review.html"),
              *folder.glob("_company/05_leadership_summary.html")]}
    assert len(pages) == 2 * 6 + 1
    missing = []
    for path, text in pages.items():
        # 04 names the scheme and every indicator it weights; 03 names the scheme (its
        # weights are a chart); 05 need not name it, but any quoted scheme label is the plan's
        wanted = {"03": ["scheme"], "04": list(names), "05": []}[path.name[:2]]
        missing += [f"{path.relative_to(folder)}: {names[k]!r} ({k})" for k in wanted if names[k] not in text]
        for m in re.finditer(r"[「“\"]([^」”\"]{1,40})[」”\"]", text):
            if m.group(1).strip() in SCHEME_IDS:
                missing.append(f"{path.relative_to(folder)}: scheme id {m.group(0)} instead of {names['scheme']!r}")
    assert not missing, "\n".join(missing)


SCHEME_IDS = {p.stem for p in (ROOT / "params" / "weights").glob("*.yaml")}
