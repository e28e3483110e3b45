"""The paper's figures from the aggregated tables, as PNG and PDF, sized and styled for print.

beta_ablation      compressed-model test metric vs Q per compressor, mean and spread over seeds;
                   post-shot and iterative as horizontal reference lines.
transition_curves  validation metric per epoch (compressed and blended model) for post-shot,
                   iterative and VCON, with beta on a second axis.
gains              VCON minus post-shot per compressor, bootstrap 95 % intervals over seeds.
schedules          the beta shapes of vcon.schedules.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from vcon.atomic import atomic_write  # noqa: E402
from vcon.report.tables import bootstrap_ci, choose_vcon, paired_differences, q_order  # noqa: E402

FIGURES = ("beta_ablation", "transition_curves", "gains", "schedules")
SHAPES = ("linear", "cosine", "exponential", "step")
PALETTE = sns.color_palette("colorblind")
COLORS = {"posthoc": PALETTE[3], "iterative": PALETTE[2], "vcon": PALETTE[0], "beta": "0.45"}
LABELS = {"posthoc": "post-shot", "iterative": "iterative", "vcon": "VCON"}


def _theme() -> None:
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.15,
                  rc={"savefig.dpi": 200, "pdf.fonttype": 42, "axes.titlesize": "medium"})


def save(fig: plt.Figure, stem: str | Path, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(f".{fmt}") for fmt in formats]
    for path, fmt in zip(paths, formats):
        atomic_write(path, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, bbox_inches="tight"))
    plt.close(fig)
    return paths


def _empty(message: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(5, 2))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center")
    return fig


def _panels(frame: pd.DataFrame) -> tuple[list[tuple[str, str]], list[str]]:
    experiments = list(dict.fromkeys(zip(frame["model"], frame["dataset"])))
    compressors = [c for c in dict.fromkeys(frame["compressor"]) if c != "none"]
    return experiments, compressors


def _grid(rows: int, cols: int, width: float = 3.3, height: float = 2.7, **kwargs) -> tuple[plt.Figure, np.ndarray]:
    return plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, **kwargs)


def _metric_label(frame: pd.DataFrame, prefix: str) -> str:
    metric = frame["metric"].replace("", np.nan).dropna() if "metric" in frame else pd.Series(dtype=str)
    return f"{prefix} {metric.iloc[0] if len(metric) else 'metric'} (%)"


def _figure_legend(fig: plt.Figure, axes: np.ndarray) -> None:
    handles, labels = {}, {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    labels = list(handles)
    if labels:
        fig.legend([handles[label] for label in labels], labels, loc="lower center", ncol=min(len(labels), 5),
                   frameon=False, bbox_to_anchor=(0.5, -0.02))
        fig.tight_layout(rect=(0, 0.06, 1, 1))
    else:
        fig.tight_layout()


def beta_ablation(runs: pd.DataFrame, stem: str | Path, schedule: str = "linear") -> list[Path]:
    ok = runs[runs["status"] == "ok"]
    vcon = ok[(ok["method"] == "vcon") & (ok["schedule"] == schedule)]
    if vcon.empty:
        return save(_empty("no VCON runs"), stem)
    experiments, compressors = _panels(vcon)
    fig, axes = _grid(len(experiments), len(compressors), sharey="row")
    for i, (model, dataset) in enumerate(experiments):
        for j, compressor in enumerate(compressors):
            ax = axes[i, j]
            of = ok[(ok["model"] == model) & (ok["dataset"] == dataset) & (ok["compressor"] == compressor)]
            sweep = of[(of["method"] == "vcon") & (of["schedule"] == schedule)]
            order = q_order(runs, sweep["q"])
            x = np.arange(len(order))
            values = [sweep[sweep["q"] == q]["value"] * 100 for q in order]
            means = np.array([v.mean() for v in values])
            stds = np.array([v.std(ddof=1) if len(v) > 1 else 0.0 for v in values])
            for k, v in enumerate(values):
                ax.scatter(np.full(len(v), x[k]), v, s=10, color=COLORS["vcon"], alpha=0.4, linewidths=0)
            ax.plot(x, means, marker="o", color=COLORS["vcon"], label=f"VCON ({schedule} beta), mean")
            ax.fill_between(x, means - stds, means + stds, color=COLORS["vcon"], alpha=0.2, label="VCON ± std")
            for method, dash in (("posthoc", "--"), ("iterative", ":")):
                ref = of[of["method"] == method]["value"] * 100
                if len(ref):
                    ax.axhline(ref.mean(), color=COLORS[method], linestyle=dash, linewidth=1.6,
                               label=f"{LABELS[method]}, mean")
            ax.set_xticks(x, order)
            ax.set_title(f"{model} / {dataset}\n{compressor}")
            ax.set_xlabel("transition length Q")
            ax.set_ylabel(_metric_label(of, "test") if j == 0 else "")
    _figure_legend(fig, axes)
    return save(fig, stem)


def _mean_curve(history: pd.DataFrame, runs_ids: Sequence[str], column: str) -> pd.DataFrame:
    part = history[history["run"].isin(runs_ids)]
    return part.groupby("epoch")[column].agg(["mean", "std"]).reset_index()


def transition_curves(runs: pd.DataFrame, history: pd.DataFrame, stem: str | Path,
                      headline: dict[str, str], schedule: str = "linear") -> list[Path]:
    ok = runs[(runs["status"] == "ok") & (runs["method"].isin(list(LABELS)))]
    if ok.empty or history.empty:
        return save(_empty("no per-epoch history of compressed runs"), stem)
    choice = choose_vcon(ok, headline, schedule)
    experiments, compressors = _panels(ok)
    fig, axes = _grid(len(experiments), len(compressors), width=3.6, height=2.8, sharey="row")
    for i, (model, dataset) in enumerate(experiments):
        for j, compressor in enumerate(compressors):
            ax = axes[i, j]
            of = ok[(ok["model"] == model) & (ok["dataset"] == dataset) & (ok["compressor"] == compressor)]
            picked = choice[(choice["model"] == model) & (choice["dataset"] == dataset)
                            & (choice["compressor"] == compressor)]
            q = picked["q"].iloc[0] if len(picked) else None
            chosen = {
                "posthoc": of[of["method"] == "posthoc"],
                "iterative": of[of["method"] == "iterative"],
                "vcon": of[(of["method"] == "vcon") & (of["schedule"] == schedule) & (of["q"] == q)],
            }
            for method, frame in chosen.items():
                if frame.empty:
                    continue
                label = LABELS[method] + (f" (Q={q})" if method == "vcon" else "")
                curves = [("val_compressed", "-", f"{label}: compressed")]
                if method == "vcon":
                    curves.append(("val_blended", "--", f"{label}: blended"))
                for column, dash, text in curves:
                    curve = _mean_curve(history, frame["run"], column)
                    ax.plot(curve["epoch"], curve["mean"] * 100, color=COLORS[method], linestyle=dash, label=text)
                    spread = curve["std"].fillna(0) * 100
                    ax.fill_between(curve["epoch"], curve["mean"] * 100 - spread, curve["mean"] * 100 + spread,
                                    color=COLORS[method], alpha=0.12, linewidth=0)
            if not chosen["vcon"].empty:
                beta = _mean_curve(history, chosen["vcon"]["run"], "beta")
                twin = ax.twinx()
                twin.plot(beta["epoch"], beta["mean"], color=COLORS["beta"], linestyle=":", linewidth=1.4,
                          label="beta (VCON)")
                twin.set_ylim(-0.03, 1.05)
                twin.grid(False)
                twin.set_ylabel("beta" if j == len(compressors) - 1 else "")
                if j != len(compressors) - 1:
                    twin.set_yticklabels([])
                ax.plot([], [], color=COLORS["beta"], linestyle=":", label="beta (VCON, right axis)")
            ax.set_title(f"{model} / {dataset}\n{compressor}")
            ax.set_xlabel("epoch")
            ax.set_ylabel(_metric_label(of, "validation") if j == 0 else "")
    _figure_legend(fig, axes)
    return save(fig, stem)


def gains(runs: pd.DataFrame, stem: str | Path, headline: dict[str, str], schedule: str = "linear",
          resamples: int = 10000) -> list[Path]:
    ok = runs[runs["status"] == "ok"]
    choice = choose_vcon(ok, headline, schedule)
    rows = []
    for pick in choice.itertuples(index=False):
        of = ok[(ok["model"] == pick.model) & (ok["dataset"] == pick.dataset) & (ok["compressor"] == pick.compressor)]
        vcon = of[(of["method"] == "vcon") & (of["schedule"] == schedule) & (of["q"] == pick.q)]
        diffs = paired_differences(vcon, of[of["method"] == "posthoc"])
        if len(diffs):
            low, high = bootstrap_ci(list(diffs), resamples)
            rows.append({"experiment": f"{pick.model} / {pick.dataset}", "compressor": pick.compressor,
                         "q": pick.q, "mean": diffs.mean(), "low": low, "high": high, "values": list(diffs)})
    if not rows:
        return save(_empty("no seed with both a VCON and a post-shot result"), stem)
    table = pd.DataFrame(rows)
    experiments = list(dict.fromkeys(table["experiment"]))
    cols = min(len(experiments), 3)
    fig, axes = _grid(math.ceil(len(experiments) / cols), cols, width=3.6, height=3.0)
    for ax, experiment in zip(axes.flat, experiments):
        part = table[table["experiment"] == experiment].reset_index(drop=True)
        x = np.arange(len(part))
        for k, r in part.iterrows():
            ax.scatter(np.full(len(r["values"]), x[k] + 0.12), r["values"], s=18, color=COLORS["vcon"], alpha=0.7,
                       linewidths=0, label="per seed" if k == 0 else None)
        ax.errorbar(x, part["mean"], yerr=[part["mean"] - part["low"], part["high"] - part["mean"]], fmt="o",
                    color="black", capsize=4, label="mean, bootstrap 95 % CI")
        ax.axhline(0, color="0.3", linewidth=1)
        ax.set_xlim(-0.6, len(part) - 0.4)
        ax.set_xticks(x, [f"{c}\nQ={q}" for c, q in zip(part["compressor"], part["q"])])
        ax.set_title(experiment)
        ax.set_ylabel("VCON − post-shot (points)")
    for ax in list(axes.flat)[len(experiments):]:
        ax.axis("off")
    _figure_legend(fig, axes)
    return save(fig, stem)


def schedules(stem: str | Path, q: int = 100) -> list[Path]:
    from vcon.schedules import beta

    steps = np.arange(0, int(q * 1.25) + 1)
    fig, ax = plt.subplots(figsize=(4.2, 3.0))
    for shape, style in zip(SHAPES, ("-", "--", "-.", ":")):
        ax.plot(steps, [beta(shape, int(t), q) for t in steps], linestyle=style, linewidth=1.8, label=shape)
    ax.axvline(q, color="0.4", linewidth=1)
    ax.annotate("t = Q", (q, 0.45), xytext=(4, 0), textcoords="offset points", va="center")
    ax.set_xlabel(f"optimizer step t (Q = {q})")
    ax.set_ylabel("beta (weight of the original branch)")
    ax.set_ylim(-0.03, 1.05)
    ax.legend(frameon=False, loc="upper right")
    fig.tight_layout()
    return save(fig, stem)


def draw(name: str, out_dir: str | Path, runs: pd.DataFrame | None = None, history: pd.DataFrame | None = None,
         headline: dict[str, str] | None = None, schedule: str = "linear", resamples: int = 10000) -> list[Path]:
    """One figure by name into out_dir/{name}.png and .pdf."""
    _theme()
    stem = Path(out_dir) / name
    headline = headline or {"default": "best"}
    if name == "schedules":
        return schedules(stem)
    if runs is None:
        raise ValueError(f"figure {name!r} needs the aggregated runs table")
    if name == "beta_ablation":
        return beta_ablation(runs, stem, schedule)
    if name == "transition_curves":
        return transition_curves(runs, history if history is not None else pd.DataFrame(), stem, headline, schedule)
    if name == "gains":
        return gains(runs, stem, headline, schedule, resamples)
    raise ValueError(f"unknown figure {name!r}; valid: {', '.join(FIGURES)}")
