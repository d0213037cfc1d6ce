"""``python -m benchmarks.suiteprofile.report FOLDER [--under NAME] [--top N]``: the
samples of every process written by ``benchmarks/suiteprofile/sitecustomize.py``, summed.

Prints the total (core-seconds: one sample is 10 ms of CPU), then each function by the
CPU spent with it on the stack (inclusive, each function counted once a sample),
workbook functions first; ``--under NAME`` keeps only the samples with a frame
containing NAME (e.g. ``tables.py:load_dataset``) and lists what it calls."""

from __future__ import annotations

import argparse
import collections
from pathlib import Path


def samples(folder: Path):
    for f in folder.glob("*.txt"):
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            count, _, stack = line.partition("\t")
            if count.isdigit():
                yield int(count), stack.split(";")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.suiteprofile.report")
    ap.add_argument("folder", type=Path)
    ap.add_argument("--under", default="", help="only samples with a frame containing this")
    ap.add_argument("--top", type=int, default=40)
    args = ap.parse_args(argv)
    total, inclusive, below = 0, collections.Counter(), collections.Counter()
    for n, frames in samples(args.folder):
        if args.under:
            at = [i for i, f in enumerate(frames) if args.under in f]
            if not at:
                continue
            below[frames[at[0] + 1] if at[0] + 1 < len(frames) else "(itself)"] += n
        total += n
        for f in set(frames):
            inclusive[f] += n
    print(f"{total / 100:.1f} core-seconds sampled" + (f" under {args.under}" if args.under else ""))
    rows = below if args.under else collections.Counter({f: v for f, v in inclusive.items() if "helpers/" in f})
    for f, v in rows.most_common(args.top):
        print(f"{v / 100:8.1f}  {100 * v / max(total, 1):5.1f} %  {f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
