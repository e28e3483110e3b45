"""The level map's figures (configs/levels.yaml): accuracy against the stored size of the exported
model, and VCON's gain against post-shot's damage with the fitted line (vcon.report.levels)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from vcon.vocabulary import BASELINES, DENSE, METHODS
from vcon.vocabulary import TITLES as LABELS
from vcon.report import levels
from vcon.report.options import ReportOptions
from vcon.report.plots import COLORS, _empty, _figure_legend, _grid

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

MARKERS = {"posthoc": "s", "iterative": "^", "vcon": "o"}
DODGE = {"posthoc": 0.96, "iterative": 1.0, "vcon": 1.04}  # methods side by side at one size (log axis)


def accuracy_vs_size(runs: pd.DataFrame, options: ReportOptions) -> plt.Figure:
    """Per model and compressor family: test accuracy (mean, 95 % interval) against bytes (log), one line
    per method through the unstructured levels; an N:M level as its own open markers; dense as a line."""
    table = levels.size_table(runs[runs["status"] == "ok"], options)
    compressed = table[table["method"] != DENSE]
    if compressed.empty:
        return _empty("no compressed runs")
    models = list(dict.fromkeys(compressed["model"] + " / " + compressed["dataset"]))
    families = list(dict.fromkeys(compressed["family"]))
    fig, axes = _grid(len(models), len(families), width=3.6, height=3.0)
    for i, experiment in enumerate(models):
        for j, family in enumerate(families):
            ax = axes[i, j]
            of = compressed[(compressed["model"] + " / " + compressed["dataset"] == experiment)
                            & (compressed["family"] == family)]
            for method in METHODS:
                rows = of[of["method"] == method].sort_values("bytes")
                for structured, part in rows.groupby("structured", sort=False):
                    ax.errorbar(part["bytes"] * DODGE[method], part["mean"], yerr=[part["mean"] - part["low"], part["high"] - part["mean"]],
                                color=COLORS[method], marker=MARKERS[method], capsize=3, linewidth=1.4,
                                linestyle="none" if structured else "-", markersize=5,
                                markerfacecolor="white" if structured else COLORS[method],
                                label=f"{LABELS[method]}" + (" (N:M, open marker)" if structured else ""))
            dense = table[(table["method"] == DENSE) & (table["model"] + " / " + table["dataset"] == experiment)]
            if len(dense):
                ax.axhline(dense["mean"].iloc[0], color=COLORS[DENSE], linewidth=1.0, label="dense (mean)")
            for level, size in of.drop_duplicates("level")[["level", "bytes"]].itertuples(index=False):
                ax.annotate(level, (size, 0.02), xycoords=("data", "axes fraction"), rotation=90, fontsize="x-small",
                            color="0.4", ha="right")
            ax.set_xscale("log")
            _kilobyte_ticks(ax)
            ax.set_title(f"{experiment}\n{family}")
            ax.set_xlabel("stored size of the exported model (log)")
            ax.set_ylabel("test accuracy (%)" if j == 0 else "")
    _figure_legend(fig, axes, columns=4)
    return fig


def _kilobyte_ticks(ax: plt.Axes) -> None:
    """Labels at 1, 2, 3 and 5 times a power of ten, in kB; none at the other log ticks (a level
    family spans less than a decade, where matplotlib would label every minor tick and overlap them)."""
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1000:g} kB"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def gain_vs_damage(runs: pd.DataFrame, options: ReportOptions) -> plt.Figure:
    """Every (model, compressor level) as a point: post-shot's damage against VCON's paired gain over
    post-shot (left) and over the iterative baseline (right), with intervals, the fitted line and its
    band; the slope and its interval in each panel's title."""
    damage = levels.damage_table(runs[runs["status"] == "ok"], options)
    if damage.empty:
        return _empty("no paired dense and post-shot runs")
    fits = levels.fits(damage).set_index("baseline")
    fig, axes = _grid(1, 2, width=4.6, height=3.8)
    experiments = list(dict.fromkeys(damage["model"] + " / " + damage["dataset"]))
    markers = dict(zip(experiments, ("o", "D", "s", "^", "v")))
    for ax, baseline in zip(axes.flat, BASELINES):
        column = f"gain_{baseline}"
        for experiment in experiments:
            part = damage[damage["model"] + " / " + damage["dataset"] == experiment]
            ax.errorbar(part["damage"], part[column],
                        xerr=[part["damage"] - part["damage_low"], part["damage_high"] - part["damage"]],
                        yerr=[part[column] - part[f"{column}_low"], part[f"{column}_high"] - part[column]],
                        fmt=markers[experiment], color=COLORS["vcon"], ecolor="0.6", capsize=2, markersize=5,
                        label=experiment, linewidth=0.9)
        fit = fits.loc[baseline] if baseline in fits.index else None
        if fit is not None and not np.isnan(fit["slope"]):
            xs = np.linspace(damage["damage"].min(), damage["damage"].max(), 100)
            line, low, high = levels.band(fit.to_dict(), xs)
            ax.plot(xs, line, color=COLORS[baseline], linewidth=1.5, label="least-squares line")
            ax.fill_between(xs, low, high, color=COLORS[baseline], alpha=0.15, linewidth=0,
                            label="its 95 % confidence band")
            ax.set_title(f"VCON − {LABELS[baseline]}\nslope {fit['slope']:+.2f} [{fit['slope_low']:+.2f}, "
                         f"{fit['slope_high']:+.2f}] per point of damage")
        else:
            ax.set_title(f"VCON − {LABELS[baseline]}")
        ax.axhline(0, color="0.3", linewidth=0.8)
        ax.set_xlabel("post-shot's damage: dense − post-shot (points)")
        ax.set_ylabel("gain of VCON (points)")
    _figure_legend(fig, axes, columns=3)
    return fig
