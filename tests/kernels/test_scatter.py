"""scatter_nb puts sorted-order values back in input order, like numpy's ``out[order] = values``."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from vizflow.kernels.scatter import scatter_nb


@given(
    values=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=50),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([np.int64, np.float64, np.bool_]),
)
def test_equals_fancy_index_assignment(values, seed, dtype):
    array = np.array(values, dtype=np.int64).astype(dtype)
    order = np.random.default_rng(seed).permutation(array.size).astype(np.int64)
    expected = np.empty_like(array)
    expected[order] = array
    out = np.empty_like(array)
    scatter_nb(array, order, out)
    assert out.tobytes() == expected.tobytes()
