"""Smooth ECE for many (confidence, correctness) rows at once: relplot's algorithm, batched.

``relplot.smECE`` (Błasiok & Nakkiran) chooses its bandwidth by a binary search over (0, 1]:
ten halvings that keep the largest σ with σ < smoothECE(σ). Each smoothECE(σ) deposits the
residuals f − y (and ones, for the density) on a grid by linear interpolation, convolves them
with a Gaussian of width σ reflected at 0 and 1, and reads the result on a mesh; the value is
Σ|smoothed residual| / Σ(smoothed density + 1e-4). Here every row runs its own search in
lockstep with the others: rows are grouped by grid size (which depends on σ), deposited with one
``bincount``, and convolved through one batched FFT with one kernel per row. Same grids, same
kernels, same search: ``tests/unit/test_metrics.py`` checks it against ``relplot.smECE`` to 1e-9 on
random inputs, and it is some twenty times faster on a thousand bootstrap resamples.
"""

from __future__ import annotations

import numpy as np

from .base import distinct_codes

SMECE_MESH = 200  # relplot.config.smECE_mesh_pts
DENSITY_EPS = 1e-4  # relplot's BaseKernelMixin.smooth
SEARCH_EPS = 1e-3  # relplot.smECE's eps
REFINE = 10  # relplot's search_param refinements


def _grid(sigma: float) -> int:
    return max(2000, round(20 / sigma)) // 2 + 1


def _mesh(sigma: float) -> int:
    return max(round(10 / sigma), SMECE_MESH)


def _deposit(f: np.ndarray, w: np.ndarray, size: int) -> np.ndarray:
    """relplot's smooth_round_to_grid, for each row: weights ``w`` spread linearly on a grid."""
    rows, n = f.shape
    pos = f * (size - 1)
    bins = pos.astype(int).clip(0, size - 2)
    frac = pos - bins
    offset = (np.arange(rows) * size)[:, None]
    out = np.bincount((offset + bins).ravel(), ((1 - frac) * w).ravel(), rows * size)
    out += np.bincount((offset + bins + 1).ravel(), (frac * w).ravel(), rows * size)
    return out.reshape(rows, size)


def _fft():
    """scipy's FFT (pocketfft, as numpy's), which takes every core: rows are independent."""
    # scipy takes ~1 s to import: only where a figure is computed, not for every CLI command.
    import scipy.fft

    return scipy.fft


def _fft_size(size: int) -> int:
    """A circular convolution this long equals the linear one on the outputs read: those start
    at ``size - 1 + size // 2``, and wrap-around reaches up to index ``4 * size - 4 - n``."""
    # scipy takes ~1 s to import: only where a figure is computed, not for every CLI command.
    from scipy.fft import next_fast_len

    return next_fast_len(4 * size - 3 - (size - 1 + size // 2) + 1)


def _reflected_spectrum(values: np.ndarray) -> np.ndarray:
    """The spectrum of each row reflected at both ends (relplot's ReflectedGaussianKernel)."""
    size = values.shape[1]
    extended = np.concatenate([values[:, ::-1][:, :-1], values, values[:, ::-1][:, 1:]], axis=1)
    return _fft().rfft(extended, _fft_size(size), workers=-1)


def _kernel_spectra(sigmas: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The spectrum of relplot's discretised Gaussian for each distinct σ, and which row uses
    which."""
    distinct, which = np.unique(sigmas, return_inverse=True)
    t = np.linspace(0, 1, size)
    kernel = np.exp(-(t - 0.5) ** 2 / (2 * distinct[:, None] ** 2))
    kernel /= np.sqrt(2 * np.pi) * distinct[:, None]
    return _fft().rfft(kernel, _fft_size(size), workers=-1), which


def _interpolate(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """relplot's interpolate, for each row of ``y`` at the same points ``t``."""
    buckets = y.shape[1]
    inds = (t * (buckets - 1)).astype(int).clip(0, buckets - 2)
    residual = (t - inds / (buckets - 1)) * (buckets - 1)
    return y[:, inds] * (1 - residual) + y[:, inds + 1] * residual


class _Rows:
    """Rows of (f, y), with the spectra of their deposited residuals and densities per grid
    size: those do not depend on σ, so the search computes them once.

    The deposit is linear in the weights, and questions with the same confidence land on the
    same grid points, so when a run has few distinct confidences (shares of M samples) each
    row is first summed per distinct value: a thousand resamples of 20,000 questions deposit
    a few dozen weighted points per row instead of 20,000 (the same sums, in another order)."""

    def __init__(self, f: np.ndarray, y: np.ndarray):
        self.f, self.residual, self.ones = f, f - y, np.ones_like(f)
        codes, values = distinct_codes(f)
        rows, n = f.shape
        if 4 * len(values) <= n:
            k = len(values)
            flat = (np.arange(rows)[:, None] * k + codes).ravel()
            self.ones = np.bincount(flat, minlength=rows * k).reshape(rows, k).astype(float)
            self.residual = np.bincount(flat, self.residual.ravel(), rows * k).reshape(rows, k)
            self.f = np.broadcast_to(values, (rows, k))
        self._spectra: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def spectra(self, size: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if size not in self._spectra:
            self._spectra[size] = (_reflected_spectrum(_deposit(self.f, self.residual, size)),
                                   _reflected_spectrum(_deposit(self.f, self.ones, size)))
        residual, density = self._spectra[size]
        return residual[rows], density[rows]


def smooth_ece(data: _Rows, sigmas: np.ndarray) -> np.ndarray:
    """smoothECE of each row at its own bandwidth (relplot's ``smooth_ece``)."""
    out = np.empty(len(sigmas))
    keys = [(_grid(s), _mesh(s)) for s in sigmas]
    for key in set(keys):
        rows = np.array([i for i, k in enumerate(keys) if k == key])
        size, mesh = key
        residual, density = data.spectra(size, rows)
        kernels, which = _kernel_spectra(sigmas[rows], size)
        n_fft = _fft_size(size)
        start = size - 1 + size // 2  # np.convolve(..., "valid")[size // 2: size // 2 + size]
        t = np.linspace(0, 1, mesh)
        fft = _fft()
        r = _interpolate(t, fft.irfft(residual * kernels[which], n_fft, workers=-1)
                         [:, start:start + size])
        d = _interpolate(t, fft.irfft(density * kernels[which], n_fft, workers=-1)
                         [:, start:start + size])
        out[rows] = np.abs(r).sum(1) / (d + DENSITY_EPS).sum(1)
    return out


def smece(f: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Smooth ECE of each row of ``f`` and ``y`` (shape ``(rows, n)``), bandwidth searched as
    relplot searches it."""
    f, y = np.atleast_2d(np.asarray(f, float)), np.atleast_2d(np.asarray(y, float))
    rows = len(f)
    data = _Rows(f, y)
    start, end = np.ones(rows), np.zeros(rows)
    start_value = np.full(rows, np.nan)  # smoothECE at ``start`` once a midpoint became it
    for _ in range(REFINE):
        mid = (start + end) / 2
        value = smooth_ece(data, mid)
        holds = (mid < SEARCH_EPS) | (mid < value)
        end = np.where(holds, mid, end)
        start_value = np.where(holds, start_value, value)
        start = np.where(holds, start, mid)
    untouched = np.isnan(start_value)  # the search never left σ = 1
    if untouched.any():
        start_value[untouched] = smooth_ece(_Rows(f[untouched], y[untouched]),
                                            start[untouched])
    return start_value
