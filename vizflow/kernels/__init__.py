"""Compiled per-symbol passes: plain numba over numpy arrays.

The dividing line between Polars and numba (style.md section 3):

1. Modules here import only numpy, numba and math (``tests/kernels/test_boundary.py`` checks).
2. Every kernel is ``@njit(cache=True)`` and ends in ``_nb``; output arrays end in ``_out``.
3. Groups arrive as CSR offsets ``int64[n_groups + 1]``: the Polars side stable-sorts by
   (symbol, time), builds the offsets once and calls the kernel once for the whole frame.
4. Fixed dtypes: times float64 seconds or int64, prices and quantities float64, sides int8.
5. No nulls reach a kernel; validity travels as a separate boolean array where needed.
6. Inputs are read-only (zero-copy ``to_numpy()`` arrays are not writeable); kernels write only
   to output arrays, which the caller allocates.
7. One 1-D array per output column (a 2-D output is a stack of such columns).
8. A kernel and its helpers share one module (numba's cache does not track other files).
9. Preconditions (sorted, no nulls, positive quantities) are checked on the Polars side where the
   message can name column, symbol and row.
10. A module of cached kernels has a ``warm_up()`` that compiles them with the argument types its
    wrapper passes; ``vizflow.runner.executors.warm_kernels`` calls every one before a batch fans
    out (numba's disk cache can race between processes).
"""
