"""Throughput (samples/s) of numpynn out of core and on a dask cluster.

Run from the repository root, with the ``dask`` extra installed::

    python benchmarks/scaling.py            # about 4 minutes on 2 cores
    python benchmarks/scaling.py --quick    # about 1 minute

Stages, each warmed up once then timed (best of ``--repeats``):

1. one process, in memory and on ``np.load(mmap_mode="r")``, BLAS limited
   to one thread: ``LinearRegressor(solver="lstsq")`` (streamed QR),
   ``LinearRegressor(batch_size=...)`` and ``TwoLayerNet`` one epoch each;
2. a ``LocalCluster`` with 1, then 2 worker processes (1 thread each; the
   data generated and persisted on the workers first, so the clock sees
   compute, not the transfer from the driver): the map-reduce
   :func:`numpynn.parallel.fit_lstsq_dask`, and one pass of
   ``dask_ml.wrappers.Incremental`` around each estimator.

Prints a Markdown table. These are measurements, not tests.
"""

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from numpynn import LinearRegressor, TwoLayerNet

HIDDEN, BATCH = 32, 200


def best_time(func, repeats):
    """Warm up once, then the best wall time of ``repeats`` calls ``func(seed)``.

    Each call gets its own seed, so dask never reuses a result it still holds
    from an identical earlier graph.
    """
    func(0)
    times = []
    for seed in range(1, repeats + 1):
        start = time.perf_counter()
        func(seed)
        times.append(time.perf_counter() - start)
    return min(times)


def estimators():
    """Fresh estimators for one epoch each: name -> factory."""
    return {
        "LinearRegressor lstsq": lambda seed: LinearRegressor(solver="lstsq"),
        f"LinearRegressor gd, batch {BATCH}": lambda seed: LinearRegressor(
            batch_size=BATCH, learning_rate=0.01, max_iter=1, tol=None, random_state=seed),
        f"TwoLayerNet h={HIDDEN}, batch {BATCH}": lambda seed: TwoLayerNet(
            hidden_units=HIDDEN, batch_size=BATCH, max_iter=1, tol=None, random_state=seed),
    }


def make_data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.tanh(X[:, :3]).sum(axis=1) + X @ rng.normal(size=d) * 0.1  # (n,)
    return X, y


def one_process(n, d, repeats, folder):
    """Rows: (stage, estimator, samples/s) in memory and memory-mapped."""
    X, y = make_data(n, d)
    np.save(folder / "X.npy", X)
    np.save(folder / "y.npy", y)
    Xm = np.load(folder / "X.npy", mmap_mode="r")
    ym = np.load(folder / "y.npy", mmap_mode="r")
    rows = []
    with threadpool_limits(1):
        for name, make in estimators().items():
            for where, (A, b) in (("in memory", (X, y)), ("memmap", (Xm, ym))):
                t = best_time(lambda seed: make(seed).fit(A, b), repeats)  # noqa: B023
                rows.append((f"1 process, {where}", name, n / t))
    return rows


def on_cluster(n_workers, n, d, chunk_rows, repeats, malloc_trim=True):
    """Rows for a LocalCluster of ``n_workers`` single-threaded processes.

    ``malloc_trim=False`` starts the workers without dask's default
    ``MALLOC_TRIM_THRESHOLD_=65536``, which makes every block's buffers
    page-fault in afresh.
    """
    import dask
    import dask.array as da
    from dask_ml.wrappers import Incremental
    from distributed import Client, LocalCluster, wait

    from numpynn.parallel import fit_lstsq_dask

    rows = []
    trim = {} if malloc_trim else {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    if not malloc_trim:          # an earlier cluster's nanny exported it into this process
        os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set(trim), \
            LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                         dashboard_address=None,
                         scheduler_kwargs={"dashboard_address": ":0"}) as cluster, \
            Client(cluster) as client:
        rng = da.random.default_rng(0)
        X = rng.standard_normal((n, d), chunks=(chunk_rows, d))
        y = da.tanh(X[:, :3]).sum(axis=1) + X @ np.linspace(-0.1, 0.1, d)
        X, y = client.persist([X, y])
        wait([X, y])
        stage = f"{n_workers} worker{'s' if n_workers > 1 else ''}"
        stage += "" if malloc_trim else ", no malloc trim"
        t = best_time(lambda seed: fit_lstsq_dask(
            X, y, estimator=LinearRegressor(solver="lstsq", random_state=seed)), repeats)
        rows.append((stage, "fit_lstsq_dask (map-reduce)", n / t))
        for name, make in list(estimators().items())[1:]:
            t = best_time(lambda seed: Incremental(make(seed), random_state=seed)  # noqa: B023
                          .fit(X, y), repeats)
            rows.append((stage, f"Incremental({name})", n / t))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data, 1 repeat")
    parser.add_argument("--n", type=int, default=None, help="samples (default 1,000,000)")
    parser.add_argument("--d", type=int, default=20, help="features")
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]             # other work on the machine skews timings
    n = args.n or (200_000 if args.quick else 1_000_000)
    repeats = args.repeats or (1 if args.quick else 3)
    with tempfile.TemporaryDirectory() as folder:
        rows = one_process(n, args.d, repeats, Path(folder))
    for workers in (1, 2):
        for malloc_trim in (True, False):        # alternate, so drifting load hits both
            rows += on_cluster(workers, n, args.d, args.chunk_rows, repeats, malloc_trim)
    print(f"n={n:,} samples, d={args.d} features, float64, chunks of {args.chunk_rows:,} "
          f"rows; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"best of {repeats}; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after\n")
    print("| where | what | samples/s |\n|---|---|---:|")
    for where, what, rate in rows:
        print(f"| {where} | {what} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
