"""Markdown tables, target checks and PNG plots from the results dict."""

from __future__ import annotations

import math

from .cases_net import float32_speedups

TARGETS = {
    "net_vs_mlp_float64": ("TwoLayerNet epoch / MLPRegressor epoch, float64", "<=", 0.5),
    "net_float32_speedup": ("TwoLayerNet float64 epoch / float32 epoch", ">=", 1.5),
    "lstsq_vs_linreg": ("lstsq fit / LinearRegression fit (same accuracy)", "<=", 1.0),
    "lstsq_fit_vs_cholesky": ("lstsq_fit / (X.T @ X + Cholesky solve)", "<=", 1.2),
    "lstsq_estimator_vs_cholesky": ("LinearRegressor(solver='lstsq').fit / (X.T @ X + "
                                        "Cholesky solve)", "<=", 1.2),
    "gd_vs_bandwidth": ("full-batch gd epoch / time to read X once", "<=", 1.5),
    "python_speedup_10k": ("pure-Python epoch / vectorised epoch at n=10k", ">=", 40.0),
    "net_vs_handwritten_h16": ("TwoLayerNet epoch / hand-written NumPy loop, h=16", "<=", 1.1),
    "net_vs_handwritten_h100": ("TwoLayerNet epoch / hand-written NumPy loop, h>=100", "<=",
                                1.0),
    "layouts_vs_c": ("TwoLayerNet epoch on any input layout / on a C ndarray", "<=", 1.2),
    "sparse_auto_vs_fixed": ("LinearRegressor() on sparse 2000x4000: auto / fixed rate", "<=",
                             2.0),
}


#: The linear cases' report sections: case key, heading, (row key, column title).
SECTIONS = [
    ("python_loops", "Pure-Python loop (the talk's code) vs vectorised kernels", [
        ("n", "n"), ("epochs", "epochs"), ("python_epoch_s", "Python s/epoch"),
        ("numpynn_epoch_s", "numpynn s/epoch"), ("speedup", "speed-up"),
        ("python_loss", "Python loss"), ("numpynn_loss", "numpynn loss"),
        ("note", "note")]),
    ("gd_sgd", "LinearRegressor gd vs SGDRegressor", [
        ("estimator", "estimator"), ("n", "n"), ("d", "d"), ("epochs", "epochs"),
        ("epoch_s", "s/epoch"), ("ratio_vs_sgdregressor", "time / SGDRegressor"),
        ("r2_test", "held-out R^2")]),
    ("bandwidth", "Full-batch gd epoch vs memory bandwidth", [
        ("dtype", "dtype"), ("n", "n"), ("d", "d"), ("X_MB", "X MB"),
        ("epoch_s", "s/epoch"), ("sum_s", "np.sum(X) s"), ("gemv_s", "X @ ones s"),
        ("bound_s", "read-X bound s"), ("X_read_GBps", "read GB/s"),
        ("ratio_vs_bound", "ratio")]),
    ("linear_parts", "Where the time goes: lstsq_fit's parts, the gd gap check's pass", [
        ("shape", "n x d"), ("part", "part"), ("s", "s"), ("vs", "/ reference")]),
    ("handwritten", "TwoLayerNet vs a hand-written NumPy loop of the same math", [
        ("n", "n"), ("d", "d"), ("h", "h"), ("epochs", "epochs"),
        ("numpynn_epoch_s", "numpynn s/epoch"), ("handwritten_epoch_s", "hand-written s/epoch"),
        ("ratio", "ratio")]),
    ("layouts", "TwoLayerNet epoch per input layout", [
        ("layout", "layout"), ("epoch_s", "s/epoch"), ("ratio_vs_C", "epoch vs C ndarray"),
        ("setup_s", "one-time setup s"), ("fit_s", "fit s"),
        ("fit_ratio_vs_C", "fit time vs C ndarray")]),
    ("sparse_auto", "learning_rate='auto' on wide sparse X", [
        ("n", "n"), ("d", "d"), ("nnz", "nnz"), ("auto_s", "auto s"), ("fixed_s", "fixed s"),
        ("ratio", "ratio")]),
    ("gd_floor", "Full-batch gd epoch against its parts in plain NumPy", [
        ("what", "what"), ("s", "s"), ("ratio_vs_read", "/ one read of X")]),
    ("ablation", "Ablation: each trick of numpynn._engine switched off", [
        ("trick", "trick"), ("workload", "workload"), ("on_s", "all on s"),
        ("off_s", "trick off s"), ("gain", "off / on")]),
    ("lstsq", "LinearRegressor lstsq vs LinearRegression, X.T @ X + Cholesky, np.linalg.lstsq", [
        ("n", "n"), ("d", "d"), ("numpynn_s", "numpynn s"), ("lstsq_fit_s", "lstsq_fit s"),
        ("sklearn_s", "sklearn s"), ("cholesky_s", "X.T@X+Cholesky s"),
        ("np_lstsq_s", "np.linalg.lstsq s"), ("ratio", "numpynn / sklearn"),
        ("ratio_fit_vs_cholesky", "lstsq_fit / Cholesky"),
        ("ratio_estimator_vs_cholesky", "LinearRegressor / Cholesky"),
        ("max_rel_coef_diff_vs_sklearn", "coef diff vs sklearn"),
        ("max_rel_coef_err_numpynn", "numpynn err"),
        ("max_rel_coef_err_lstsq_fit", "lstsq_fit err"),
        ("max_rel_coef_err_sklearn", "sklearn err"),
        ("max_rel_coef_err_np_lstsq", "np.linalg.lstsq err"), ("X_MB", "X MB"),
        ("numpynn_peak_MB", "numpynn peak MB"), ("lstsq_fit_peak_MB", "lstsq_fit peak MB"),
        ("sklearn_peak_MB", "sklearn peak MB")]),
]


def _fmt(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float):
        if x == 0:
            return "0"
        a = abs(x)
        if a >= 100:
            return f"{x:.0f}"
        if a >= 1e-3:
            return f"{x:.3g}"
        return f"{x:.2e}"
    return str(x)


def table(rows, cols):
    """A markdown table of ``rows`` (dicts) with ``cols = [(key, header), ...]``."""
    out = ["| " + " | ".join(h for _, h in cols) + " |",
           "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join(_fmt(r.get(k)) for k, _ in cols) + " |")
    return "\n".join(out)


def check_targets(cases):
    """Worst-case value of each target over the rows it covers."""
    out = {}
    net = cases.get("network", {}).get("rows", [])
    f64 = [r["ratio_vs_sklearn"] for r in net if r["dtype"] == "float64"]
    if f64:
        out["net_vs_mlp_float64"] = max(f64)
    sp = [r["speedup"] for r in float32_speedups(net)]
    if sp:
        out["net_float32_speedup"] = min(sp)
    ls = cases.get("lstsq", {}).get("rows", [])
    if ls:
        out["lstsq_vs_linreg"] = max(r["ratio"] for r in ls)
        out["lstsq_fit_vs_cholesky"] = max(r["ratio_fit_vs_cholesky"] for r in ls)
        out["lstsq_estimator_vs_cholesky"] = max(r["ratio_estimator_vs_cholesky"]
                                                     for r in ls)
    bw = cases.get("bandwidth", {}).get("rows", [])
    if bw:
        out["gd_vs_bandwidth"] = max(r["ratio_vs_bound"] for r in bw)
    py = [r for r in cases.get("python_loops", {}).get("rows", [])
          if r["n"] == 10_000 and r.get("speedup")]
    if py:
        out["python_speedup_10k"] = py[0]["speedup"]
    hand = cases.get("handwritten", {}).get("rows", [])
    if any(r["h"] <= 16 for r in hand):
        out["net_vs_handwritten_h16"] = max(r["ratio"] for r in hand if r["h"] <= 16)
    if any(r["h"] > 16 for r in hand):
        out["net_vs_handwritten_h100"] = max(r["ratio"] for r in hand if r["h"] > 16)
    lay = cases.get("layouts", {}).get("rows", [])
    if lay:
        out["layouts_vs_c"] = max(r["ratio_vs_C"] for r in lay)
    spa = cases.get("sparse_auto", {}).get("rows", [])
    if spa:
        out["sparse_auto_vs_fixed"] = max(r["ratio"] for r in spa)
    result = {}
    for key, value in out.items():
        text, op, goal = TARGETS[key]
        ok = value <= goal if op == "<=" else value >= goal
        result[key] = {"target": f"{op} {goal}", "measured": value, "met": bool(ok),
                       "what": text, "worst_case_over_rows": True}
    return result


def markdown(res):
    """The whole results page."""
    m, c, mode = res["machine"], res["cases"], res["mode"]
    lines = [f"# numpynn benchmarks ({mode} mode)", "",
             f"Machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, "
             f"{m['memory_gb']} GB; load average at start "
             f"{', '.join(f'{x:.1f}' for x in m['load_average_at_start'] or [])}; "
             f"BLAS/OpenMP: {_blas_text(m['blas'])}.",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
             + f". Total run time {res['elapsed_s']:.0f} s.", "",
             "All times are medians of interleaved repeats (contenders alternate in "
             "rotating order within each repeat), after one untimed warm-up run.", "",
             "## Targets", "",
             table([{"what": v["what"], "target": v["target"], "measured": v["measured"],
                     "met": "yes" if v["met"] else "**no**"}
                    for v in res["targets"].values()],
                   [("what", "ratio"), ("target", "target"), ("measured", "measured"),
                    ("met", "met")]), ""]
    for key, title, cols in SECTIONS:
        if key in c:
            lines += [f"## {title}", "", _settings(c[key]), table(c[key]["rows"], cols), ""]
    if "network" in c:
        cols = [("n", "n"), ("d", "d"), ("h", "h"), ("dtype", "dtype"),
                ("numpynn_epoch_s", "numpynn s/epoch"), ("sklearn_epoch_s", "MLP s/epoch"),
                ("ratio_vs_sklearn", "ratio vs MLP"),
                ("sklearn_1t_epoch_s", "MLP 1-thread s/epoch"),
                ("ratio_vs_sklearn_1t", "ratio vs MLP 1-thread")]
        if c["network"]["settings"]["torch"]:
            cols += [("torch_epoch_s", "torch s/epoch"), ("ratio_vs_torch", "ratio vs torch")]
        cols += [("numpynn_loss", "numpynn loss"), ("sklearn_loss", "MLP loss"),
                 ("numpynn_r2", "numpynn R^2"), ("sklearn_r2", "MLP R^2")]
        if c["network"]["settings"]["torch"]:
            cols += [("torch_r2", "torch R^2")]
        cols += [("numpynn_gflops", "numpynn GFLOP/s"),
                 ("gemm_only_gflops", "GEMMs alone GFLOP/s"),
                 ("numpynn_peak_MB", "numpynn peak MB"), ("sklearn_peak_MB", "MLP peak MB")]
        lines += ["## TwoLayerNet vs MLPRegressor" + (" vs PyTorch" if
                  c["network"]["settings"]["torch"] else ""), "",
                  _settings(c["network"]), table(c["network"]["rows"], cols), "",
                  f"Machine matmul peak (float64, large square): "
                  f"{res['matmul_peak_gflops']:.1f} GFLOP/s.", ""]
        gains = float32_speedups(c["network"]["rows"])
        if gains:
            gcols = [("n", "n"), ("d", "d"), ("h", "h"), ("speedup", "numpynn"),
                     ("sklearn_speedup", "MLP")]
            if c["network"]["settings"]["torch"]:
                gcols.append(("torch_speedup", "torch"))
            gcols.append(("gemm_speedup", "the GEMMs alone"))
            lines += ["### float32 gain (float64 epoch / float32 epoch)", "",
                      "Where a batch is mostly per-call overhead (small h), float32 "
                      "cannot help any contender; the GEMMs-alone column is the "
                      "arithmetic's own gain at those shapes.", "",
                      table(gains, gcols), ""]
    return "\n".join(lines)


def _blas_text(blas):
    return ", ".join(f"{b.get('internal_api')} {b.get('version')} "
                     f"({b.get('num_threads')} threads)" for b in blas)


def _settings(case):
    return "Settings: " + "; ".join(f"{k}: {v}" for k, v in case["settings"].items()) + "\n"


def plots(res, out_dir):
    """``time_vs_n.png`` and ``time_vs_hidden.png``; returns the paths written."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    c = res["cases"]
    if "python_loops" in c:
        rows = c["python_loops"]["rows"]
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.loglog([r["n"] for r in rows], [r["numpynn_epoch_s"] for r in rows], "o-",
                  label="numpynn kernels")
        py = [r for r in rows if r.get("python_epoch_s")]
        ax.loglog([r["n"] for r in py], [r["python_epoch_s"] for r in py], "s-",
                  label="pure Python (talk)")
        ax.set(xlabel="n samples", ylabel="seconds per epoch (log-log)",
               title="Gradient-descent epoch, 1 feature")
        ax.legend()
        paths.append(_save(fig, out_dir / "time_vs_n.png", plt))
    if "network" in c:
        rows = c["network"]["rows"]
        n0 = rows[0]["n"]
        fig, ax = plt.subplots(figsize=(6, 4))
        for who, key in (("numpynn", "numpynn_epoch_s"), ("MLPRegressor", "sklearn_epoch_s"),
                         ("MLPRegressor 1 thread", "sklearn_1t_epoch_s"),
                         ("torch", "torch_epoch_s")):
            for dtype, style in (("float64", "-"), ("float32", "--")):
                pts = [(r["h"], r[key]) for r in rows
                       if r["n"] == n0 and r["dtype"] == dtype and key in r]
                if pts:
                    ax.loglog(*zip(*pts, strict=True), "o" + style, label=f"{who} {dtype}")
        hs = sorted({r["h"] for r in rows if r["n"] == n0})
        ax.set_xticks(hs, [str(h) for h in hs])
        ax.minorticks_off()
        ax.set(xlabel="hidden units", ylabel="seconds per epoch",
               title=f"Two-layer net, adam, batch 200, n={n0}")
        ax.legend(fontsize=8)
        paths.append(_save(fig, out_dir / "time_vs_hidden.png", plt))
    return paths


def _save(fig, path, plt):
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)
