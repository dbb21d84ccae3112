"""Paired significance of the quality table, and its noise floor.

``python -m benchmarks.quality --paired [--quick | --smoke] [--seeds N] [--first-seed S]
[--only ...]``

For every data set and comparison (``defaults``: ``TwoLayerNet()`` against
``MLPRegressor()``; ``lbfgs``: both with the L-BFGS solver), each split
``s`` (80/20, ``random_state=s``) gets three fits in the README's
pipeline, interleaved in an order rotated by the seed: numpynn with
``random_state=s``, MLPRegressor with ``random_state=s`` and a *replica*,
MLPRegressor with ``random_state=s + 1000``. Per split

* ``d_s = R^2(numpynn) - R^2(MLPRegressor)``, the comparison;
* ``e_s = R^2(replica) - R^2(MLPRegressor)``, the noise floor: one method
  against itself, where the true difference is zero.

For both: the difference of the medians (the quantity of issue 14's
target), the median of the paired differences with a percentile bootstrap
95 % confidence interval (:data:`N_BOOT` resamples of the splits), the
two-sided Wilcoxon signed-rank p-value and its Holm adjustment across the
data sets, and the share of bootstrap resamples of the splits in which the
difference of medians is at or above zero (in the JSON).

The replica and MLPRegressor are exchangeable (the same method, seeds drawn
alike), so the replica's median is at or above MLPRegressor's with
probability 1/2 on each data set, and on all ``m`` independent data sets
with probability ``2**-m``: that is the chance any contender no better
and no worse than MLPRegressor has of meeting a target "at or above on
every data set". Writes ``quality_paired.md`` and ``quality_paired.json``.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.stats import wilcoxon
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits

from . import quality
from ._harness import dump_json, machine_info

#: Splits per mode (the data sets and smooth_n follow quality.MODES).
SEEDS = {"full": 20, "quick": 10, "smoke": 3}
#: Bootstrap resamples and the seed offset of the replica.
N_BOOT, REPLICA_OFFSET = 10_000, 1000
REPLICA = "MLPRegressor replica"
NUMPYNN, SKLEARN = quality.NUMPYNN, quality.SKLEARN


def comparisons():
    """``[(setting, {contender: factory(seed)})]``: numpynn, MLPRegressor, replica."""
    return [("defaults", {**quality.DEFAULTS, REPLICA: lambda s: MLPRegressor(
                random_state=s + REPLICA_OFFSET)}),
            ("lbfgs", {**quality.LBFGS, REPLICA: lambda s: MLPRegressor(
                solver="lbfgs", random_state=s + REPLICA_OFFSET)})]


def bootstrap_median_ci(d, n_boot=N_BOOT, level=0.95, seed=0):
    """Percentile bootstrap interval of the median of ``d``.

    Examples
    --------
    >>> bootstrap_median_ci([0.5] * 7)
    (0.5, 0.5)
    >>> lo, hi = bootstrap_median_ci(np.arange(21.0)); lo < 10.0 < hi
    True
    """
    d = np.asarray(d, dtype=float)
    idx = np.random.default_rng(seed).integers(0, d.size, size=(n_boot, d.size))
    medians = np.median(d[idx], axis=1)                     # (n_boot,)
    tail = 50 * (1 - level)
    lo, hi = np.percentile(medians, [tail, 100 - tail])
    return float(lo), float(hi)


def chance_at_or_above(a, b, n_boot=N_BOOT, seed=0):
    """Share of bootstrap resamples of the splits with ``median(a) >= median(b)``.

    The splits are resampled jointly, so the pairing is kept.

    Examples
    --------
    >>> chance_at_or_above([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    1.0
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    idx = np.random.default_rng(seed).integers(0, a.size, size=(n_boot, a.size))
    return float(np.mean(np.median(a[idx], axis=1) >= np.median(b[idx], axis=1)))


def wilcoxon_p(d):
    """Two-sided Wilcoxon signed-rank p-value of ``d``; 1 when every difference is 0.

    Examples
    --------
    >>> wilcoxon_p(np.arange(1.0, 21.0)) == 2 / 2**20    # all 20 positive: exact
    True
    """
    d = np.asarray(d, dtype=float)
    if not np.any(d != 0):
        return 1.0
    return float(wilcoxon(d).pvalue)


def holm(pvalues):
    """Holm's step-down adjustment of a list of p-values (same order).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    scaled = p[order] * (p.size - np.arange(p.size))         # (m - j) p_(j), j from 0
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out = np.empty_like(p)
    out[order] = adjusted
    return [round(float(x), 12) for x in out]


def paired(a, b):
    """The paired figures of ``a`` against ``b`` (per-split R^2 lists)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = a - b
    lo, hi = bootstrap_median_ci(d)
    q1, q3 = np.percentile(d, [25, 75])
    return {"diff_of_medians": float(np.median(a) - np.median(b)),
            "median_diff": float(np.median(d)), "ci": [lo, hi], "iqr": float(q3 - q1),
            "p": wilcoxon_p(d), "at_or_above": int(np.sum(d >= 0)), "n": int(d.size),
            "chance_at_or_above": chance_at_or_above(a, b)}


def analyse(runs):
    """Per comparison: numpynn against MLPRegressor, the replica against MLPRegressor."""
    def r2(name):
        return [r["r2"] for r in runs[name]]

    def median(name, key):
        return float(np.median([r[key] for r in runs[name]]))

    return {"median_r2": {name: float(np.median(r2(name))) for name in runs},
            "numpynn": paired(r2(NUMPYNN), r2(SKLEARN)),
            "floor": paired(r2(REPLICA), r2(SKLEARN)),
            "time_ratio": median(NUMPYNN, "fit_s") / median(SKLEARN, "fit_s"),
            "n_iter": [median(NUMPYNN, "n_iter"), median(SKLEARN, "n_iter")],
            "hit_max_iter": [sum(r["hit_max_iter"] for r in runs[name])
                             for name in (NUMPYNN, SKLEARN)]}


def adjust(datasets, setting):
    """Holm-adjust the Wilcoxon p-values of a comparison across the data sets (in place)."""
    for side in ("numpynn", "floor"):
        entries = [e["stats"][setting][side] for e in datasets.values()]
        for entry, p in zip(entries, holm([x["p"] for x in entries]), strict=True):
            entry["p_holm"] = p


def verdict(datasets, setting):
    """The comparison in a few counts (see :func:`markdown`)."""
    st = {name: e["stats"][setting] for name, e in datasets.items()}
    below = sorted(n for n, s in st.items() if s["numpynn"]["ci"][1] < 0)
    above = sorted(n for n, s in st.items() if s["numpynn"]["ci"][0] > 0)
    return {"datasets": len(st),
            "numpynn_at_or_above": sum(s["numpynn"]["diff_of_medians"] >= 0 for s in st.values()),
            "replica_at_or_above": sum(s["floor"]["diff_of_medians"] >= 0 for s in st.values()),
            "ci_below_zero": below, "ci_above_zero": above,
            "holm_significant": sorted(n for n, s in st.items() if s["numpynn"]["p_holm"] < 0.05),
            "equal_method_all_chance": 0.5 ** len(st),       # exchangeability
            "worst_floor_diff_of_medians": min(s["floor"]["diff_of_medians"]
                                               for s in st.values()),
            "time_ratio_range": [min(s["time_ratio"] for s in st.values()),
                                 max(s["time_ratio"] for s in st.values())]}


def run(args, log=print):
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = dict(quality.MODES[mode])
    seeds = args.seeds or SEEDS[mode]
    rows = comparisons()
    start = time.perf_counter()
    res = {"mode": mode, "machine": machine_info(), "seeds": seeds,
           "first_seed": args.first_seed, "blas_threads": 1,
           "replica_offset": REPLICA_OFFSET, "n_boot": N_BOOT,
           "settings": [s for s, _ in rows], "datasets": {}}
    data, res["skipped"] = quality.load_datasets(cfg, args.only or cfg.get("only"), log)
    with threadpool_limits(1):
        for name, (X, y, kind, source) in data.items():
            t = time.perf_counter()
            runs = quality.run_dataset(X, y, rows, seeds, args.first_seed)
            stats = {s: analyse(per) for s, per in runs.items()}
            res["datasets"][name] = {"n": int(X.shape[0]), "d": int(X.shape[1]),
                                     "kind": kind, "source": source, "runs": runs,
                                     "stats": stats}
            d, f = stats["defaults"]["numpynn"], stats["defaults"]["floor"]
            log(f"[quality --paired] {name}: defaults median diff {d['median_diff']:+.4f} "
                f"CI [{d['ci'][0]:+.4f}, {d['ci'][1]:+.4f}]; floor CI [{f['ci'][0]:+.4f}, "
                f"{f['ci'][1]:+.4f}] ({time.perf_counter() - t:.0f} s)", flush=True)
    for setting in res["settings"]:
        adjust(res["datasets"], setting)
    res["verdict"] = {s: verdict(res["datasets"], s) for s in res["settings"]}
    res["elapsed_s"] = time.perf_counter() - start
    return res


def _ci(x):
    return (f"{x['median_diff']:+.3f} [{x['ci'][0]:+.3f}, {x['ci'][1]:+.3f}]")


def markdown(res):
    """One table per comparison, each with its verdict line."""
    m = res["machine"]
    lines = [f"# Quality, paired: significance and noise floor ({res['mode']} run)", "",
             f"{res['seeds']} random 80/20 splits per data set (seeds "
             f"{res['first_seed']}-{res['first_seed'] + res['seeds'] - 1}), three fits per split "
             f"(numpynn, MLPRegressor with the split's seed, MLPRegressor with seed + "
             f"{res['replica_offset']}: the replica), interleaved; BLAS 1 thread. "
             f"Intervals: percentile bootstrap 95 % of the median paired difference "
             f"({res['n_boot']} resamples). p: two-sided Wilcoxon signed-rank, Holm-adjusted "
             f"across data sets. numpynn {m['versions'].get('numpynn')}, scikit-learn "
             f"{m['versions'].get('scikit-learn')}, commit {m.get('git_commit')}; "
             f"{res['elapsed_s']:.0f} s.", ""]
    for setting in res["settings"]:
        lines += _table(res, setting)
    if res["skipped"]:
        lines += ["Skipped: " + "; ".join(f"{k} ({v})" for k, v in res["skipped"].items()), ""]
    return "\n".join(lines)


def _table(res, setting):
    v = res["verdict"][setting]
    head = ("| data set | numpynn R^2 | MLP R^2 | replica R^2 | numpynn - MLP: medians | "
            "paired median [95 % CI] | p (Holm) | seeds >= | replica - MLP: medians | "
            "paired median [95 % CI] | p (Holm) | IQR | time ratio | iterations (numpynn, MLP) |")
    out = [f"## {setting}", "", head, "|" + "---|" * (head.count("|") - 1)]
    for name, e in res["datasets"].items():
        s = e["stats"][setting]
        r, a, f = s["median_r2"], s["numpynn"], s["floor"]
        out.append(f"| {name} | {r[NUMPYNN]:.3f} | {r[SKLEARN]:.3f} | {r[REPLICA]:.3f} | "
                   f"{a['diff_of_medians']:+.3f} | {_ci(a)} | {a['p']:.3f} ({a['p_holm']:.2f}) | "
                   f"{a['at_or_above']}/{a['n']} | {f['diff_of_medians']:+.3f} | {_ci(f)} | "
                   f"{f['p']:.3f} ({f['p_holm']:.2f}) | {f['iqr']:.3f} | "
                   f"{s['time_ratio']:.2f} | {s['n_iter'][0]:.0f}, {s['n_iter'][1]:.0f} |")
    out += ["", f"numpynn's median at or above MLPRegressor's on {v['numpynn_at_or_above']} of "
            f"{v['datasets']} data sets; the replica's on {v['replica_at_or_above']} of "
            f"{v['datasets']} (worst {v['worst_floor_diff_of_medians']:+.3f}). Interval of "
            f"numpynn's paired median below 0: {', '.join(v['ci_below_zero']) or 'none'}; "
            f"above 0: {', '.join(v['ci_above_zero']) or 'none'}; Holm p < 0.05: "
            f"{', '.join(v['holm_significant']) or 'none'}. A method equal to "
            f"MLPRegressor is at or above it on all {v['datasets']} with probability "
            f"2^-{v['datasets']} = {v['equal_method_all_chance']:.2g}. Time ratio (numpynn / "
            f"MLPRegressor) {v['time_ratio_range'][0]:.2f}-"
            f"{v['time_ratio_range'][1]:.2f}.", ""]
    return out


def main(args):
    res = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality_paired.md").write_text(markdown(res))
    dump_json(res, args.out / "quality_paired.json")
    print(f"[quality --paired] wrote {args.out / 'quality_paired.md'} and .json "
          f"({res['elapsed_s']:.0f} s)")
    return 0
