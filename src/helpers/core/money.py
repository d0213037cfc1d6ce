"""Money as a person is paid it: rounded half up, to the fen, with lines that add up.

**The rounding rule** (the statement, the team review's sign-off page and the payroll
workbook all use it): each amount is rounded half up to the fen; a total is the sum of the
unrounded amounts, then rounded; where the rounded lines do not add up to the rounded
total, a rounding-difference line (舍入差) makes them.  :func:`half_up` is the same rule to
any number of decimals (scores to 0.1 as a calculator rounds them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["FEN", "half_up", "to_fen", "PayTotals", "pay_totals"]

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def half_up(x: float | Decimal, digits: int) -> Decimal:
    """``x`` rounded half up to ``digits`` decimals as a person with a calculator rounds
    the figure they see: 76.25 → 76.3 (Python's own formatting gives 76.2, half to even).
    The shortest text of the float is rounded, so 83.74999999 stays below the half."""
    d = x if isinstance(x, Decimal) else Decimal(repr(float(x)))
    return d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def to_fen(x: float | Decimal) -> Decimal:
    """``x`` rounded half up to the fen (0.01): 0.125 → 0.13, −0.125 → −0.13."""
    q = half_up(x, 2)
    return q + 0 if q != 0 else ZERO  # no "-0.00"


@dataclass(frozen=True)
class PayTotals:
    """One manager's pay as the statement shows it, to the fen: each line rounded, the
    rounding difference lines that make them add up, and the rounded totals."""

    lines: tuple[Decimal, ...]          # each pay line, rounded
    adjustments: tuple[Decimal, ...]    # each adjustment, rounded
    payout: Decimal                     # Σ unrounded lines, rounded
    adjustment: Decimal                 # Σ unrounded adjustments, rounded
    total: Decimal                      # (Σ lines + Σ adjustments), unrounded, then rounded
    payout_rounding: Decimal            # payout − Σ rounded lines
    adjustment_rounding: Decimal        # adjustment − Σ rounded adjustments
    total_rounding: Decimal             # total − payout − adjustment


def pay_totals(lines: Sequence[float], adjustments: Sequence[float] = ()) -> PayTotals:
    """The amounts of a statement (:func:`helpers.present.statement.statement_html`):
    totals from the unrounded amounts (summed in order, as the statement does), then
    rounded half up to the fen; the differences to the rounded lines."""
    raw_pay = sum(float(x) for x in lines)
    raw_adj = sum(float(x) for x in adjustments)
    rl = tuple(to_fen(x) for x in lines)
    ra = tuple(to_fen(x) for x in adjustments)
    payout, adj, total = to_fen(raw_pay), to_fen(raw_adj), to_fen(raw_pay + raw_adj)
    return PayTotals(rl, ra, payout, adj, total, payout - sum(rl, ZERO), adj - sum(ra, ZERO), total - payout - adj)
