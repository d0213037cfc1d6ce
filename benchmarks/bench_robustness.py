"""Benchmark: rank robustness at 10,000 draws × 1,000 managers × 20 indicators.

Target (issue 4): within 5 s on 2 cores.  Prints the time of
:func:`helpers.core.weighting.robustness` and of a naive baseline measured in the same
run — one draw at a time (score with a matrix-vector product, rank with
``scipy.stats.rankdata``, update the counters), timed on a subsample of draws and
extrapolated linearly — and the ratio between them.  Printed, not asserted.

Run: ``.venv/bin/python benchmarks/bench_robustness.py [--draws N] [--managers N]
[--indicators N] [--baseline-draws N]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from helpers.core.weighting import direct_weights, robustness, sample_weights

TARGET_SECONDS = 5.0


def data(managers: int, indicators: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    cols = [f"k{j:02d}" for j in range(indicators)]
    S = pd.DataFrame(rng.uniform(0, 100, (managers, indicators)), columns=cols,
                     index=[f"m{i:04d}" for i in range(managers)])
    w = direct_weights(pd.Series(rng.uniform(0.5, 1.5, indicators), index=cols))
    return S, w


def naive(S: pd.DataFrame, w: pd.Series, draws: int, concentration: float, top: int, bottom: int) -> float:
    """Seconds for ``draws`` draws done one at a time (the straightforward loop)."""
    W = sample_weights(w, concentration, draws, seed=1).to_numpy()
    arr = S.to_numpy()
    n = arr.shape[0]
    ranks_kept = np.empty((n, draws))
    in_top = np.zeros(n)
    in_bottom = np.zeros(n)
    t0 = time.perf_counter()
    for d in range(draws):
        scores = arr @ W[d]
        r_min = rankdata(-scores, method="min")
        r_max = rankdata(-scores, method="max")
        ranks_kept[:, d] = r_min
        in_top += r_min <= top
        in_bottom += r_max >= n - bottom + 1
    np.percentile(ranks_kept, [5, 50, 95], axis=1)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--managers", type=int, default=1_000)
    ap.add_argument("--indicators", type=int, default=20)
    ap.add_argument("--baseline-draws", type=int, default=500, help="draws timed for the naive baseline")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs of the vectorised version")
    args = ap.parse_args()

    S, w = data(args.managers, args.indicators)
    top = bottom = int(np.ceil(0.2 * args.managers))
    print(f"robustness: {args.draws:,} draws × {args.managers:,} managers × {args.indicators} indicators "
          f"(cores: {os.cpu_count()}, numpy {np.__version__})")

    robustness(S, w, draws=200)  # warm-up (imports, allocator)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        out = robustness(S, w, concentration=100, draws=args.draws, top=0.2, bottom=0.2, seed=0)
        times.append(time.perf_counter() - t0)
    best = min(times)
    assert len(out) == args.managers

    sub = min(args.baseline_draws, args.draws)
    t_sub = naive(S, w, sub, 100, top, bottom)
    t_naive = t_sub * args.draws / sub
    print(f"vectorised (helpers.core.weighting.robustness): {best:.2f} s (best of {args.repeat}: "
          f"{', '.join(f'{t:.2f}' for t in times)})")
    print(f"naive per-draw loop: {t_sub:.2f} s for {sub:,} draws → {t_naive:.1f} s extrapolated to {args.draws:,}")
    print(f"speed-up: {t_naive / best:.1f}×")
    verdict = "within" if best <= TARGET_SECONDS else "OVER"
    print(f"target: {TARGET_SECONDS:.0f} s → {verdict} target ({best / TARGET_SECONDS:.0%} of it)")


if __name__ == "__main__":
    main()
