"""Strategy → objectives → indicators: the KPI tree (notebook 02).

A *strategy file* (``params/strategies/*.yaml``) turns a company strategy ("win new
customers", "move up-market", "grow market share", "build loyalty") into weighted
indicators for customer managers, as the methodology asks (``shared/seeds``: 分解战略
目标到个人绩效指标; 业绩考核 hard results vs 市场考核 market work; different indicators per
customer type; re-weighting when the strategy shifts).

The tree
--------
::

    strategy (root)
    ├── hard  业绩考核  split.hard          e.g. 0.7
    │   └── objective        weight        (share of its parent)
    │       ├── sub-objective weight        (optional, any depth: parent = an objective)
    │       └── indicator    weight        (an id of indicators.yaml)
    └── soft  市场考核  split.soft          e.g. 0.3

* Each objective names its ``parent``: ``hard``, ``soft`` or another objective.
* The weights below each node sum to 1 (within :data:`WEIGHT_TOL`; then normalised).
* **Global weight** of a node = the product of the local weights down its path:
  hard 0.7 × objective 0.5 × indicator 0.4 = 0.14.  The global weights of the
  indicators sum to 1.
* An indicator's library ``kind`` must match its pillar (a soft indicator under
  业绩考核 would make the stated 70/30 split untrue).

Cascade (company → region → team → manager)
-------------------------------------------
One file describes the company tree.  ``overrides.regions.<region>`` and
``overrides.teams.<team_id>`` replace local weights of named nodes (pillars,
objectives or indicators; the structure stays the same).  The tree of a team is the
company tree with its region's override applied, then its team's override: the most
specific wins.  Every resolved tree is validated like the company tree.  A
*manager's* tree is the team's tree without the indicators that do not apply to the
customer segments the manager serves (``applies_to`` in the library); the remaining
siblings are re-normalised (:func:`for_manager`).

Validation (:func:`strategy_problems`, :func:`check`) reports every problem at once,
naming the file, the node and the numbers: unknown indicator, duplicate ids, cycles,
orphans (objectives whose parent does not exist, or with nothing below them),
weights that do not sum to 1, kind/pillar mismatch, bad segment defaults, overrides
naming unknown nodes.  SMART failures and missing data are *warnings*
(:func:`helpers.run.checks.strategy_warnings`; shown in the report), never errors.

Dynamic adjustment
------------------
:func:`weight_changes` compares the global weights of two trees;
:func:`rank_shift` scores managers under both (:func:`percentile_scores`, then a
weighted mean) and shows whose rank moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from helpers.plan.strategy import (  # the file's models, re-exported with the tree they describe
    PILLARS,
    ROOT,
    WEIGHT_TOL,
    Objective,
    StrategyFile,
)
from helpers.core.phrases import Bilingual
from helpers.errors import InputError, Problem
from helpers.kpis.indicators import (
    UNIT_RANGES,
    Library,
)
from helpers.core.weighting import ranks


# ----------------------------------------------------------------------------- validation


def _num(x: float) -> str:
    return f"{x:.6g}"


def _parents(spec: StrategyFile) -> dict[str, list[str]]:
    """node id → ordered child node ids (root → pillars → objectives → indicators)."""
    kids: dict[str, list[str]] = {ROOT: list(PILLARS), **{p: [] for p in PILLARS}}
    for o in spec.objectives:
        kids.setdefault(o.id, [])
    for o in spec.objectives:
        kids.setdefault(o.parent, []).append(o.id)
    for o in spec.objectives:
        kids[o.id] = [i.id for i in o.indicators] + kids[o.id]
    return kids


def _declared(spec: StrategyFile) -> dict[str, float]:
    """node id → local weight as written (root 1)."""
    w = {ROOT: 1.0, "hard": spec.split.hard, "soft": spec.split.soft}
    for o in spec.objectives:
        w[o.id] = o.weight
        for i in o.indicators:
            w.setdefault(i.id, i.weight)
    return w


def _sum_problems(spec: StrategyFile, weights: Mapping[str, float], source: str, scope: str = "") -> list[Problem]:
    """Every internal node whose children's weights do not sum to 1 (± WEIGHT_TOL)."""
    kids = _parents(spec)
    suffix = f" ({scope})" if scope else ""
    out = []
    objective_ids = {o.id for o in spec.objectives}
    for node in [ROOT, *PILLARS, *[o.id for o in spec.objectives]]:
        children = kids.get(node, [])
        if node in PILLARS and not children:
            if weights[node] > 0:
                out.append(Problem(source, f"has weight {_num(weights[node])} but no objectives",
                                   where=f"pillar '{node}'{suffix}",
                                   fix=f"add an objective with parent: {node}, or set split.{node} to 0"))
            continue
        if not children:
            continue  # an objective with nothing below it: reported as an orphan
        total = sum(weights[c] for c in children)
        if abs(total - 1) > WEIGHT_TOL:
            terms = " + ".join(f"{c} {_num(weights[c])}" for c in children)
            if node == ROOT:
                where = f"split (hard = 业绩考核, soft = 市场考核){suffix}"
            elif node in PILLARS:
                where = f"pillar '{node}'{suffix}"
            else:
                where = f"objective '{node}'{suffix}" if node in objective_ids else f"node '{node}'{suffix}"
            out.append(Problem(source, f"weights sum to {_num(total)} ({terms})", where=where,
                               fix=f"make them add up to 1 (now off by {total - 1:+.6g})"))
    return out


def strategy_problems(
    spec: StrategyFile,
    library: Library,
    source: str,
    teams: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Everything wrong with a parsed strategy file, as problems naming node and numbers.

    ``teams`` is accepted for compatibility; overrides naming regions or teams the data
    lacks are warnings (:func:`override_warnings`), not problems.
    """
    P: list[Problem] = []
    lib_src = Path(library.source).name
    ids = [o.id for o in spec.objectives]
    by_id = {o.id: o for o in spec.objectives}
    # duplicate and clashing ids
    for oid in sorted({i for i in ids if ids.count(i) > 1}):
        P.append(Problem(source, f"objective id '{oid}' is used {ids.count(oid)} times", where=f"objective '{oid}'",
                         fix="give each objective its own id"))
    for oid in dict.fromkeys(ids):
        if oid in PILLARS:
            P.append(Problem(source, f"objective id '{oid}' is reserved for a pillar", where=f"objective '{oid}'",
                             fix="rename the objective"))
        elif oid in library:
            P.append(Problem(source, f"objective id '{oid}' is also an indicator id", where=f"objective '{oid}'",
                             fix="rename the objective: ids in the tree must be unique"))
    # parents: orphans and cycles
    for o in spec.objectives:
        if o.parent not in PILLARS and o.parent not in by_id:
            P.append(Problem(source, f"parent '{o.parent}' is neither a pillar (hard, soft) nor an objective of this file",
                             where=f"objective '{o.id}'", fix="set parent to hard, soft or an existing objective id"))
    reported: set[frozenset[str]] = set()
    for o in spec.objectives:
        chain, node = [o.id], o.parent
        while node in by_id and node not in chain:
            chain.append(node)
            node = by_id[node].parent
        if node in chain:
            cycle = chain[chain.index(node):]
            key = frozenset(cycle)
            if key not in reported:
                reported.add(key)
                path = " → ".join(f"'{c}'" for c in cycle + [node])
                P.append(Problem(source, f"objectives form a cycle: {path}", where=f"objective '{cycle[0]}'",
                                 fix="give one of them parent: hard or soft"))
    kids = _parents(spec)
    for o in spec.objectives:
        if not kids.get(o.id):
            P.append(Problem(source, "has no indicators and no sub-objectives (an orphan branch)", where=f"objective '{o.id}'",
                             fix="add indicators under it, or remove it"))
    # indicators: unknown, duplicated, kind vs pillar
    seen: dict[str, list[str]] = {}
    for o in spec.objectives:
        for i in o.indicators:
            seen.setdefault(i.id, []).append(o.id)
            if i.id not in library:
                near = library.suggest(i.id)
                hint = f" (did you mean '{near}'?)" if near else ""
                P.append(Problem(source, f"unknown indicator '{i.id}'", where=f"objective '{o.id}'",
                                 fix=f"use an id from {lib_src}{hint}"))
    for iid, where in seen.items():
        if len(where) > 1:
            objs = ", ".join(f"'{w}'" for w in where)
            P.append(Problem(source, f"indicator '{iid}' appears {len(where)} times (objectives {objs})",
                             where=f"indicator '{iid}'", fix="keep it under one objective (weights would count twice)"))
    for o in spec.objectives:
        pillar = _pillar_of(o.id, by_id)
        if pillar is None:
            continue
        for i in o.indicators:
            if i.id in library and library[i.id].kind != pillar:
                kind = library[i.id].kind
                P.append(Problem(source, f"indicator '{i.id}' is {kind} ({_PILLAR_ZH[kind]}) but sits under pillar "
                                 f"'{pillar}' ({_PILLAR_ZH[pillar]})", where=f"objective '{o.id}'",
                                 fix=f"move it under a {kind} objective, or change its kind in {lib_src}"))
    # weights
    declared = _declared(spec)
    P.extend(_sum_problems(spec, declared, source))
    # segment defaults
    for seg, targets in spec.segment_defaults.items():
        for k, tg in enumerate(targets):
            where = f"segment_defaults.{seg}[{k}]"
            if tg.indicator not in library:
                near = library.suggest(tg.indicator)
                hint = f" (did you mean '{near}'?)" if near else ""
                P.append(Problem(source, f"unknown indicator '{tg.indicator}'", where=where, fix=f"use an id from {lib_src}{hint}"))
                continue
            ind = library[tg.indicator]
            if seg not in ind.applies_to:
                P.append(Problem(source, f"indicator '{tg.indicator}' applies to {', '.join(ind.applies_to)}, not {seg}",
                                 where=where, fix="list it under a segment it applies to"))
            lo, hi = UNIT_RANGES[ind.unit]
            if tg.type == "growth" and tg.target <= -1:
                P.append(Problem(source, f"growth target {_num(tg.target)} is below −100 %", where=where,
                                 fix="write growth as a fraction, e.g. 0.2 for +20 %"))
            if tg.type == "level":
                for what, v in (("target", tg.target), ("baseline", tg.baseline)):
                    if v is not None and not lo <= v <= hi:
                        P.append(Problem(source, f"{what} {_num(v)} is outside {_num(lo)}…{_num(hi)} for a {ind.unit}",
                                         where=where, fix="write ratios as fractions, e.g. 0.9 for 90 %"))
    # overrides
    nodes = set(declared)
    for level, table in (("region", spec.overrides.regions), ("team", spec.overrides.teams)):
        for name, ov in table.items():
            scope = f"override for {level} {name}"
            unknown = [k for k in ov.weights if k not in nodes or k == ROOT]
            for k in unknown:
                P.append(Problem(source, f"'{k}' is not a node of the tree", where=scope,
                                 fix="use a pillar (hard, soft), an objective id or an indicator id of this file"))
            if unknown:
                continue
            P.extend(_sum_problems(spec, {**declared, **ov.weights}, source, scope))
    return P


def override_warnings(spec: StrategyFile, teams: Mapping[str, str], source: str) -> list[Problem]:
    """Overrides for regions or teams the data does not have (``teams``: team id → region).

    Not errors: a preset written for one company (the shipped strategies name the demo's
    regions) still applies to another, without the overrides that do not fit — each is
    skipped and said once, so a misspelt region is still noticed."""
    out: list[Problem] = []
    regions = set(teams.values())
    for name in spec.overrides.regions:
        if name not in regions:
            out.append(Problem(source, f"region '{name}' is not in the data: its override is not used",
                               where=f"overrides.regions.{name}",
                               fix=f"regions in the data: {', '.join(sorted(regions))}"))
    for name in spec.overrides.teams:
        if name not in teams:
            out.append(Problem(source, f"team '{name}' is not in the data: its override is not used",
                               where=f"overrides.teams.{name}", fix=f"teams in the data: {', '.join(sorted(teams))}"))
    return out


_PILLAR_ZH = {"hard": "业绩考核", "soft": "市场考核"}


def _pillar_of(oid: str, by_id: Mapping[str, Objective]) -> str | None:
    """The pillar an objective sits under (None if its chain is broken or cyclic)."""
    seen: set[str] = set()
    node = oid
    while node in by_id and node not in seen:
        seen.add(node)
        node = by_id[node].parent
    return node if node in PILLARS else None


# ----------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Strategy:
    """A validated strategy file with the library it refers to."""

    spec: StrategyFile
    library: Library
    source: str  # as named to the user, e.g. "strategies/expansion.yaml"

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def label(self) -> Bilingual:
        """The strategy's name, in both languages (worded by the presentation)."""
        return Bilingual(self.spec.zh, self.spec.en)

    @property
    def summary(self) -> Bilingual:
        return Bilingual(self.spec.summary.zh, self.spec.summary.en)

    def objective(self, oid: str) -> Objective:
        return next(o for o in self.spec.objectives if o.id == oid)

    def tree(self, region: str | None = None, team: str | None = None) -> "KpiTree":
        """The resolved tree: company weights, then the region's override, then the team's."""
        return build_tree(self, region, team)

    def targets(self) -> pd.DataFrame:
        """Segment defaults: segment, indicator, name, target, type, baseline, per, scope, note
        (name and note as :class:`~helpers.core.phrases.Bilingual`, both languages)."""
        rows = []
        for seg, targets in self.spec.segment_defaults.items():
            for tg in targets:
                note = "" if tg.note is None else Bilingual(tg.note.zh, tg.note.en)
                ind = self.library[tg.indicator]
                rows.append({"segment": seg, "indicator": tg.indicator, "name": Bilingual(ind.zh, ind.en),
                             "target": tg.target, "type": tg.type, "baseline": tg.baseline, "per": tg.per,
                             "scope": tg.scope, "note": note})
        cols = ["segment", "indicator", "name", "target", "type", "baseline", "per", "scope", "note"]
        return pd.DataFrame(rows, columns=cols)


# ----------------------------------------------------------------------------- tree


TREE_COLUMNS = ["id", "parent", "kind", "depth", "zh", "en", "declared", "local", "weight", "pillar", "path"]


@dataclass(frozen=True)
class KpiTree:
    """A resolved KPI tree: one row per node, depth first (root, pillars, objectives, indicators).

    ``nodes`` columns: id, parent, kind (strategy | pillar | objective | indicator),
    depth (root 0), zh, en (names; a pillar's are left to the presentation, whose catalog
    holds them: :func:`helpers.notebooks.decomposition.named`), declared (local weight as written, after overrides),
    local (normalised share of the parent), weight (global: product of the local
    weights down the path), pillar (hard | soft), path ("root/hard/objective/id").
    """

    strategy: Strategy
    nodes: pd.DataFrame
    scope: str = "company"
    applied: tuple[str, ...] = ()  # labels of the overrides applied, most general first
    dropped: tuple[str, ...] = field(default=())  # indicators removed for a manager (for_manager)

    def indicators(self) -> pd.DataFrame:
        """The leaves (indicator rows), depth-first order."""
        return self.nodes[self.nodes["kind"] == "indicator"].reset_index(drop=True)

    def weights(self) -> pd.Series:
        """indicator id → global weight (sums to 1)."""
        leaves = self.indicators()
        return pd.Series(leaves["weight"].to_numpy(), index=pd.Index(leaves["id"], name="indicator"), name="weight")

    def label(self, node: str) -> Bilingual:
        row = self.nodes.loc[self.nodes["id"] == node].iloc[0]
        return Bilingual(str(row["zh"]), str(row["en"]))

    def export(self) -> pd.DataFrame:
        """The artifact ``kpi_tree.csv``: path, local weight, global weight per node (the
        name as :class:`~helpers.core.phrases.Bilingual`, worded by the presentation)."""
        n = self.nodes
        return pd.DataFrame({
            "strategy": self.strategy.id,
            "scope": self.scope,
            "path": n["path"],
            "level": n["depth"],
            "kind": n["kind"],
            "id": n["id"].where(n["kind"] != "strategy", self.strategy.id),
            "name": [Bilingual(str(a), str(b)) for a, b in zip(n["zh"], n["en"])],
            "local_weight": n["local"],
            "global_weight": n["weight"],
        })


def build_tree(strategy: Strategy, region: str | None = None, team: str | None = None) -> KpiTree:
    """Resolve the tree for a scope (company; region; team) and compute global weights.

    Local weights: the file's, replaced by ``overrides.regions[region]`` and then by
    ``overrides.teams[team]`` (most specific wins).  Each node's children are
    normalised to sum 1 (they already do within :data:`WEIGHT_TOL`), and
    ``weight(node) = Π local(n)`` over the nodes on the path from the root.
    """
    spec, lib = strategy.spec, strategy.library
    declared = _declared(spec)
    applied: list[str] = []
    scope = "company"
    for level, name, table in (("region", region, spec.overrides.regions), ("team", team, spec.overrides.teams)):
        if name is not None:
            scope = f"{level} {name}"
            if name in table:
                declared.update(table[name].weights)
                applied.append(f"{level} {name}")
    problems = _sum_problems(spec, declared, strategy.source, scope if applied else "")
    if problems:
        raise InputError(problems)
    kids = _parents(spec)
    by_id = {o.id: o for o in spec.objectives}
    rows: list[dict] = []

    def visit(node: str, parent: str | None, depth: int, local: float, weight: float, path: str, pillar: str) -> None:
        if node == ROOT:
            kind, zh, en = "strategy", spec.zh, spec.en
        elif node in PILLARS:  # named by the presentation (the catalog's pillar.hard / pillar.soft)
            kind, zh, en = "pillar", "", ""
        elif node in by_id:
            kind, zh, en = "objective", by_id[node].zh, by_id[node].en
        else:
            kind, zh, en = "indicator", lib[node].zh, lib[node].en
        rows.append({"id": node, "parent": parent, "kind": kind, "depth": depth, "zh": zh, "en": en,
                     "declared": declared[node], "local": local, "weight": weight,
                     "pillar": pillar, "path": path})
        children = kids.get(node, [])
        total = sum(declared[c] for c in children)
        for c in children:
            share = declared[c] / total if total > 0 else 0.0
            visit(c, node, depth + 1, share, weight * share, f"{path}/{c}", c if node == ROOT else pillar)

    visit(ROOT, None, 0, 1.0, 1.0, spec.id, "")
    nodes = pd.DataFrame(rows, columns=TREE_COLUMNS)
    return KpiTree(strategy, nodes, scope, tuple(applied))


def scheme_tree(strategy: Strategy, weights: pd.Series, split: float, soft: Iterable[str], name: Bilingual) -> KpiTree:
    """The plan the review pays on, as a tree: root (the scheme) → 业绩考核 (``split``) → the
    scheme's indicators with their weights, and 市场考核 (``1 − split``) → the soft ratings
    with equal shares (the review averages them).  Global weights are each indicator's
    share of the total score, as in :func:`build_tree`."""
    lib = strategy.library
    soft = list(soft)
    w = weights / weights.sum() if weights.sum() > 0 else weights
    rows: list[dict] = [{"id": ROOT, "parent": None, "kind": "strategy", "depth": 0, "zh": name.zh, "en": name.en,
                         "declared": 1.0, "local": 1.0, "weight": 1.0, "pillar": "", "path": "plan"}]
    pillars = (("hard", split, [(i, float(v)) for i, v in w.items()]),
               ("soft", 1.0 - split, [(i, 1.0 / len(soft)) for i in soft] if soft else []))
    for pillar, share, kids in pillars:
        if share <= 0 and not kids:
            continue
        rows.append({"id": pillar, "parent": ROOT, "kind": "pillar", "depth": 1, "zh": "", "en": "",
                     "declared": share, "local": share, "weight": share, "pillar": pillar, "path": f"plan/{pillar}"})
        for iid, local in kids:
            rows.append({"id": iid, "parent": pillar, "kind": "indicator", "depth": 2, "zh": lib[iid].zh,
                         "en": lib[iid].en, "declared": local, "local": local, "weight": share * local,
                         "pillar": pillar, "path": f"plan/{pillar}/{iid}"})
    return KpiTree(strategy, pd.DataFrame(rows, columns=TREE_COLUMNS), "plan in force")


def for_manager(tree: KpiTree, segments: Iterable[str], manager: str = "") -> KpiTree:
    """The tree of one manager: drop indicators that do not apply to the segments served.

    An indicator applies when ``applies_to`` ∩ ``segments`` ≠ ∅.  Dropped leaves get
    local weight 0; an objective left with nothing applicable is dropped too; the
    remaining siblings are re-normalised (``local' = local / Σ local of the kept
    siblings``) and global weights recomputed.  With every indicator applicable the
    tree is unchanged.
    """
    segs = set(segments)
    lib = tree.strategy.library
    n = tree.nodes.copy()
    applicable = {r.id: (r.kind != "indicator" or bool(segs & set(lib[r.id].applies_to))) for r in n.itertuples()}
    children: dict[str, list[str]] = {}
    for r in n.itertuples():
        if pd.notna(r.parent):
            children.setdefault(r.parent, []).append(r.id)

    def alive(node: str) -> bool:
        kids = children.get(node, [])
        return applicable[node] and (not kids or any(alive(k) for k in kids))

    keep = {node: alive(node) for node in n["id"]}
    local = dict(zip(n["id"], n["local"]))
    new_local: dict[str, float] = {}
    for parent, kids in children.items():
        total = sum(local[k] for k in kids if keep[k])
        for k in kids:
            new_local[k] = local[k] / total if keep[k] and total > 0 else 0.0
    root = n["id"].iloc[0]
    new_local[root] = 1.0
    weight: dict[str, float] = {}
    for r in n.itertuples():  # depth-first order: parents come first
        weight[r.id] = new_local[r.id] * (weight[r.parent] if pd.notna(r.parent) else 1.0)
    n["local"] = n["id"].map(new_local)
    n["weight"] = n["id"].map(weight)
    dropped = tuple(r.id for r in n.itertuples() if r.kind == "indicator" and not keep[r.id])
    n = n[n["id"].map(keep)].reset_index(drop=True)
    return KpiTree(tree.strategy, n, f"manager {manager}".strip(), tree.applied, dropped)


# ----------------------------------------------------------------------------- adjustment


def weight_changes(current: KpiTree, alternative: KpiTree) -> pd.DataFrame:
    """Global weight of every indicator under both trees and the change.

    Columns: indicator, current, alternative, change (= alternative − current; an
    indicator absent from a tree has weight 0 there).  Sorted by change, largest
    increase first.
    """
    a, b = current.weights(), alternative.weights()
    ids = list(dict.fromkeys([*a.index, *b.index]))
    df = pd.DataFrame({"indicator": ids,
                       "current": [float(a.get(i, 0.0)) for i in ids],
                       "alternative": [float(b.get(i, 0.0)) for i in ids]})
    df["change"] = df["alternative"] - df["current"]
    return df.sort_values("change", ascending=False, kind="stable").reset_index(drop=True)


def pillar_split(tree: KpiTree) -> dict[str, float]:
    """Global weight of each pillar (hard, soft)."""
    n = tree.nodes
    return {p: float(n.loc[(n["kind"] == "pillar") & (n["id"] == p), "weight"].sum()) for p in PILLARS}


def percentile_scores(values: pd.DataFrame, library: Library) -> pd.DataFrame:
    """Each indicator turned into a 0–100 percentile rank among the managers given.

    For indicator j and manager i with a value, among the n_j managers with a value::

        p_ij = 100 × (below_ij + ½ · equal_ij) / n_j

    where *below* counts managers with a worse value (lower if higher is better,
    higher if lower is better) and *equal* the managers with the same value, i
    included (the mid-point percentile rank; a median manager scores 50, ties share a
    score).  Missing values stay NaN (not zero).
    """
    library.check_known([str(c) for c in values.columns], library.source)
    out = pd.DataFrame(index=values.index)
    for col in values.columns:
        v = pd.to_numeric(values[col], errors="coerce").astype(float)
        better_high = library[col].higher_is_better
        r = (v if better_high else -v).rank(method="average")  # rank_avg = below + (equal + 1) / 2
        n = int(v.notna().sum())
        out[col] = 100.0 * (r - 0.5) / n if n else np.nan
    return out


def strategy_scores(values: pd.DataFrame, weights: pd.Series, library: Library) -> pd.DataFrame:
    """Score each manager under one set of global weights, for ranking.

    ``score_i = Σ_j w_j p_ij / Σ_j w_j`` over the indicators j with a value for i
    (``p`` from :func:`percentile_scores`); indicators nobody has (no data) and a
    manager's missing values drop out and the remaining weights are re-scaled, so a
    missing value is never a zero.  ``coverage`` = Σ of the weights used (1 when
    nothing is missing).  Rank 1 = best (:func:`helpers.core.weighting.ranks`,
    competition ranking); managers without any value have no score and no rank.
    Columns: score, coverage, rank.
    """
    w = weights[weights > 0]
    missing = [i for i in w.index if i not in values.columns]
    cols = [i for i in w.index if i in values.columns]
    p = percentile_scores(values[cols], library) if cols else pd.DataFrame(index=values.index)
    for i in missing:
        p[i] = np.nan
    p = p[list(w.index)]
    has = p.notna().to_numpy()
    wv = w.to_numpy(dtype=float)
    used = has @ wv
    total = np.nan_to_num(p.to_numpy(dtype=float)) @ wv
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(used > 0, total / np.where(used > 0, used, 1.0), np.nan)
    out = pd.DataFrame({"score": score, "coverage": used}, index=values.index)
    ok = out["score"].notna()
    out["rank"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    if ok.any():
        out.loc[ok, "rank"] = ranks(out.loc[ok, "score"]).astype("Int64")
    return out


def rank_shift(values: pd.DataFrame, current: KpiTree, alternative: KpiTree) -> pd.DataFrame:
    """Scores and ranks of every manager under both trees, and the move.

    Columns: score_current, rank_current, score_alternative, rank_alternative, move
    (= rank_current − rank_alternative: positive = moves up under the alternative),
    coverage_current, coverage_alternative.
    """
    lib = current.strategy.library
    a = strategy_scores(values, current.weights(), lib)
    b = strategy_scores(values, alternative.weights(), lib)
    out = pd.DataFrame({
        "score_current": a["score"], "rank_current": a["rank"],
        "score_alternative": b["score"], "rank_alternative": b["rank"],
    })
    out["move"] = (out["rank_current"] - out["rank_alternative"]).astype("Int64")
    out["coverage_current"], out["coverage_alternative"] = a["coverage"], b["coverage"]
    return out


# ----------------------------------------------------------------------------- params


