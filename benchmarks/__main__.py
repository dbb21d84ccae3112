"""Run the benchmarks: ``python -m benchmarks [--quick | --smoke] [--out DIR]``.

Writes ``results.md``, ``results.json`` and PNG plots to ``--out``
(default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import cases_engine, cases_linear, cases_net
from ._harness import SETTLE_S, dump_json, machine_info, matmul_peak
from .report import check_targets, markdown, plots

#: Sizes per mode. Full mode keeps the issue's sizes and trims repeats/epochs.
MODES = {
    "full": dict(
        repeats=3, memory=True, torch=True, settle=SETTLE_S,
        py_ns=[200, 2_000, 10_000, 100_000, 1_000_000], py_epochs=10, py_min_samples=500_000,
        py_time_limit=6.0,
        gd_n=100_000, gd_d=20, gd_epochs=5,
        bw_n=1_000_000, bw_d=20, bw_epochs=12, bw_repeats=5, bw_bytes=512 << 20,
        lstsq_shapes=[(200_000, 50), (1_000_000, 20)],
        net_grid=[(20_000, 20, [16, 100, 512]), (200_000, 50, [100])], net_epochs=2,
        net_repeats=5,
        hand_n=20_000, hand_hs=[16, 100, 512], hand_epochs=3,
        layout_n=200_000, layout_d=50, layout_epochs=2, sparse_shape=(2_000, 4_000),
    ),
    "quick": dict(
        repeats=3, memory=True, torch=True, settle=SETTLE_S,
        py_ns=[200, 2_000, 10_000, 50_000], py_epochs=10, py_min_samples=500_000,
        py_time_limit=2.0,
        gd_n=20_000, gd_d=20, gd_epochs=3,
        bw_n=300_000, bw_d=20, bw_epochs=10, bw_repeats=3, bw_bytes=256 << 20,
        lstsq_shapes=[(50_000, 50), (200_000, 20)],
        net_grid=[(5_000, 20, [16, 100, 512])], net_epochs=2, net_repeats=3,
        hand_n=5_000, hand_hs=[16, 100, 512], hand_epochs=2,
        layout_n=20_000, layout_d=50, layout_epochs=2, sparse_shape=(2_000, 4_000),
    ),
    "smoke": dict(
        repeats=1, memory=True, torch=False, settle=0.0,
        py_ns=[200, 1_000], py_epochs=2, py_min_samples=0, py_time_limit=0.5,
        gd_n=1_000, gd_d=5, gd_epochs=2,
        bw_n=20_000, bw_d=5, bw_epochs=3, bw_repeats=1, bw_bytes=16 << 20,
        lstsq_shapes=[(2_000, 5)],
        net_grid=[(400, 5, [4])], net_epochs=1, net_repeats=1,
        hand_n=400, hand_hs=[4], hand_epochs=1,
        layout_n=400, layout_d=5, layout_epochs=1, sparse_shape=(50, 80),
    ),
}

CASES = {
    "python_loops": cases_linear.case_python_loops,
    "gd_sgd": cases_linear.case_gd_sgd,
    "bandwidth": cases_linear.case_bandwidth,
    "lstsq": cases_linear.case_lstsq,
    "linear_parts": cases_linear.case_linear_parts,
    "network": cases_net.case_network,
    "handwritten": cases_engine.case_handwritten,
    "layouts": cases_engine.case_layouts,
    "sparse_auto": cases_engine.case_sparse_auto,
    "gd_floor": cases_engine.case_gd_floor,
    "ablation": cases_engine.case_ablation,
}


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    g.add_argument("--smoke", action="store_true", help="tiny sizes (seconds; for tests)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results",
                   help="output directory (default: benchmarks/results)")
    p.add_argument("--only", nargs="+", choices=list(CASES), help="run only these cases")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    p.add_argument("--repeats", type=int, help="override the mode's repeats")
    return p.parse_args(argv)


def run(args, log=print):
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    cfg = dict(MODES[mode])
    if args.no_torch:
        cfg["torch"] = False
    if args.repeats:
        cfg["repeats"] = cfg["net_repeats"] = cfg["bw_repeats"] = args.repeats
    start = time.perf_counter()
    res = {"mode": mode, "machine": machine_info(), "config": cfg, "cases": {}}
    for name, case in CASES.items():
        if args.only and name not in args.only:
            continue
        log(f"[benchmarks] {name} ...", flush=True)
        t = time.perf_counter()
        res["cases"][name] = case(cfg)
        log(f"[benchmarks] {name} done in {time.perf_counter() - t:.1f} s", flush=True)
    res["matmul_peak_gflops"] = matmul_peak(300 if mode == "smoke" else 1500)
    res["targets"] = check_targets(res["cases"])
    res["elapsed_s"] = time.perf_counter() - start
    return res


def write(res, out):
    out.mkdir(parents=True, exist_ok=True)
    res["plots"] = [Path(p).name for p in plots(res, out)]
    (out / "results.md").write_text(markdown(res))
    dump_json(res, out / "results.json")
    return out


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    res = run(args)
    out = write(res, args.out)
    print(f"[benchmarks] wrote {out / 'results.md'}, results.json and "
          f"{', '.join(res['plots'])}")
    for t in res["targets"].values():
        print(f"  {t['what']}: {t['measured']:.3g} (target {t['target']}) "
              f"{'met' if t['met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
