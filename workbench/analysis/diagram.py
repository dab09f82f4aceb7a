"""Reliability diagrams: compute the curve (relplot) apart from drawing it (matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def prepare(f, y, seed: int = 0, n_bootstrap: int = 200, band: bool = True) -> dict:
    """relplot's smoothed reliability curve with its bootstrap band, seeded.

    relplot draws its band from numpy's global generator; it is seeded here and restored after.
    One question has no band (a bootstrap needs two). relplot's own smECE label (its value ±
    its own bootstrap's spread) is left off: the title states the score's estimate with the
    interval every table shows (``title``), so the figure and the tables agree.
    """
    # relplot imports scikit-learn (about 2 s): only when a diagram is made.
    import relplot

    state = np.random.get_state()
    try:
        np.random.seed(seed % (2**32))
        several = len(f) >= 2
        return relplot.prepare_rel_diagram(np.asarray(f, float), np.asarray(y, float),
                                           num_bootstrap=n_bootstrap,
                                           plot_confidence_band=band and several,
                                           report_CE=False, report_CE_std=False)
    finally:
        np.random.set_state(state)


def title(variant: str, smece, n: int, m: int) -> str:
    """A score's diagram title: the variant, and smECE as every table states it.

    >>> from types import SimpleNamespace as E
    >>> print(title("gemma · concise · caps", E(value=0.203, ci_low=0.124, ci_high=0.282), 96, 20))
    gemma · concise · caps
    smECE 0.203 [0.124, 0.282] (95% bootstrap), n=96, M=20
    """
    ci = (f" [{smece.ci_low:.3f}, {smece.ci_high:.3f}] (95% bootstrap)"
          if smece.ci_low is not None else "")
    return f"{variant}\nsmECE {smece.value:.3f}{ci}, n={n}, M={m}"


def _pyplot():
    # matplotlib takes a second to import: only when a figure is drawn.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # after choosing the headless backend

    return plt


def draw(diagram: dict, path: Path, title: str) -> Path:
    import relplot  # see prepare()

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    relplot.plot_rel_diagram(diagram, fig=fig, ax=ax)
    ax.set_title(title, fontsize=9)
    return _save(fig, plt, path)


def draw_overlay(curves: list[tuple[str, dict]], path: Path, title: str) -> Path:
    """Several variants' curves (``prepare(..., band=False)``) on one plot, each drawn only
    where that variant has questions: the smoother extrapolates elsewhere."""
    plt = _pyplot()
    return _save(overlay_figure(plt, curves, title), plt, path)


def overlay_figure(plt, curves: list[tuple[str, dict]], title: str):
    """The overlay's figure; its legend sits outside the axes, so no curve hides behind it."""
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], ls="--", color="gray", lw=1)
    for label, curve in curves:
        density = np.asarray(curve["density"], float)
        mu = np.where(density >= 0.02 * density.max(), np.asarray(curve["mu"], float), np.nan)
        ax.plot(curve["mesh"], mu, lw=2, label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (share of the plurality class)", fontsize=9)
    ax.set_ylabel("accuracy (smoothed)", fontsize=9)
    ax.tick_params(labelsize=8)  # relplot's style, once imported, sets large fonts
    ax.set_title(f"Reliability by variant: {title}", fontsize=9)
    if curves:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    return fig


ABLATED = ("smece", "accuracy", "confidence")  # the panels of an ablation figure


def draw_ablation(curves: dict[str, list[dict]], path: Path, title: str) -> Path:
    """Each variant's M ablation (``ablation_rows``: m, metric, mean, sd), one panel per metric
    of ``ABLATED``: the mean over the repeated subsamples against m, ± one sd."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(ABLATED), figsize=(4 * len(ABLATED), 3.4))
    ms = sorted({r["m"] for rows in curves.values() for r in rows})
    for ax, metric in zip(axes, ABLATED):
        for label, rows in curves.items():
            pts = sorted((r["m"], r["mean"], r["sd"] or 0.0) for r in rows
                         if r["metric"] == metric and r["mean"] is not None)
            if pts:
                m, mean, sd = map(np.array, zip(*pts))
                ax.errorbar(m, mean, yerr=sd, marker="o", ms=3, capsize=2, label=label)
        ax.set_xscale("log")
        ax.set_xticks(ms, [str(m) for m in ms])
        ax.minorticks_off()
        ax.tick_params(labelsize=8)
        ax.set_xlabel("m: samples kept per question", fontsize=8)
        ax.set_title(metric if metric != "smece" else "smECE", fontsize=9)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"M ablation: {title}", fontsize=9)
    fig.tight_layout()
    return _save(fig, plt, path)


def draw_intervals(estimates: list[tuple[str, object]], path: Path, title: str) -> Path:
    """smECE per variant with its 95% interval as an error bar and, beside it, the floor a
    calibrated model would score at that N and M (its mean, and a tick at its 95th percentile):
    which variants differ, and which differ from calibrated, at a glance. ``estimates``:
    (label, ``Estimate``) in the order the table lists them."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(estimates) + 1.2))
    for y, (label, e) in enumerate(reversed(estimates)):
        lo = e.value - e.ci_low if e.ci_low is not None else 0.0
        hi = e.ci_high - e.value if e.ci_high is not None else 0.0
        ax.errorbar([e.value], [y], xerr=[[lo], [hi]], fmt="o", color="C0", capsize=3)
        if e.floor_mean is not None:
            ax.plot([e.floor_mean], [y], marker="|", ms=10, color="gray")
            ax.plot([e.floor_p95], [y], marker="|", ms=6, color="lightgray")
    ax.set_yticks(range(len(estimates)), [label for label, _ in reversed(estimates)],
                  fontsize=7)
    ax.set_xlim(left=0)
    ax.set_xlabel("smECE, 95% bootstrap interval; gray ticks: a calibrated model's floor "
                  "(mean, 95th percentile)", fontsize=7)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(f"smECE by variant: {title}", fontsize=9)
    fig.tight_layout()
    return _save(fig, plt, path)


def _save(fig, plt, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path
