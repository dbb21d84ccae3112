"""Quality table: held-out R^2 and fit time of TwoLayerNet() against MLPRegressor().

``python -m benchmarks.quality [--quick | --smoke] [--paired] [--seeds N] [--out DIR]``

Each data set of :mod:`benchmarks.quality_data` goes through the pipeline
the README recommends, ``make_pipeline(StandardScaler(),
TransformedTargetRegressor(regressor=EST, transformer=StandardScaler()))``,
on ``--seeds`` random 80/20 splits. Settings:

* ``defaults``: ``TwoLayerNet()`` against ``MLPRegressor()``, only
  ``random_state`` set (to the seed), so the rows measure whatever the
  library defaults are, stopping rule included;
* ``E epochs``: both run exactly ``E`` epochs (``tol=None``;
  ``tol=0, n_iter_no_change=inf``), everything else at its default;
* ``lbfgs`` (full mode): ``TwoLayerNet(optimizer="lbfgs")`` against
  ``MLPRegressor(solver="lbfgs")``, otherwise at their defaults;
* named variants (full mode): ``TwoLayerNet`` with one parameter changed.

``--paired`` runs the significance analysis of :mod:`benchmarks.quality_paired`
instead (its own tables, ``quality_paired.md`` and ``.json``).

Per seed the contenders run interleaved, in an order rotated by the seed.
BLAS is limited to one thread for every fit (threadpoolctl), so both
libraries compute alike. ConvergenceWarnings are caught and counted, with
the fits that ran into ``max_iter``. Writes ``quality.md`` and
``quality.json`` (every per-seed number) to ``--out``
(default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from numpynn import TwoLayerNet

from ._harness import dump_json, machine_info
from .quality_data import DATASETS, smooth

#: Sizes per mode: seeds, fixed epoch budgets, variants, extra data sets.
MODES = {
    "full": dict(seeds=10, budgets=(50, 200), variants=True, lbfgs=True, smooth_n=20_000),
    "quick": dict(seeds=5, budgets=(50,), variants=False, lbfgs=False, smooth_n=5_000),
    "smoke": dict(seeds=1, budgets=(3,), variants=False, lbfgs=False, smooth_n=None,
                  only=("diabetes", "sine")),
}

#: Named variants of TwoLayerNet (full mode): one parameter away from the defaults.
VARIANTS = {
    "learning_rate=0.01": dict(learning_rate=0.01),
    "learning_rate=0.001": dict(learning_rate=0.001),
    "early_stopping=True": dict(early_stopping=True),
}

NUMPYNN, SKLEARN = "TwoLayerNet", "MLPRegressor"

#: The contenders of the defaults and L-BFGS settings: ``factory(seed) -> estimator``.
DEFAULTS = {NUMPYNN: lambda s: TwoLayerNet(random_state=s),
            SKLEARN: lambda s: MLPRegressor(random_state=s)}
LBFGS = {NUMPYNN: lambda s: TwoLayerNet(optimizer="lbfgs", random_state=s),
         SKLEARN: lambda s: MLPRegressor(solver="lbfgs", random_state=s)}


def pipeline(est):
    """The README's pipeline: scale X, and y through TransformedTargetRegressor."""
    return make_pipeline(StandardScaler(),
                         TransformedTargetRegressor(regressor=est, transformer=StandardScaler()))


def settings(cfg):
    """``[(setting, {contender: factory(seed) -> estimator})]`` for a mode."""
    rows = [("defaults", DEFAULTS)]
    for e in cfg["budgets"]:
        rows.append((f"{e} epochs", {
            NUMPYNN: lambda s, e=e: TwoLayerNet(max_iter=e, tol=None, random_state=s),
            SKLEARN: lambda s, e=e: MLPRegressor(max_iter=e, tol=0.0, n_iter_no_change=np.inf,
                                                 random_state=s)}))
    if cfg["lbfgs"]:
        rows.append(("lbfgs", LBFGS))
    if cfg["variants"]:
        for name, kw in VARIANTS.items():
            rows.append((f"TwoLayerNet({name})",
                         {NUMPYNN: lambda s, kw=kw: TwoLayerNet(random_state=s, **kw)}))
    return rows


def fit_once(make, seed, split):
    """Fit one pipeline on a split; its test R^2, fit seconds, epochs and warnings."""
    X_tr, X_te, y_tr, y_te = split
    est = make(seed)
    model = pipeline(est)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model.fit(X_tr, y_tr)
        fit_s = time.perf_counter() - start
    reg = model[-1].regressor_
    conv = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return {"r2": float(model.score(X_te, y_te)), "fit_s": fit_s, "n_iter": int(reg.n_iter_),
            "hit_max_iter": bool(reg.n_iter_ >= est.max_iter), "convergence_warnings": conv,
            "other_warnings": sorted({str(w.message)[:120] for w in caught
                                      if not issubclass(w.category, ConvergenceWarning)})}


def run_dataset(X, y, rows, seeds, first_seed=0):
    """Every setting's contenders on ``seeds`` splits (seeds ``first_seed``, ...),
    interleaved per seed."""
    out = {setting: {name: [] for name in contenders} for setting, contenders in rows}
    jobs = [(setting, name, make) for setting, contenders in rows
            for name, make in contenders.items()]
    for seed in range(first_seed, first_seed + seeds):
        split = train_test_split(X, y, test_size=0.2, random_state=seed)
        k = seed % len(jobs)
        for setting, name, make in jobs[k:] + jobs[:k]:
            out[setting][name].append(fit_once(make, seed, split))
    return out


def summarise(runs):
    """Medians and counts of one contender's per-seed results."""
    r2 = [r["r2"] for r in runs]
    return {"median_r2": float(np.median(r2)), "min_r2": float(np.min(r2)),
            "median_fit_s": float(np.median([r["fit_s"] for r in runs])),
            "median_n_iter": float(np.median([r["n_iter"] for r in runs])),
            "hit_max_iter": sum(r["hit_max_iter"] for r in runs),
            "convergence_warnings": sum(r["convergence_warnings"] for r in runs),
            "fits": len(runs)}


def compare(per_setting):
    """The paired figures of a setting with both contenders."""
    a, b = per_setting[NUMPYNN], per_setting[SKLEARN]
    diffs = [x["r2"] - y["r2"] for x, y in zip(a, b, strict=True)]
    sa, sb = summarise(a), summarise(b)
    return {"r2_diff": sa["median_r2"] - sb["median_r2"],
            "median_paired_diff": float(np.median(diffs)),
            "seeds_at_or_above": int(sum(d >= 0 for d in diffs)),
            "time_ratio": sa["median_fit_s"] / sb["median_fit_s"]}


def load_datasets(cfg, only, log):
    """``{name: (X, y, kind, source)}``; skipped names map to the reason."""
    data, skipped = {}, {}
    loaders = dict(DATASETS)
    if cfg["smooth_n"]:
        loaders[f"smooth_{cfg['smooth_n'] // 1000}k"] = (
            lambda: smooth(cfg["smooth_n"]), "synthetic", "numpy")
    for name, (load, kind, source) in loaders.items():
        if only and name not in only:
            continue
        try:
            X, y = load()
        except ImportError as exc:
            skipped[name] = f"{source} is not installed ({exc.name}); pip install numpynn[bench]"
            log(f"[quality] skip {name}: {skipped[name]}")
            continue
        data[name] = (X, y, kind, source)
    return data, skipped


def run(args, log=print):
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = dict(MODES[mode])
    if args.seeds:
        cfg["seeds"] = args.seeds
    only = args.only or cfg.get("only")
    rows = settings(cfg)
    start = time.perf_counter()
    res = {"mode": mode, "machine": machine_info(), "seeds": cfg["seeds"],
           "settings": [s for s, _ in rows], "blas_threads": 1, "datasets": {}}
    data, res["skipped"] = load_datasets(cfg, only, log)
    with threadpool_limits(1):
        for name, (X, y, kind, source) in data.items():
            t = time.perf_counter()
            runs = run_dataset(X, y, rows, cfg["seeds"])
            entry = {"n": int(X.shape[0]), "d": int(X.shape[1]), "kind": kind,
                     "source": source, "runs": runs,
                     "summary": {s: {c: summarise(v) for c, v in per.items()}
                                 for s, per in runs.items()},
                     "compare": {s: compare(per) for s, per in runs.items()
                                 if SKLEARN in per}}
            res["datasets"][name] = entry
            d = entry["compare"]["defaults"]
            log(f"[quality] {name}: defaults R^2 diff {d['r2_diff']:+.3f}, time ratio "
                f"{d['time_ratio']:.2f} ({time.perf_counter() - t:.1f} s)", flush=True)
    res["target"] = check_target(res["datasets"])
    if cfg["lbfgs"]:
        res["lbfgs_target"] = check_target(res["datasets"], "lbfgs", max_ratio=1.0)
    res["elapsed_s"] = time.perf_counter() - start
    return res


def check_target(datasets, setting="defaults", max_ratio=0.5):
    """Issue 14's targets: a setting at or above MLPRegressor's median R^2, in at most
    ``max_ratio`` times its fit time (defaults: 0.5x; L-BFGS: "faster", 1x)."""
    cmp = {name: e["compare"][setting] for name, e in datasets.items()}
    r2_ok = [n for n, c in cmp.items() if c["r2_diff"] >= 0]
    t_ok = [n for n, c in cmp.items() if c["time_ratio"] <= max_ratio]
    return {"setting": setting, "max_ratio": max_ratio, "datasets": len(cmp),
            "r2_at_or_above": len(r2_ok), "time_within_ratio": len(t_ok),
            "r2_below": sorted(set(cmp) - set(r2_ok)), "time_above": sorted(set(cmp) - set(t_ok)),
            "worst_r2_diff": min((c["r2_diff"] for c in cmp.values()), default=None),
            "worst_time_ratio": max((c["time_ratio"] for c in cmp.values()), default=None),
            "met": bool(cmp) and len(r2_ok) == len(t_ok) == len(cmp)}


def _f(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def markdown(res):
    """The report: one table per setting, the target line, the settings."""
    lines = [f"# Quality: test R^2 against MLPRegressor ({res['mode']} run)", "",
             f"{res['seeds']} random 80/20 splits per data set; medians over the splits. "
             "Pipeline: `make_pipeline(StandardScaler(), TransformedTargetRegressor("
             "regressor=EST, transformer=StandardScaler()))`. BLAS limited to 1 thread. "
             f"numpynn {res['machine']['versions'].get('numpynn')}, scikit-learn "
             f"{res['machine']['versions'].get('scikit-learn')}, commit "
             f"{res['machine'].get('git_commit')}; {res['elapsed_s']:.0f} s.", ""]
    for tgt in (res["target"], res.get("lbfgs_target")):
        if tgt is not None:
            lines += [_target_line(tgt), ""]
    for setting in res["settings"]:
        lines += _setting_table(res, setting)
    if res["skipped"]:
        lines += ["Skipped: " + "; ".join(f"{k} ({v})" for k, v in res["skipped"].items()), ""]
    return "\n".join(lines)


def _target_line(tgt):
    return (f"**Target** ({tgt['setting']}): R^2 at or above MLPRegressor's on "
            f"{tgt['r2_at_or_above']} of {tgt['datasets']} data sets (below: "
            f"{', '.join(tgt['r2_below']) or 'none'}; worst difference "
            f"{_f(tgt['worst_r2_diff'])}); fit time at most {tgt['max_ratio']:g}x on "
            f"{tgt['time_within_ratio']} of {tgt['datasets']} (worst "
            f"{_f(tgt['worst_time_ratio'], 2)}x). {'Met.' if tgt['met'] else 'Not met.'}")


def _setting_table(res, setting):
    paired = all(SKLEARN in e["summary"][setting] for e in res["datasets"].values())
    if paired:
        head = ("| data set | n | d | TwoLayerNet R^2 | MLPRegressor R^2 | difference | "
                "seeds >= | TwoLayerNet s | MLPRegressor s | time ratio | epochs (numpynn, MLP) |"
                " hit max_iter (numpynn, MLP) |")
    else:
        head = "| data set | n | d | R^2 | R^2 - MLPRegressor() | s | epochs | hit max_iter |"
    out = [f"## {setting}", "", head, "|" + "---|" * (head.count("|") - 1)]
    for name, e in res["datasets"].items():
        s = e["summary"][setting]
        a = s[NUMPYNN]
        if paired:
            b, c = s[SKLEARN], e["compare"][setting]
            out.append(f"| {name} | {e['n']} | {e['d']} | {_f(a['median_r2'])} | "
                       f"{_f(b['median_r2'])} | {c['r2_diff']:+.3f} | "
                       f"{c['seeds_at_or_above']}/{a['fits']} | {_f(a['median_fit_s'])} | "
                       f"{_f(b['median_fit_s'])} | {_f(c['time_ratio'], 2)} | "
                       f"{a['median_n_iter']:.0f}, {b['median_n_iter']:.0f} | "
                       f"{a['hit_max_iter']}, {b['hit_max_iter']} |")
        else:
            ref = e["summary"]["defaults"][SKLEARN]["median_r2"]
            out.append(f"| {name} | {e['n']} | {e['d']} | {_f(a['median_r2'])} | "
                       f"{a['median_r2'] - ref:+.3f} | {_f(a['median_fit_s'])} | "
                       f"{a['median_n_iter']:.0f} | {a['hit_max_iter']} |")
    return out + [""]


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="fewer settings (under ~3 minutes)")
    g.add_argument("--smoke", action="store_true", help="two data sets, one seed (tests)")
    p.add_argument("--paired", action="store_true",
                   help="paired differences with confidence intervals and the noise floor "
                        "(benchmarks.quality_paired); 20 splits unless --seeds")
    p.add_argument("--seeds", type=int, help="override the number of splits")
    p.add_argument("--first-seed", type=int, default=0,
                   help="seed of the first split (--paired; fresh splits for a second look)")
    p.add_argument("--only", nargs="+", help="run only these data sets")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results",
                   help="output directory (default: benchmarks/results)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.paired:
        from . import quality_paired

        return quality_paired.main(args)
    res = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.md").write_text(markdown(res))
    dump_json(res, args.out / "quality.json")
    print(f"[quality] wrote {args.out / 'quality.md'} and quality.json "
          f"({res['elapsed_s']:.0f} s); target {'met' if res['target']['met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
