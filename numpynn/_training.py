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
from ._flat import flatten, sync_state
from .kernels import compute_loss, forward_prop, loss_and_gradient

#: A loss this many times above the first epoch's counts as divergence.
EXPLODE_FACTOR = 1e4


class Kernels(NamedTuple):
    """The model's math with its hyperparameters bound."""

    activation: str
    alpha: float

    def forward(self, X, params, workspace=None):
        return forward_prop(X, params, self.activation, workspace=workspace)

    def loss(self, y, y_pred, params, sample_weight=None, alpha=None):
        """``alpha`` overrides the bound penalty (a chunk's share of it)."""
        return compute_loss(y, y_pred, sample_weight=sample_weight, params=params,
                            alpha=self.alpha if alpha is None else alpha)

    def loss_grad(self, params, cache, y, y_pred, sample_weight=None, workspace=None,
                  alpha=None):
        """``(loss, grads)`` of one forward pass (:func:`loss_and_gradient`)."""
        return loss_and_gradient(params, cache, y, y_pred, self.activation,
                                 alpha=self.alpha if alpha is None else alpha,
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
    """Yield index slices (no shuffle) or sorted index arrays (shuffle).

    Each batch's indices are sorted (sequential reads on memmaps), all full
    batches in one ``np.sort`` call per epoch.
    """
    if order is None:
        for start in range(0, n, batch_size):
            yield slice(start, min(start + batch_size, n))
        return
    full = n - n % batch_size
    yield from np.sort(order[:full].reshape(-1, batch_size), axis=1)   # (n_batches, B)
    if full < n:
        yield np.sort(order[full:])


def _take(A, idx, buf):
    """Rows ``idx`` of ``A`` into the leading rows of ``buf`` (no copy for slices)."""
    if isinstance(idx, slice):
        return A[idx]
    if buf is None:                            # sparse input
        return A[idx]
    out = buf[:idx.shape[0]]
    np.take(A, idx, axis=0, out=out, mode="clip")   # indices are valid; "raise" buffers
    return out


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
        return kernels.loss_grad(params, cache, yb, y_pred, swb, workspace)
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
        alpha_c, y_c = kernels.alpha * w, yb[part]
        y_pred, cache = kernels.forward(Xb[part], params, workspace)
        loss_c, grads = kernels.loss_grad(params, cache, y_c, y_pred, swc, workspace,
                                          alpha_c)
        loss += w * loss_c
        if acc is None:
            acc = {k: workspace.setdefault("acc_" + k, np.empty_like(g))
                   for k, g in grads.items()}
            for k, g in grads.items():
                np.multiply(g, w, out=acc[k])
        else:
            for k, g in grads.items():
                acc[k] += w * g
    return loss, acc


class Buffers(NamedTuple):
    """What every epoch of one run reuses: built once by :func:`make_buffers`."""

    Xbuf: np.ndarray | None     # (batch_size, d): the shuffled batch's rows of X
    ybuf: np.ndarray | None     # (batch_size, ...): and of y
    workspace: dict             # the kernels' layer outputs, deltas and gradients
    rows: int                   # rows per chunk of a big batch (chunk_rows)


def make_buffers(X, y, params, batch_size, shuffle, flat=None):
    """Batch buffers and a kernel workspace for a run (gradients land in ``flat``)."""
    m = min(batch_size, X.shape[0])
    shuffled = shuffle and m < X.shape[0]
    Xbuf = (np.empty((m, X.shape[1]), X.dtype)
            if shuffled and isinstance(X, np.ndarray) else None)
    ybuf = np.empty((m,) + y.shape[1:], y.dtype) if shuffled else None
    workspace = {} if flat is None else {"grad_" + k: v for k, v in flat.grad_views.items()}
    return Buffers(Xbuf, ybuf, workspace, chunk_rows(X, params))


def run_epoch(kernels, optimizer, params, opt_state, X, y, sample_weight,
              batch_size, order, flat=None, buffers=None):
    """One pass of mini-batches; returns ``(mean loss, opt_state)``.

    The loss of each batch is computed in its forward pass, before its
    update, and the epoch's loss is their mean weighted by batch size (by
    batch weight when ``sample_weight`` is given). Layer outputs, deltas
    and gradients live in one workspace (``buffers``, see
    :func:`make_buffers`) reused by every batch and epoch; with ``flat``
    (see :func:`numpynn._flat.flatten`) the optimizer steps on the flat
    buffers and ``opt_state`` is ``flat.state``.
    """
    if buffers is None:
        buffers = make_buffers(X, y, params, batch_size, order is not None, flat)
    Xbuf, ybuf, workspace, rows = buffers
    step = optimizer.step
    step_params, step_grads = (params, None) if flat is None else (flat.params, flat.grads)
    flat_grads = None if flat is None else flat.grads["flat"]
    total = weight = 0.0
    for idx in _batches(X.shape[0], batch_size, order):
        Xb, yb = _take(X, idx, Xbuf), _take(y, idx, ybuf)
        swb = None if sample_weight is None else sample_weight[idx]
        w = yb.shape[0] if swb is None else float(swb.sum())
        if not w > 0:
            continue                            # an all-zero-weight batch teaches nothing
        loss, grads = loss_and_grads(kernels, params, Xb, yb, swb, workspace, rows)
        if flat is not None:
            for key, g in grads.items():        # sparse X or chunked: not in the views
                if g.base is not flat_grads:
                    np.copyto(flat.grad_views[key], g)
        opt_state = step(step_params, grads if flat is None else step_grads, opt_state)
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


def _diverged(loss, first_loss, arrays):
    if not np.isfinite(loss):
        return True
    if first_loss is not None and loss > EXPLODE_FACTOR * max(first_loss, 1e-300):
        return True
    return not all(np.isfinite(a).all() for a in arrays)


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
    best_params = {k: v.copy() for k, v in params.items()} if validation else None
    curve, val_curve, val_scores = [], [], []
    best_loss, best_score, stale = np.inf, -np.inf, 0
    converged = interrupted = False
    bar = tqdm(total=schedule.max_iter, disable=not schedule.verbose,
               desc="numpynn", unit="epoch", leave=False)
    flat = flatten(optimizer, params, opt_state)
    step_state = opt_state if flat is None else flat.state
    buffers = make_buffers(X, y, params, schedule.batch_size, schedule.shuffle, flat)
    arrays = list(params.values()) if flat is None else [flat.params["flat"]]
    last_good = [a.copy() for a in arrays]      # the last finished epoch's parameters
    try:
        for epoch in range(schedule.max_iter):
            order = None if (full_batch or not schedule.shuffle) else rng.permutation(n)
            loss, step_state = run_epoch(kernels, optimizer, params, step_state, X, y,
                                         sample_weight, schedule.batch_size, order, flat,
                                         buffers)
            if _diverged(loss, curve[0] if curve else None, arrays):
                raise ValueError(
                    f"Training diverged at epoch {epoch_offset + epoch + 1}: the loss "
                    f"became {loss:.4g} (first epoch: "
                    f"{curve[0] if curve else float('nan'):.4g}). "
                    f"{schedule.hint}Use a smaller learning_rate, or scale the "
                    "features (e.g. StandardScaler in a Pipeline)."
                )
            for saved, a in zip(last_good, arrays, strict=True):
                np.copyto(saved, a)
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
            if schedule.verbose:
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4g}")
            if on_epoch is not None and on_epoch(params, logs):
                break
            if schedule.tol is not None and stale >= schedule.n_iter_no_change:
                converged = True
                break
    except KeyboardInterrupt:
        for saved, a in zip(last_good, arrays, strict=True):
            np.copyto(a, saved)
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
            sync_state(opt_state, step_state, params.keys())
    if validation is not None and val_scores:
        for k, v in best_params.items():
            np.copyto(params[k], v)
    return RunResult(curve, val_curve, val_scores, best_loss,
                     best_score if val_scores else None, converged, interrupted,
                     opt_state)
