"""The period life cycle (README, "Period life cycle"): run → sign-off and disputes → close →
restate; the commands ``close``, ``signoff`` and ``history`` and what ``run`` does with
the record.

* Before a run, the files HR keeps (adjustments, disputes, sign-offs) are checked with
  the other inputs (:func:`record_problems`, part of the gate ``validate`` prints) and
  brought into the store (:func:`prepare_record`); the notebooks get a snapshot of the
  store in the run's workspace.
* A run of a **closed** period runs no notebook and publishes nothing over the closed
  reports: it computes the period again with the notebook that declares ``RECORD``,
  writes a restatement report beside the closed reports and books every difference
  not yet booked as a prior-period adjustment of the next open period
  (:func:`restate_closed`).
* ``close`` freezes the published results (each team's ``results.json``) into the
  store in one transaction (:func:`close_period`).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from helpers.errors import InputError, Problem
from helpers.plan.params import RunParams, resolve
from helpers.record.files import read_adjustments, read_disputes, read_signoffs
from helpers.record.results import REF_CODE, Results, concat_results, read_results, ref_code
from helpers.record.store import Store, open_store

__all__ = ["record_problems", "prepare_record", "known_closed", "restate_closed", "close_period", "history_lines",
           "record_signoff", "RESULTS_FILE"]

RESULTS_FILE = "results.json"


def _store(plan: Any) -> Store:
    return open_store(plan.params, plan.params_file, plan.out_root)


def _indicator_ids(params: RunParams, params_file: Path) -> set[str] | None:
    from helpers.kpis.indicators import load_library

    try:
        return set(load_library(resolve(params_file, params.indicators)).ids())
    except (InputError, AttributeError):
        return None


def _line_exists(store: Store) -> Callable[[str, str, str], bool | None]:
    closed = set(store.closed_periods())

    def exists(period: str, manager: str, ref: str) -> bool | None:
        if period not in closed:
            return None  # the period's lines are known once it is published; checked again at close
        if REF_CODE.match(ref):  # the printed code: one of the manager's references of that period has it
            refs = [f"T.{x}" for x in ("hard", "soft", "total")] if not store.frame(
                "grades", period=period, manager_id=manager).empty else []
            refs += ["I." + str(i) for i in store.frame("scores", period=period, manager_id=manager)["indicator"]]
            refs += [str(r) for r in store.frame("pay_lines", period=period, manager_id=manager)["ref"]]
            refs += ["A." + str(a) for a in store.frame("adjustments", manager_id=manager)["adjustment_id"]]
            return any(ref_code(r) == ref for r in refs)
        if ref.startswith("T."):
            return not store.frame("grades", period=period, manager_id=manager).empty
        if ref.startswith("I."):
            return not store.frame("scores", period=period, manager_id=manager, indicator=ref[2:]).empty
        if ref.startswith("A."):
            return not store.frame("adjustments", adjustment_id=ref[2:], manager_id=manager).empty
        return not store.frame("pay_lines", period=period, manager_id=manager, ref=ref).empty
    return exists


def read_hr_files(params: RunParams, params_file: Path, ds: Any, store: Store | None
                  ) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """The adjustments, disputes and sign-off files the params name, checked (all
    problems of all three files at once)."""
    rec = params.record
    managers = set(ds["managers"]["manager_id"].astype(str)) if ds is not None else None
    problems: list[Problem] = []
    out: list[pd.DataFrame | None] = [None, None, None]
    readers = [(rec.adjustments, lambda p: read_adjustments(p, managers, _indicator_ids(params, params_file))),
               (rec.disputes, lambda p: read_disputes(p, managers, _line_exists(store) if store else None)),
               (rec.signoffs, lambda p: read_signoffs(p, managers))]
    for i, (rel, read) in enumerate(readers):
        if rel:
            try:
                out[i] = read(resolve(params_file, rel))
            except InputError as exc:
                problems += exc.problems
    if problems:
        raise InputError(problems)
    return out[0], out[1], out[2]


def record_problems(plan: Any, ds: Any) -> list[Problem]:
    """What the run would refuse about the record: a store that cannot be used, and
    bad rows in the files HR keeps.  Writes nothing."""
    store = _store(plan)
    problems = store.check()
    if problems:
        return problems
    usable = store if not store.is_duckdb or Path(store.label).exists() else None
    try:
        read_hr_files(plan.params, plan.params_file, ds, usable)
    except InputError as exc:
        return exc.problems
    return []


def prepare_record(plan: Any, ds: Any) -> tuple[Store, Any]:
    """Bring the HR files into the store and read the snapshot the notebooks see."""
    from helpers.context.record import Snapshot, take_snapshot

    store = _store(plan)
    rec = plan.params.record
    if store.is_duckdb and not Path(store.label).exists() and not (rec.adjustments or rec.disputes or rec.signoffs):
        return store, Snapshot(store.label)  # nothing recorded yet: the store is made by the first close or sign-off
    adj, disp, sign = read_hr_files(plan.params, plan.params_file, ds, store)
    store.sync(adj, disp, sign)
    return store, take_snapshot(store, plan.period.label)


def known_closed(plan: Any) -> bool:
    """True when the run's period is closed in the store, as far as can be told before the
    run's checks and without writing: a DuckDB file that exists, read read-only.  Such a
    run restates and runs no notebook, so no pool is started for it.  False when it is
    not or cannot be told (another kind of store, a file that cannot be read): the run
    finds out after its checks, as before."""
    try:
        store = _store(plan)
        if not store.is_duckdb or not Path(store.label).is_file():
            return False
        import duckdb

        with duckdb.connect(store.label, read_only=True) as c:
            rows = c.execute("SELECT status FROM periods WHERE period = ?", [plan.period.label]).fetchall()
        return any(r[0] == "closed" for r in rows)
    except Exception:  # noqa: BLE001 - unknown: the run's own checks decide
        return False


# ------------------------------------------------------------------------ restatement


def _record_provider(plan: Any) -> Callable[..., Results] | None:
    from helpers.run.runner import _modules

    for mod in _modules(plan.notebook_dir, plan.notebooks):
        if hasattr(mod, "RECORD"):
            return mod.RECORD
    return None


def _changed_inputs(store: Store, label: str, plan: Any) -> list[str]:
    from helpers.run.runner import sha256

    closed = store.frame("inputs", period=label)
    then = dict(zip(closed["name"].astype(str), closed["sha256"].astype(str)))
    now = {k: sha256(p) for k, p in plan.input_files.items()}
    return sorted(k for k in set(then) | set(now) if then.get(k) != now.get(k))


def restate_closed(plan: Any, ds: Any, store: Store, snap: Any, log: Callable[[str], None]) -> int:
    """A run of a closed period: compute it again, write the restatement report, book
    the differences (see the module's docstring).  Returns the exit code."""
    from helpers.context.record import put_snapshot
    from helpers.context.workbook import prepare_workspace
    from helpers.present.restatement import restatement_html
    from helpers.record.restate import restate
    from helpers.exports import save_csv
    from helpers.atomic import write_text_atomic
    from helpers.run.publish import new_run_id, output_lock
    from helpers.run.runner import precompute

    label = plan.period.label
    provider = _record_provider(plan)
    if provider is None:
        raise InputError(Problem(str(plan.params_file), f"period {label} is closed and none of the notebooks computes "
                                 "its results again", where="key 'notebooks'",
                                 fix="add 04_quarterly_review to the notebooks to restate the period"))
    with output_lock(plan.out_root, plan.wait, plan.command, log):
        workspace = plan.out_root / f".work-{label}-{new_run_id()}"
        try:
            prepare_workspace(plan.params, plan.params_file, workspace, ds)
            put_snapshot(workspace, plan.period, snap)
            precompute(plan, workspace, log)
            now = provider(plan.params_file, workspace, label, plan.language)
        finally:
            shutil.rmtree(workspace, ignore_errors=True)
        closed = store.results(label)
        changed = _changed_inputs(store, label, plan)
        into = store.next_open(label)
        rs = restate(closed, now, store.adjustments(), into, changed, date.today().isoformat())
        store.book(rs.bookings)
        info = {**(store.period(label) or {}), "store": store.label}
        stamp = pd.Timestamp.now().strftime("%Y%m%d-%H%M%S")
        folder = plan.out_root / label / "restatements"
        html = restatement_html(rs, info, plan.params.title_in(plan.language), plan.language)
        page = write_text_atomic(folder / f"restatement-{stamp}.html", html)
        save_csv(rs.lines, folder / f"restatement-{stamp}.csv")
    moved = rs.lines[rs.lines["difference"].abs() >= 0.005]
    log(f"period {label} is closed (on {info.get('closed_at', '?')}): its reports were not rewritten.")
    if moved.empty:
        log(f"restatement: the data now gives the closed figures; nothing to book → {page}")
    else:
        booked = sum(b["amount"] for b in rs.bookings)
        log(f"restatement: {len(moved)} pay line(s) of {len(rs.managers)} manager(s) differ "
            f"({', '.join(rs.managers)}); inputs changed: {', '.join(changed) or 'none'} → {page}")
        log(f"booked {len(rs.bookings)} prior-period adjustment(s) to {into} (total {booked:,.2f})"
            if rs.bookings else "every difference was booked by an earlier restatement; nothing new booked")
    return 0


# ------------------------------------------------------------------------ close


def _opened(params_file: Path, out: Path | None) -> tuple[RunParams, Path, Store]:
    """The params, the output folder (``--out`` or the params') and its store, checked."""
    from helpers.plan.params import load_params

    params = load_params(params_file)
    out_root = (Path(out).expanduser() if out else resolve(params_file, params.output.folder)).resolve()
    store = open_store(params, params_file, out_root)
    problems = store.check()
    if problems:
        raise InputError(problems)
    return params, out_root, store


def close_period(params_file: Path, label: str, out: Path | None, by: str, force: str | None, wait: float,
                 log: Callable[[str], None]) -> int:
    """``kpi-workbook close PERIOD``: freeze the published results into the store."""
    from helpers.periods import parse_period
    from helpers.plan.version import plan_version
    from helpers.run.publish import output_lock, read_manifest

    params, out_root, store = _opened(params_file, out)
    per = parse_period(label)
    folder = out_root / per.label
    if not (folder / "manifest.json").exists():
        raise InputError(Problem(str(folder), f"no published reports of {per.label}",
                                 fix=f"run the period first: kpi-workbook run {params_file} --period {per.label}"))
    with output_lock(out_root, wait, f"kpi-workbook close {per.label}", log):
        if store.is_closed(per.label):
            p = store.period(per.label)
            raise InputError(Problem(store.label, f"period {per.label} was closed on {p['closed_at']} by {p['closed_by']}",
                                     fix="a closed period is never rewritten; run it again to see a restatement"))
        from helpers.context.workbook import load_run_data

        try:  # the managers, for the checks of the HR files
            ds = load_run_data(params, params_file)
        except InputError:
            ds = None
        adj, disp, sign = read_hr_files(params, params_file, ds, store)
        store.sync(adj, disp, sign)
        manifest = read_manifest(folder)
        blockers: list[str] = []
        bad = [r for r in manifest["reports"] if r.get("status") != "ok"]
        for r in bad:
            blockers.append(f"{r['team']}/{r['notebook']} is {r.get('status')}: "
                            f"{(r.get('failure') or {}).get('error', '')}".rstrip(": "))
        bundles, runs = [], set()
        for r in manifest["reports"]:
            if RESULTS_FILE in r.get("artifacts", []) and r.get("status") in ("ok", "stale"):
                bundles.append(read_results(folder / r["team"] / RESULTS_FILE))
                runs.add(r.get("run"))
        if not bundles:
            raise InputError(Problem(str(folder), f"no published results of {per.label} to close",
                                     fix="run the period with notebook 04_quarterly_review first"))
        if ds is not None:  # every team with managers to review in the period has its results published
            from helpers.core.roster import reviewed_teams

            have = {t for b in bundles for t in b.teams}
            for team in sorted(set(reviewed_teams(ds, per)) - have):
                blockers.append(f"team {team} has no published quarterly review of {per.label}: "
                                f"run it (kpi-workbook run {params_file} --period {per.label} --team {team})")
        open_disputes = store.frame("disputes", period=per.label, status="open")
        for d in open_disputes.itertuples():
            blockers.append(f"dispute {d.dispute_id} of {d.manager_id} about {d.line_ref} is open")
        versions = {b.plan_version for b in bundles}
        now_version, shas = plan_version(params, params_file)
        if len(versions) > 1:
            blockers.append(f"the teams were scored under different plan versions ({', '.join(sorted(versions))}): "
                            "run the period again for all teams")
        elif versions != {now_version}:
            blockers.append(f"the methodology files changed since the reports were produced (plan version "
                            f"{versions.pop()} then, {now_version} now): run the period again before closing")
        inputs: dict[str, dict[str, Any]] = {}
        for run in sorted(x for x in runs if x):
            for name, meta in (manifest["runs"].get(run) or {}).get("inputs", {}).items():
                prev = inputs.get(name)
                if prev and prev["sha256"] != meta.get("sha256"):
                    blockers.append(f"input {name} differs between the runs that produced the reports: "
                                    "run the period again for all teams")
                inputs[name] = {"name": name, "path": meta.get("path"), "sha256": meta.get("sha256"),
                                "bytes": meta.get("bytes"), "run": run}
        if blockers and not force:
            raise InputError([Problem(str(folder), b, fix="fix it, or close anyway with --force \"REASON\" "
                                      "(the reason is recorded)") for b in blockers])
        results = concat_results(bundles)
        reason = None
        if blockers:
            reason = f"{force} [forced past: {'; '.join(blockers)}]"
        row = store.close(results, list(inputs.values()), shas, by, reason)
        refresh_index(params, store, folder)
    log(f"closed {per.label}: {row['managers']} managers, pay total {row['pay_total']:,.2f}, results version "
        f"{row['results_version']}, plan version {row['plan_version']} → {store.label}")
    if reason:
        log(f"forced: {reason}")
    return 0


# ------------------------------------------------------------------------ sign-off and history


def record_signoff(params_file: Path, label: str, manager: str, status: str, when: str | None,
                   version: str | None, out: Path | None, log: Callable[[str], None]) -> int:
    """``kpi-workbook signoff PERIOD MANAGER``: record a manager's signature (or refusal)."""
    from helpers.periods import parse_period

    params, out_root, store = _opened(params_file, out)
    per = parse_period(label)
    if status not in ("signed", "refused"):
        raise InputError(Problem("--status", f"'{status}' is not a sign-off status", fix="use signed or refused"))
    current = current_version(store, out_root / per.label, per.label, manager)
    if current is None:
        raise InputError(Problem(str(out_root / per.label), f"{manager} has no statement of {per.label}",
                                 fix="check the manager id and the period, or run the period first"))
    if version and version != current:
        raise InputError(Problem("--version", f"{manager}'s statement of {per.label} is version {current}, not {version}",
                                 fix="the manager signs the current statement; print it again and sign that one"))
    when = when or date.today().isoformat()
    store.signoff(per.label, manager, status, when, current)
    if (out_root / per.label / "manifest.json").exists():
        from helpers.run.publish import output_lock

        with output_lock(out_root, 30.0, f"kpi-workbook signoff {per.label} {manager}", log):
            refresh_index(params, store, out_root / per.label)
    log(f"recorded: {manager} {status} the statement of {per.label} (version {current}) on {when} → {store.label}")
    return 0


def current_version(store: Store, folder: Path, label: str, manager: str) -> str | None:
    """The version of ``manager``'s statement of ``label``: the closed one, else the published one."""
    if store.is_closed(label):
        g = store.frame("grades", period=label, manager_id=manager)
        return None if g.empty else str(g["version"].iloc[0])
    for f in sorted(folder.glob(f"*/{RESULTS_FILE}")):
        res = read_results(f)
        if manager in res.managers:
            return res.version(manager, store.adjustments(period=label))
    return None


def _s(x: Any) -> str:
    """A text cell of the store for a person: '' for none."""
    return "" if x is None or (isinstance(x, float) and pd.isna(x)) else str(x)


def history_lines(params_file: Path, manager: str, out: Path | None) -> list[str]:
    """``kpi-workbook history MANAGER``: a person's record across periods, as text lines."""
    _, _, store = _opened(params_file, out)
    grades = store.frame("grades", manager_id=manager).sort_values("period")
    adj = store.adjustments(manager_id=manager)
    disputes = store.frame("disputes", manager_id=manager).sort_values(["period", "dispute_id"])
    signs = store.frame("signoffs", manager_id=manager)
    periods = sorted(set(grades["period"]) | set(adj["period"]) | set(disputes["period"]) | set(signs["period"]))
    if not periods:
        raise InputError(Problem(store.label, f"the record has nothing about {manager}",
                                 fix="check the manager id; periods appear once they are closed"))
    name = grades["name"].dropna().iloc[-1] if len(grades) else manager
    lines = [f"{manager} {name} — record in {store.label}", ""]
    head = f"{'period':<8} {'status':<7} {'team':<10} {'total':>6} {'grade':<5} {'payout':>12} {'adjust.':>11} " \
           f"{'pay total':>12}  {'version':<12}  sign-off"
    lines += [head, "-" * len(head)]
    closed = set(store.closed_periods())
    for p in periods:
        g = grades[grades["period"] == p]
        s = signs[signs["period"] == p]
        sign = "—"
        if len(s):
            r = s.iloc[0]
            sign = f"{r['status']} {r['date'] or ''}".strip()
            if len(g) and r["version"] and r["version"] != g["version"].iloc[0]:
                sign += f" (version {r['version']}, not the closed one)"
        a_sum = float(adj.loc[adj["period"] == p, "amount"].fillna(0).sum())
        if len(g):
            r = g.iloc[0]
            total = "" if pd.isna(r["total"]) else f"{r['total']:.1f}"
            lines.append(f"{p:<8} {'closed':<7} {str(r['team_id']):<10} {total:>6} {str(r['grade']):<5} "
                         f"{r['payout']:>12,.2f} {r['adjustments']:>11,.2f} {r['pay_total']:>12,.2f}  "
                         f"{str(r['version']):<12}  {sign}")
        else:
            state = "closed" if p in closed else "open"
            lines.append(f"{p:<8} {state:<7} {'':<10} {'':>6} {'':<5} {'':>12} {a_sum:>11,.2f} {'':>12}  "
                         f"{'':<12}  {sign}")
    if len(adj):
        lines += ["", "adjustments:"]
        for r in adj.itertuples():
            what = f"{r.amount:+,.2f}" if pd.notna(r.amount) else f"{r.indicator} credit {r.credit:+,g}"
            rel = f" re {r.relates_to_period} {r.relates_to_ref}" if _s(r.relates_to_ref) else ""
            by = f", approved by {r.approved_by}" if _s(r.approved_by) else ""
            when = f" on {r.date}" if _s(r.date) else ""
            lines.append(f"  {r.period}  {r.adjustment_id}: {what} {r.reason_code}{rel} ({r.source}{by}{when}) "
                         f"{_s(r.reason)}".rstrip())
    if len(disputes):
        lines += ["", "disputes:"]
        for r in disputes.itertuples():
            amt = f", {r.amount:+,.2f}" if pd.notna(r.amount) else ""
            decided = f", decided by {r.decided_by} on {r.decided_on}" if _s(r.decided_by) else ""
            lines.append(f"  {r.period}  {r.dispute_id} about {r.line_ref}, raised {r.raised_on}: {r.status}{amt}"
                         f"{decided}{' (' + _s(r.text) + ')' if _s(r.text) else ''}")
    return lines


def index_record(manifest: dict[str, Any], folders: list[Path], signoffs: pd.DataFrame, closed: bool,
                 closed_at: str | None) -> dict[str, Any]:
    """What the index shows of the record: closed or open, and per team how many of its
    managers signed (or refused) their statement.  ``folders``: where the teams'
    ``results.json`` are (this run's staging folder first, then the published one)."""
    teams: dict[str, dict[str, int]] = {}
    for e in manifest.get("reports", []):
        if RESULTS_FILE not in e.get("artifacts", []) or e["team"] in teams:
            continue
        path = next((f / e["team"] / RESULTS_FILE for f in folders if (f / e["team"] / RESULTS_FILE).exists()), None)
        if path is None:
            continue
        ids = set(read_results(path).managers)
        mine = signoffs[signoffs["manager_id"].isin(ids)] if len(signoffs) else signoffs
        teams[e["team"]] = {"n": len(ids), "signed": int((mine["status"] == "signed").sum()) if len(mine) else 0,
                            "refused": int((mine["status"] == "refused").sum()) if len(mine) else 0}
    return {"closed": closed, "closed_at": closed_at, "signoff": teams}


def refresh_index(params: RunParams, store: Store, folder: Path, language: str | None = None) -> None:
    """Rebuild ``folder/index.html`` from its manifest with the record's current state
    (after ``close`` or ``signoff``); nothing else in the folder changes."""
    from helpers.atomic import write_text_atomic
    from helpers.present.index_page import index_html
    from helpers.run.publish import read_manifest

    manifest = read_manifest(folder)
    if not manifest.get("reports"):
        return
    label = folder.name
    p = store.period(label) or {}
    rec = index_record(manifest, [folder], store.frame("signoffs", period=label), p.get("status") == "closed",
                       p.get("closed_at"))
    lang = language or manifest.get("reports", [{}])[0].get("language") or params.language
    order = list(params.notebooks)
    write_text_atomic(folder / "index.html", index_html(manifest, lang, params.title_in(lang), order, rec))
