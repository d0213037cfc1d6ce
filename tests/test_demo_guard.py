"""Guard for behaviour-preserving work (issue 13, "rooms"): every CSV the demo writes is
byte-identical to the recorded SHA-256 in ``tests/demo_csv_sha256.txt``.

Reorganising the package must not change a single figure.  Work that changes behaviour
on purpose updates the recorded hashes in its own commit and says why; regenerate them
with ``kpi-workbook demo --out /tmp/x`` and ``cd /tmp/x/2026Q3 && find . -name '*.csv' |
sort | xargs sha256sum | sed 's#  ./#  #'``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
RECORDED = Path(__file__).with_name("demo_csv_sha256.txt")


def test_demo_csvs_are_byte_identical_to_the_recorded_ones(demo_run):
    proc, period_dir = demo_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    recorded = dict(reversed(line.split("  ", 1)) for line in RECORDED.read_text(encoding="utf-8").splitlines())
    written = {str(p.relative_to(period_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
               for p in sorted(period_dir.rglob("*.csv"))}
    assert sorted(written) == sorted(recorded)
    changed = [name for name in recorded if written[name] != recorded[name]]
    assert not changed, f"demo CSVs changed: {changed}"
