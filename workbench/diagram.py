"""Reliability diagrams: compute the curve (relplot) apart from drawing it."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def prepare(f, y, seed: int = 0, n_bootstrap: int = 200, band: bool = True) -> dict:
    """relplot's smoothed reliability curve with its bootstrap band, seeded.

    relplot draws its band from numpy's global generator; it is seeded here and restored after.
    """
    import relplot

    state = np.random.get_state()
    try:
        np.random.seed(seed % (2**32))
        return relplot.prepare_rel_diagram(np.asarray(f, float), np.asarray(y, float),
                                           num_bootstrap=n_bootstrap,
                                           plot_confidence_band=band)
    finally:
        np.random.set_state(state)


def draw(diagram: dict, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import relplot

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    relplot.plot_rel_diagram(diagram, fig=fig, ax=ax)
    ax.set_title(title, fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path
