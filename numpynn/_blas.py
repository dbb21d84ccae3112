"""Run loops of small BLAS calls on one BLAS thread.

A mini-batch GEMM of (200, 20) x (20, 100), or the Householder QR of a
1 MB block, is far too small to share between threads: OpenBLAS then
spends more time waking and synchronising its threads than computing,
and when the cores are busy with other work each call can stall for
milliseconds. The training loop and the streamed QR therefore run with
BLAS limited to one thread, and restore the previous setting afterwards.
Large single calls (full-batch epochs on big data, the Hessian, Gram
matrices) keep all threads.
"""

from contextlib import nullcontext
from functools import lru_cache

#: A call with fewer flops than this counts as small (about 1 ms on one core).
SMALL_FLOPS = 2e7


@lru_cache(maxsize=1)
def _controller():
    """The BLAS libraries loaded by numpy, inspected once (about 10 ms)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:                       # scikit-learn depends on it; be safe
        return None
    return ThreadpoolController()


def single_threaded_blas(small=True):
    """Context manager: BLAS on one thread while active if ``small``, else a no-op.

    Examples
    --------
    >>> import numpy as np
    >>> with single_threaded_blas():
    ...     float(np.ones((2, 2)) @ np.ones(2) @ np.ones(2))
    4.0
    """
    controller = _controller() if small else None
    if controller is None:
        return nullcontext()
    return controller.limit(limits=1, user_api="blas")
