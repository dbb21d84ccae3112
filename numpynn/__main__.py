"""Command line: ``numpynn demo | fit | predict``, also ``python -m numpynn ...``.

* ``numpynn demo [--out DIR] [--no-gif]``: the tutorial and Moore's law end
  to end, with their pictures (:mod:`numpynn._cli_demo`);
* ``numpynn fit DATA.csv --target COLUMN [...]``: train on a CSV file, write
  the model, its metrics and pictures; ``numpynn predict MODEL.npz DATA.csv``:
  its predictions as CSV (:mod:`numpynn._cli_fit`);
* ``numpynn`` alone prints the help; ``numpynn --version``.

Exit status: 0 done; 1 a problem with the input or the files, told in one
line on stderr; 2 a usage error (argparse); 130 interrupted by Ctrl-C. The
output folder is proven writable (by writing to it) before any work, and
Ctrl-C ends the run with one line, not a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from ._cli_io import CliError, writable_dir, writable_file


class Interrupted(BaseException):
    """Ctrl-C in the command line.

    Not a KeyboardInterrupt, which training catches to keep the last finished
    epoch: on the command line Ctrl-C ends the run.
    """


def _parser():
    parser = argparse.ArgumentParser(
        prog="numpynn",
        description="numpynn: linear regression and small neural networks in NumPy. "
                    "Run 'numpynn COMMAND --help' for a command's options.",
        epilog="Exit status: 0 done, 1 bad input or files (one line on stderr), "
               "2 usage error, 130 interrupted (Ctrl-C).")
    parser.add_argument("--version", action="version", version=f"numpynn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _demo_parser(sub)
    _fit_parser(sub)
    _predict_parser(sub)
    return parser


def _demo_parser(sub):
    demo = sub.add_parser(
        "demo", help="run the tutorial and Moore's law end to end, write the pictures",
        description="Fit the tutorial's gradient descent (make_regression, learning rate "
                    "0.05, 61 epochs) with its epoch log and held-out metrics, then "
                    "Moore's law on embedded transistor counts; writes PNGs and a GIF.")
    demo.add_argument("--out", type=Path, default=Path("numpynn-demo"), metavar="DIR",
                      help="output folder, created if needed (default: ./numpynn-demo)")
    demo.add_argument("--no-gif", action="store_true",
                      help="skip learning.gif, the slowest picture")


def _fit_parser(sub):
    fit = sub.add_parser(
        "fit", help="train on a CSV file; write the model, metrics and pictures",
        description="Train on a CSV file with a header row: every column but the target "
                    "is a feature, all numeric, no missing values. The features (and, "
                    "for the net, the target) are standardised inside the saved model. "
                    "Writes model.npz, metrics.json, fit.png, loss.png, residuals.png.")
    fit.add_argument("data", type=Path, metavar="DATA.csv", help="the training data")
    fit.add_argument("--target", required=True, metavar="COLUMN",
                     help="the column to predict")
    fit.add_argument("--model", choices=("linear", "net"), default="linear",
                     help="LinearRegressor or TwoLayerNet (default: linear)")
    fit.add_argument("--solver", choices=("gd", "lstsq", "newton", "adam", "sgd", "momentum"),
                     help="linear: gd (default), lstsq (exact), newton; "
                          "net: adam (default), sgd, momentum")
    fit.add_argument("--hidden-units", type=_count, metavar="N",
                     help="hidden units of the net (default: 100)")
    fit.add_argument("--max-iter", type=_count, metavar="N",
                     help="most epochs (default: the estimator's, 1000 linear, 200 net)")
    fit.add_argument("--test-size", type=_fraction, default=0.2, metavar="F",
                     help="fraction of rows held out for the test metrics (default: 0.2)")
    fit.add_argument("--random-state", type=int, default=0, metavar="N",
                     help="seed of the split and the training (default: 0)")
    fit.add_argument("--out", type=Path, default=Path("numpynn-fit"), metavar="DIR",
                     help="output folder, created if needed (default: ./numpynn-fit)")


def _predict_parser(sub):
    pred = sub.add_parser(
        "predict", help="predict for each row of a CSV file with a saved model",
        description="Predict with a model saved by 'numpynn fit' (or numpynn.save). The "
                    "columns are found by their training names; others are ignored. "
                    "Writes CSV: a header 'prediction' (prediction_0, ... for several "
                    "outputs), then one row per input row, at full precision.")
    pred.add_argument("model", type=Path, metavar="MODEL.npz")
    pred.add_argument("data", type=Path, metavar="DATA.csv")
    pred.add_argument("--out", type=Path, metavar="PREDICTIONS.csv",
                      help="where to write the predictions (default: stdout)")


def _count(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _fraction(text):
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (excluded), got {value}")
    return value


def main(argv=None):
    """Entry point of the ``numpynn`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    with _ctrl_c_ends_the_run():
        try:
            return _COMMANDS[args.command](args)
        except CliError as exc:
            print(f"numpynn {args.command}: {exc}", file=sys.stderr)
            return 1
        except (Interrupted, KeyboardInterrupt):
            print(f"\nnumpynn {args.command}: interrupted", file=sys.stderr)
            return 130


@contextmanager
def _ctrl_c_ends_the_run():
    """While the command runs, SIGINT raises :class:`Interrupted` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # a second Ctrl-C: no traceback
        raise Interrupted

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _headless():
    import matplotlib

    matplotlib.use("Agg")                     # before pyplot is imported


def _demo(args):
    out = writable_dir(args.out)
    _headless()
    from ._cli_demo import demo

    return demo(out, gif=not args.no_gif)


def _fit(args):
    from ._cli_fit import check_options, run_fit

    check_options(args.model, args.solver, args.hidden_units)
    out = writable_dir(args.out)
    _headless()
    return run_fit(args, out)


def _predict(args):
    from ._cli_fit import run_predict

    out = None if args.out is None else writable_file(args.out)
    return run_predict(args, out)


_COMMANDS = {"demo": _demo, "fit": _fit, "predict": _predict}


if __name__ == "__main__":
    raise SystemExit(main())
