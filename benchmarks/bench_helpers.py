"""Helpers at scale: scoring 100,000 managers × 20 indicators, and the weighting
robustness sampling (10,000 draws × 1,000 managers × 20 indicators).

Scoring = the whole chain of :mod:`helpers.core.scoring`: attainment (actual ÷ target,
half the indicators lower-is-better) → piecewise-linear score curve per indicator →
weighted total → absolute grade.  Best of 3 after a warm-up.  Its baseline is the
same chain done row by row (one manager at a time with the same helpers), timed on
a sample of managers and extrapolated linearly.

Robustness uses benchmarks/bench_robustness.py (its naive per-draw loop is the
baseline, timed on a sample of draws and extrapolated).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from benchmarks.common import Result

TARGET_SCORING_S = 0.5
TARGET_ROBUSTNESS_S = 5.0


def scoring_data(managers: int, indicators: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    cols = [f"k{j:02d}" for j in range(indicators)]
    idx = pd.Index([f"M{i:06d}" for i in range(managers)], name="manager_id")
    target = pd.DataFrame(rng.uniform(50, 150, (managers, indicators)), index=idx, columns=cols)
    actual = target * rng.normal(1.0, 0.2, (managers, indicators)).clip(0.05)
    actual = actual.mask(rng.random((managers, indicators)) < 0.01)  # 1 % missing data
    weights = pd.Series(rng.uniform(0.5, 1.5, indicators), index=cols)
    lower = {c: j % 2 == 1 for j, c in enumerate(cols)}
    return actual, target, weights, lower


def score_chain(actual, target, weights, lower, curves):
    from helpers.core.scoring import attainment, grade_absolute, score_frame, weighted_total

    hib = [c for c in actual.columns if not lower[c]]
    lib = [c for c in actual.columns if lower[c]]
    att = pd.concat([attainment(actual[hib], target[hib], True), attainment(actual[lib], target[lib], False)],
                    axis=1)[actual.columns]
    scores = score_frame(att, curves)
    total = weighted_total(scores, weights)
    return grade_absolute(total)


def run(quick: bool = False, log=print) -> list[Result]:
    from helpers.core.scoring import ScoringCurve

    from benchmarks import bench_robustness as br
    from helpers.core.weighting import robustness

    managers, indicators = 100_000, 20
    actual, target, weights, lower = scoring_data(managers, indicators)
    curves = {c: ScoringCurve(threshold=0.7 + 0.01 * j, cap=1.3) for j, c in enumerate(actual.columns)}
    score_chain(actual.iloc[:1000], target.iloc[:1000], weights, lower, curves)  # warm-up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        grades = score_chain(actual, target, weights, lower, curves)
        times.append(time.perf_counter() - t0)
    assert len(grades) == managers
    best = min(times)
    sample = 200 if quick else 1000
    t0 = time.perf_counter()
    for i in range(sample):
        score_chain(actual.iloc[i:i + 1], target.iloc[i:i + 1], weights, lower, curves)
    naive = (time.perf_counter() - t0) * managers / sample
    log(f"scoring: {managers:,} × {indicators}: best {best:.3f} s of {', '.join(f'{t:.3f}' for t in times)}; "
        f"row-by-row {naive:.0f} s extrapolated from {sample} managers")

    draws = 10_000
    S, w = br.data(1_000, 20)
    robustness(S, w, draws=200)  # warm-up
    rt = []
    for _ in range(1 if quick else 2):
        t0 = time.perf_counter()
        robustness(S, w, concentration=100, draws=draws, top=0.2, bottom=0.2, seed=0)
        rt.append(time.perf_counter() - t0)
    top = bottom = 200
    sub = 100 if quick else 500
    r_naive = br.naive(S, w, sub, 100, top, bottom) * draws / sub
    log(f"robustness: {draws:,} × 1,000 × 20: best {min(rt):.2f} s; per-draw loop {r_naive:.1f} s "
        f"extrapolated from {sub} draws")
    return [
        Result("scoring 100k managers × 20 indicators", best, "s", TARGET_SCORING_S,
               note=f"{naive / best:,.0f}× faster than row by row"),
        Result("robustness 10k draws × 1k × 20", min(rt), "s", TARGET_ROBUSTNESS_S,
               note=f"{r_naive / min(rt):.1f}× faster than per-draw loop"),
    ]
