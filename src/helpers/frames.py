"""Fast forms of a few pandas operations on text columns.

Foundation module (no other helpers import): pandas 3 keeps text in Arrow arrays, and
a few of its operations on them still go through Python one value at a time (the
lookup set of ``Series.isin`` is built one Arrow scalar per value).  Each function here
returns exactly what the pandas form returns (tested against it in
``tests/test_data.py``), in one call into Arrow; :func:`any_byte` lets checks clear a whole text
column from its bytes at once.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

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


def positions(values: Any, index: Any) -> np.ndarray:
    """``pd.Index(index).get_indexer(values)``: where each value is in ``index`` (ids: no
    repeats, no missing values), -1 where it is not; a missing value is never found (and
    of repeated index values the first would be).  For Arrow text on both sides, one call into
    Arrow (3 million customer ids against 269,000 customers: 0.18 s instead of 1.07 s,
    which turns the ids into Python strings first)."""
    v, i = _arrow_text(values), _arrow_text(index)
    if v is None or i is None:
        return pd.Index(index).get_indexer(values)
    import pyarrow as pa
    import pyarrow.compute as pc

    v, i = v.cast(pa.large_string()), i.cast(pa.large_string())
    if hasattr(i, "combine_chunks"):
        i = i.combine_chunks()
    hit = pc.index_in(v, value_set=i, skip_nulls=True).fill_null(-1)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=np.intp)


def any_byte(s: Any, test: Callable[[np.ndarray], np.ndarray]) -> bool | None:
    """Whether any byte of the values of an Arrow text column (Series, Index or array)
    passes ``test`` (elementwise on a uint8 array); None for a column that is not Arrow
    text.  Only the bytes the values use are read, chunk by chunk and without a copy
    (the chunks of a Parquet column often share one buffer).  For checks that can clear
    a whole column at once before they look at its cells one by one."""
    whole = _arrow_text(s)
    if whole is None:
        return None
    import pyarrow as pa

    for chunk in (whole.chunks if isinstance(whole, pa.ChunkedArray) else [whole]):
        offsets_buf, data = chunk.buffers()[1], chunk.buffers()[2]
        if data is None or len(chunk) == 0:
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(offsets_buf, dtype=width)[chunk.offset:chunk.offset + len(chunk) + 1]
        if test(np.frombuffer(data, dtype=np.uint8)[int(offsets[0]):int(offsets[-1])]).any():
            return True
    return False


def _arrow_text(x: Any):
    """The Arrow data (an Array or ChunkedArray) behind a pandas text column, Index or
    array; None for anything else."""
    arr = getattr(x, "array", x)
    if not isinstance(arr, pd.arrays.ArrowStringArray):
        return None
    import pyarrow as pa

    return pa.array(arr)
