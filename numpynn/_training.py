"""The training loop, written once and shared by both estimators.

Nothing here knows about estimators: :func:`run` takes the kernels, an
optimizer, the parameter dict and the data, and reports what happened in a
:class:`RunResult`. Estimators turn that into fitted attributes.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from sklearn.metrics import r2_score

from ._blas import SMALL_FLOPS, single_threaded_blas
from .kernels import compute_loss, forward_prop, gradient

#: A loss this many times above the first epoch's counts as divergence.
EXPLODE_FACTOR = 1e4


class Kernels(NamedTuple):
    """The model's math with its hyperparameters bound."""

    activation: str
    alpha: float

    def forward(self, X, params, workspace=None):
        return forward_prop(X, params, self.activation, workspace=workspace)

    def loss(self, y, y_pred, params, sample_weight=None):
        return compute_loss(y, y_pred, sample_weight=sample_weight, params=params,
                            alpha=self.alpha)

    def grad(self, params, cache, y, y_pred, sample_weight=None, workspace=None):
        return gradient(params, cache, y, y_pred, self.activation, alpha=self.alpha,
                        sample_weight=sample_weight, workspace=workspace)

    def predict(self, X, params, chunk_rows=65536):
        """Forward pass in row blocks (bounded memory on huge or mapped X)."""
        if X.shape[0] <= chunk_rows:
            return self.forward(X, params)[0]
        return np.vstack([self.forward(X[s:s + chunk_rows], params)[0]
                          for s in range(0, X.shape[0], chunk_rows)])


class Schedule(NamedTuple):
    """How long and in what order to train."""

    max_iter: int
    batch_size: int
    shuffle: bool
    tol: float | None
    n_iter_no_change: int
    verbose: bool = False
    hint: str = ""


class RunResult(NamedTuple):
    loss_curve: list
    val_loss_curve: list
    val_scores: list
    best_loss: float
    best_val_score: float | None
    converged: bool
    interrupted: bool
    opt_state: object


def _batches(n, batch_size, order):
    """Yield index slices (no shuffle) or sorted index arrays (shuffle)."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        if order is None:
            yield slice(start, stop)
        else:
            yield np.sort(order[start:stop])   # sorted: sequential reads on memmaps


def _take(A, idx, buf):
    """Rows ``idx`` of ``A`` into the leading rows of ``buf`` (no copy for slices)."""
    if isinstance(idx, slice):
        return A[idx]
    if buf is None:                            # sparse input
        return A[idx]
    out = buf[:idx.shape[0]]
    np.take(A, idx, axis=0, out=out)
    return out


class _Flat(NamedTuple):
    """All parameters, their gradients and per-parameter optimizer state as
    single contiguous buffers (``params`` and ``opt_state`` hold views of
    them), so that an elementwise optimizer steps in one call per ufunc."""

    params: dict                # {"flat": (P,)}, the optimizer's view
    grads: dict                 # {"flat": (P,)}
    state: object               # opt_state with per-parameter dicts flattened
    grad_views: dict            # key -> view of grads["flat"] shaped like params[key]


def _pack(arrays, buf=None):
    """Copy a dict of arrays into one flat buffer; the dict then holds views of it."""
    if buf is None:
        dtype = next(iter(arrays.values())).dtype
        buf = np.empty(sum(v.size for v in arrays.values()), dtype)
    start = 0
    for key, v in arrays.items():
        view = buf[start:start + v.size].reshape(v.shape)
        view[...] = v
        arrays[key] = view
        start += v.size
    return buf


def _flat_state(state, keys):
    if isinstance(state, dict):
        if state.keys() == keys:                # a per-parameter dict (velocity, m, v)
            ordered = {k: state[k] for k in keys}   # pack in the parameters' order
            buf = _pack(ordered)
            state.update(ordered)
            return {"flat": buf}
        return {k: _flat_state(v, keys) for k, v in state.items()}
    return state


def _sync_state(state, flat, keys):
    """Copy scalars (e.g. Adam's step count) from the flat state back."""
    if isinstance(state, dict) and state.keys() != keys:
        for k, v in state.items():
            if isinstance(v, dict):
                _sync_state(v, flat[k], keys)
            else:
                state[k] = flat[k]


def _uniform(tree, dtype):
    if isinstance(tree, dict):
        return all(_uniform(v, dtype) for v in tree.values())
    return not isinstance(tree, np.ndarray) or tree.dtype == dtype


def flatten(optimizer, params, opt_state):
    """A :class:`_Flat` for ``optimizer``, or ``None`` when it cannot apply.

    Mutates ``params`` and ``opt_state`` so that their arrays are views of
    the flat buffers (same values).
    """
    dtypes = {v.dtype for v in params.values()}
    if not getattr(optimizer, "elementwise", False) or len(dtypes) != 1 \
            or not all(isinstance(v, np.ndarray) for v in params.values()):
        return None
    dtype = dtypes.pop()
    if not _uniform(opt_state, dtype):
        return None
    keys = params.keys()
    flat_params = _pack(params)
    grad_views = {k: np.empty_like(v) for k, v in params.items()}
    flat_grads = _pack(grad_views)
    return _Flat({"flat": flat_params}, {"flat": flat_grads},
                 _flat_state(opt_state, keys), grad_views)


#: Bytes of one row chunk of a big batch (X, hidden and output rows): the
#: chunk stays in cache between its forward and backward pass.
CHUNK_BYTES = 2 << 20


def chunk_rows(X, params):
    """Rows per chunk of a big batch: about :data:`CHUNK_BYTES` of X and layer outputs."""
    width = X.shape[1] + sum(v.shape[-1] for k, v in params.items() if k.startswith("W"))
    return max(256, CHUNK_BYTES // (width * X.dtype.itemsize))


def loss_and_grads(kernels, params, Xb, yb, swb, workspace, rows=None):
    r"""Loss and gradients of one batch, sweeping a big batch in row chunks.

    A batch larger than :data:`CHUNK_BYTES` (a full batch on big data) is
    cut into row chunks ``c`` of weight :math:`w_c = S_c / S`, each run
    through the kernels with penalty :math:`\alpha w_c`. Because the loss
    is a weighted mean, :math:`L = \sum_c w_c L_c` and
    :math:`\nabla L = \sum_c w_c \nabla L_c` exactly (the penalty terms
    add up to :math:`\alpha`), while each chunk of ``X`` is read from
    memory once, not once for the forward pass and again for the gradient,
    and the hidden activations never exist for all rows at once.
    """
    n_b = Xb.shape[0]
    rows = rows or chunk_rows(Xb, params)
    if n_b <= 2 * rows:
        y_pred, cache = kernels.forward(Xb, params, workspace)
        return (kernels.loss(yb, y_pred, params, swb),
                kernels.grad(params, cache, yb, y_pred, swb, workspace))
    total_w = n_b if swb is None else float(swb.sum())
    starts = list(range(0, n_b, rows))
    if len(starts) < 4:
        return _sweep(kernels, params, Xb, yb, swb, total_w, starts, rows, workspace)
    # Two contiguous halves, the second on a helper thread with its own
    # workspace (the kernels are pure; NumPy and BLAS release the GIL): two
    # cores read X at once. The split depends only on n and rows, and the
    # halves are added in order, so results are reproducible.
    half = len(starts) // 2
    side = workspace.setdefault("_helper", {})
    out = {}

    def helper():
        try:
            out["result"] = _sweep(kernels, params, Xb, yb, swb, total_w, starts[half:],
                                   rows, side)
        except BaseException as exc:        # re-raised on the calling thread
            out["error"] = exc

    thread = threading.Thread(target=helper, daemon=True)
    thread.start()
    loss, acc = _sweep(kernels, params, Xb, yb, swb, total_w, starts[:half], rows,
                       workspace)
    thread.join()
    if "error" in out:
        raise out["error"]
    loss2, acc2 = out["result"]
    if acc is None:
        return loss2, acc2
    if acc2 is not None:
        for k in acc:
            acc[k] += acc2[k]
    return loss + loss2, acc


def _sweep(kernels, params, Xb, yb, swb, total_w, starts, rows, workspace):
    """Weighted sum of the loss and gradients over the row chunks at ``starts``."""
    n_b = Xb.shape[0]
    loss, acc = 0.0, None
    for start in starts:
        part = slice(start, start + rows)
        swc = None if swb is None else swb[part]
        w = (min(rows, n_b - start) if swc is None else float(swc.sum())) / total_w
        if w == 0:
            continue
        k_c = kernels._replace(alpha=kernels.alpha * w)
        y_pred, cache = k_c.forward(Xb[part], params, workspace)
        loss += w * k_c.loss(yb[part], y_pred, params, swc)
        grads = k_c.grad(params, cache, yb[part], y_pred, swc, workspace)
        if acc is None:
            acc = {k: workspace.setdefault(f"acc_{k}", np.empty_like(g))
                   for k, g in grads.items()}
            for k, g in grads.items():
                np.multiply(g, w, out=acc[k])
        else:
            for k, g in grads.items():
                acc[k] += w * g
    return loss, acc


def run_epoch(kernels, optimizer, params, opt_state, X, y, sample_weight,
              batch_size, order, flat=None):
    """One pass of mini-batches; returns ``(mean loss, opt_state)``.

    The loss of each batch is computed in its forward pass, before its
    update, and the epoch's loss is their mean weighted by batch size (by
    batch weight when ``sample_weight`` is given). Layer outputs, deltas
    and gradients live in one workspace reused by every batch; with
    ``flat`` (see :func:`flatten`) the optimizer steps on the flat buffers
    and ``opt_state`` is ``flat.state``.
    """
    n = X.shape[0]
    dense = isinstance(X, np.ndarray)
    m = min(batch_size, n)
    Xbuf = np.empty((m, X.shape[1]), X.dtype) if dense and order is not None else None
    ybuf = np.empty((m,) + y.shape[1:], y.dtype) if order is not None else None
    workspace = {} if flat is None else {f"grad_{k}": v for k, v in flat.grad_views.items()}
    rows = chunk_rows(X, params)
    total = 0.0
    weight = 0.0
    for idx in _batches(n, batch_size, order):
        Xb, yb = _take(X, idx, Xbuf), _take(y, idx, ybuf)
        swb = None if sample_weight is None else sample_weight[idx]
        if swb is not None and not swb.sum() > 0:
            continue                            # an all-zero-weight batch teaches nothing
        loss, grads = loss_and_grads(kernels, params, Xb, yb, swb, workspace, rows)
        if flat is None:
            opt_state = optimizer.step(params, grads, opt_state)
        else:
            for key, g in grads.items():        # sparse X: the gradient is a new array
                if g.base is not flat.grads["flat"]:
                    np.copyto(flat.grad_views[key], g)
            opt_state = optimizer.step(flat.params, flat.grads, opt_state)
        w = yb.shape[0] if swb is None else float(swb.sum())
        total += loss * w
        weight += w
    return total / weight if weight > 0 else 0.0, opt_state


def validation_metrics(kernels, params, validation):
    """``(loss, R^2)`` of ``params`` on ``validation = (X, y, sample_weight)``."""
    Xv, yv, swv = validation
    y_pred = kernels.predict(Xv, params)
    loss = kernels.loss(yv, y_pred, params, swv)
    score = r2_score(yv, y_pred.reshape(yv.shape), sample_weight=swv)
    return loss, float(score)


def _diverged(loss, first_loss, params):
    if not np.isfinite(loss):
        return True
    if first_loss is not None and loss > EXPLODE_FACTOR * max(first_loss, 1e-300):
        return True
    return not all(np.isfinite(v).all() for v in params.values())


def run(kernels: Kernels, optimizer, params, opt_state, X, y, sample_weight,
        schedule: Schedule, rng, *, validation=None, on_epoch: Callable = None,
        epoch_offset=0):
    """Train ``params`` in place for up to ``schedule.max_iter`` epochs.

    Stopping: with ``tol`` set, after ``n_iter_no_change`` consecutive
    epochs whose training loss (or validation R^2, when ``validation`` is
    given) fails to improve on the best by ``tol``. ``on_epoch(params,
    logs)`` runs after each epoch; returning True stops training. With
    validation, ``params`` end at the best-scoring epoch's values.

    Raises
    ------
    ValueError
        If the loss becomes non-finite or explodes, naming the epoch.
        ``params`` are then garbage; the caller must discard them.

    Notes
    -----
    When one batch's (or big batch's chunk's, see :func:`loss_and_grads`)
    GEMMs are small (under :data:`numpynn._blas.SMALL_FLOPS`), BLAS runs on
    one thread during training (see :mod:`numpynn._blas`).
    """
    m = min(schedule.batch_size, X.shape[0], 2 * chunk_rows(X, params))  # rows per GEMM
    flops = 2 * m * sum(v.size for k, v in params.items() if k.startswith("W"))
    with single_threaded_blas(flops < SMALL_FLOPS):
        return _run(kernels, optimizer, params, opt_state, X, y, sample_weight, schedule,
                    rng, validation=validation, on_epoch=on_epoch,
                    epoch_offset=epoch_offset)


def _run(kernels, optimizer, params, opt_state, X, y, sample_weight, schedule, rng, *,
         validation, on_epoch, epoch_offset):
    from tqdm.auto import tqdm

    n = X.shape[0]
    full_batch = schedule.batch_size >= n
    last_good = {k: v.copy() for k, v in params.items()}
    best_params = {k: v.copy() for k, v in params.items()} if validation else None
    curve, val_curve, val_scores = [], [], []
    best_loss, best_score, stale = np.inf, -np.inf, 0
    converged = interrupted = False
    bar = tqdm(total=schedule.max_iter, disable=not schedule.verbose,
               desc="numpynn", unit="epoch", leave=False)
    flat = flatten(optimizer, params, opt_state)
    step_state = opt_state if flat is None else flat.state
    try:
        for epoch in range(schedule.max_iter):
            order = None if (full_batch or not schedule.shuffle) else rng.permutation(n)
            loss, step_state = run_epoch(kernels, optimizer, params, step_state, X, y,
                                         sample_weight, schedule.batch_size, order, flat)
            if _diverged(loss, curve[0] if curve else None, params):
                raise ValueError(
                    f"Training diverged at epoch {epoch_offset + epoch + 1}: the loss "
                    f"became {loss:.4g} (first epoch: "
                    f"{curve[0] if curve else float('nan'):.4g}). "
                    f"{schedule.hint}Use a smaller learning_rate, or scale the "
                    "features (e.g. StandardScaler in a Pipeline)."
                )
            for k, v in params.items():
                np.copyto(last_good[k], v)
            curve.append(loss)
            logs = {"epoch": epoch_offset + epoch + 1, "loss": loss}
            if validation is not None:
                val_loss, score = validation_metrics(kernels, params, validation)
                val_curve.append(val_loss)
                val_scores.append(score)
                logs.update(val_loss=val_loss, val_score=score)
                improved = score > best_score + (schedule.tol or 0.0)
                if score > best_score:
                    best_score = score
                    for k, v in params.items():
                        np.copyto(best_params[k], v)
            else:
                improved = loss < best_loss - (schedule.tol or 0.0)
            best_loss = min(best_loss, loss)
            stale = 0 if improved else stale + 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4g}")
            if on_epoch is not None and on_epoch(params, logs):
                break
            if schedule.tol is not None and stale >= schedule.n_iter_no_change:
                converged = True
                break
    except KeyboardInterrupt:
        for k, v in last_good.items():
            np.copyto(params[k], v)
        interrupted = True
        warnings.warn(
            f"training interrupted after {len(curve)} finished epoch(s); the model "
            "keeps the parameters of the last finished epoch.",
            UserWarning, stacklevel=3,
        )
    finally:
        bar.close()
        if flat is None:
            opt_state = step_state
        else:
            _sync_state(opt_state, step_state, params.keys())
    if validation is not None and val_scores:
        for k, v in best_params.items():
            np.copyto(params[k], v)
    return RunResult(curve, val_curve, val_scores, best_loss,
                     best_score if val_scores else None, converged, interrupted,
                     opt_state)
