"""Benchmarks of numpynn against pure Python, scikit-learn and (optionally) PyTorch.

Run ``python -m benchmarks`` (full, under ~10 minutes on 2 cores),
``python -m benchmarks --quick`` (about a minute) or ``--smoke`` (seconds).
Results go to ``benchmarks/results/`` (``results.md``, ``results.json``,
``time_vs_n.png``, ``time_vs_hidden.png``). These are measurements, not
tests: the test suite only smoke-runs them.
"""
