"""The paper's figures from the aggregated tables, as PNG and PDF, sized and styled for print.

beta_ablation      compressed-model test metric vs Q per compressor, mean and spread over seeds;
                   post-shot, iterative and dense as horizontal reference lines.
transition_curves  validation metric per optimizer step: VCON's blended and compressed-only model,
                   post-shot, iterative and dense, with beta on a second axis and Q marked.
gains              VCON minus post-shot and minus iterative per compressor, paired by seed, with
                   95 % intervals; filled markers where the class is ahead or behind.
beta_shapes        VCON's compressed-model test metric per beta shape at the headline Q, per seed and
                   mean with its 95 % interval.
schedules          the beta shapes of vcon.schedules.

Each figure is built by its function, which returns the matplotlib Figure (`figure`: by name); `draw`
saves it. Tests read what a figure draws from the Figure.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from vcon.atomic import atomic_write  # noqa: E402
from vcon.vocabulary import BASELINES, DENSE, ITERATIVE, NO_COMPRESSOR, POSTHOC, VCON  # noqa: E402
from vcon.vocabulary import TITLES as LABELS  # noqa: E402
from vcon.report.catalog import FIGURE_INPUTS  # noqa: E402
from vcon.report.comparisons import direction  # noqa: E402
from vcon.report.headline import groups  # noqa: E402
from vcon.report.options import ReportOptions  # noqa: E402
from vcon.report.statistics import GROUP, interval, paired_differences, paired_gain, q_order  # noqa: E402
from vcon.schedules import BETA_SCHEDULES  # noqa: E402

FIGURES = tuple(FIGURE_INPUTS)
PALETTE = sns.color_palette("colorblind")
COLORS = {POSTHOC: PALETTE[3], ITERATIVE: PALETTE[2], VCON: PALETTE[0], DENSE: "0.35", "beta": "0.55"}
BAND_ALPHA = 0.12
STRIP_WIDTH = 0.16  # per-seed points spread over this width around their x position, in seed order


def _theme() -> None:
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.15,
                  rc={"savefig.dpi": 200, "pdf.fonttype": 42, "axes.titlesize": "medium"})


def save(fig: plt.Figure, stem: str | Path, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(f".{fmt}") for fmt in formats]
    for path, fmt in zip(paths, formats):
        # Fixed metadata: the same figure gives the same PDF bytes on every run (clean `git diff`).
        metadata = {"CreationDate": None} if fmt == "pdf" else {"Software": None}
        atomic_write(path, lambda tmp, fmt=fmt, metadata=metadata: fig.savefig(tmp, format=fmt, bbox_inches="tight",
                                                                               metadata=metadata))
    plt.close(fig)
    return paths


def _empty(message: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(5, 2))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center")
    return fig


def _panels(frame: pd.DataFrame) -> list[tuple[str, str, str, list[str]]]:
    """(model, dataset, start, its compressors): one row of panels per experiment and start."""
    compressed = frame[frame["compressor"] != NO_COMPRESSOR]
    return [(model, dataset, start, list(dict.fromkeys(group["compressor"])))
            for (model, dataset, start), group in compressed.groupby(GROUP[:3], sort=False)]


def _title(model: str, dataset: str, start: str, compressor: str, starts: int) -> str:
    where = f"{model} / {dataset}" + (f" (from {start})" if starts > 1 else "")
    return f"{where}\n{compressor}"


def _grid(rows: int, cols: int, width: float = 3.3, height: float = 2.7, **kwargs) -> tuple[plt.Figure, np.ndarray]:
    return plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, **kwargs)


def _metric_label(frame: pd.DataFrame, prefix: str) -> str:
    metric = frame["metric"].replace("", np.nan).dropna() if "metric" in frame else pd.Series(dtype=str)
    return f"{prefix} {metric.iloc[0] if len(metric) else 'metric'} (%)"


def _figure_legend(fig: plt.Figure, axes: np.ndarray, columns: int = 5) -> None:
    handles = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=min(len(handles), columns),
                   frameon=False, bbox_to_anchor=(0.5, -0.02))
        fig.tight_layout(rect=(0, 0.08, 1, 1))
    else:
        fig.tight_layout()


def _hide_unused(axes: np.ndarray, row: int, used: int) -> None:
    for ax in axes[row, used:]:
        ax.axis("off")


def beta_ablation(runs: pd.DataFrame, options: ReportOptions) -> plt.Figure:
    schedule = options.schedule
    ok = runs[runs["status"] == "ok"]
    by_panel = {(g.model, g.dataset, g.start, g.compressor): g for g in groups(ok, options)}
    vcon = ok[(ok["method"] == "vcon") & (ok["schedule"] == schedule)]
    if vcon.empty:
        return _empty("no VCON runs")
    panels = _panels(vcon)
    starts = len({p[2] for p in panels})
    fig, axes = _grid(len(panels), max(len(p[3]) for p in panels))
    for i, (model, dataset, start, compressors) in enumerate(panels):
        exp = ok[(ok["model"] == model) & (ok["dataset"] == dataset)]
        for j, compressor in enumerate(compressors):
            ax = axes[i, j]
            of = exp[(exp["compressor"] == compressor) & (exp["start"] == start)]
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
            group = by_panel[(model, dataset, start, compressor)]
            references = {method: group.method(method) for method in (*BASELINES, DENSE)}
            for method, dash in zip(references, ("--", ":", "-")):
                ref = references[method]["value"] * 100
                if len(ref):
                    ax.axhline(ref.mean(), color=COLORS[method], linestyle=dash, linewidth=1.4,
                               label=f"{LABELS[method]}, mean")
            ax.set_xticks(x, order)
            ax.set_title(_title(model, dataset, start, compressor, starts))
            ax.set_xlabel("transition length Q")
            ax.set_ylabel(_metric_label(of, "test") if j == 0 else "")
        _hide_unused(axes, i, len(compressors))
    _figure_legend(fig, axes)
    return fig


def _mean_curve(history: pd.DataFrame, run_ids: Sequence[str], column: str) -> pd.DataFrame:
    part = history[history["run"].isin(run_ids)]
    return part.groupby("step")[column].agg(["mean", "std"]).reset_index()


def _curve(ax: plt.Axes, history: pd.DataFrame, run_ids: Sequence[str], column: str, color: object,
           dash: str, label: str, spread: bool = True, width: float = 1.5) -> None:
    curve = _mean_curve(history, run_ids, column)
    ax.plot(curve["step"], curve["mean"] * 100, color=color, linestyle=dash, label=label, linewidth=width)
    if spread:
        std = curve["std"].fillna(0) * 100
        ax.fill_between(curve["step"], curve["mean"] * 100 - std, curve["mean"] * 100 + std,
                        color=color, alpha=BAND_ALPHA, linewidth=0, label=f"{label} ± 1 std over seeds")


def transition_curves(runs: pd.DataFrame, history: pd.DataFrame, options: ReportOptions) -> plt.Figure:
    ok = runs[runs["status"] == "ok"]
    compressed = ok[ok["method"].isin(["vcon", *BASELINES])]
    if compressed.empty or history.empty:
        return _empty("no history of compressed runs")
    panels = _panels(compressed)
    by_panel = {(g.model, g.dataset, g.start, g.compressor): g for g in groups(ok, options)}
    starts = len({p[2] for p in panels})
    fig, axes = _grid(len(panels), max(len(p[3]) for p in panels), width=3.8, height=2.9)
    for i, (model, dataset, start, compressors) in enumerate(panels):
        for j, compressor in enumerate(compressors):
            ax = axes[i, j]
            group = by_panel[(model, dataset, start, compressor)]
            vcon = group.method("vcon")
            if len(group.dense):
                _curve(ax, history, group.dense["run"], "val_compressed", COLORS[DENSE], "-", "dense", spread=False,
                       width=1.0)
            for method in BASELINES:
                frame = group.method(method)
                if len(frame):
                    _curve(ax, history, frame["run"], "val_compressed", COLORS[method], "-", LABELS[method])
            if len(vcon):
                _curve(ax, history, vcon["run"], "val_blended", COLORS["vcon"], "-", "VCON: blended model")
                _curve(ax, history, vcon["run"], "val_compressed", COLORS["vcon"], "--",
                       "VCON: compressed only", spread=False)
                steps = pd.to_numeric(vcon["config.q"], errors="coerce").dropna() if "config.q" in vcon else []
                if len(steps):
                    ax.axvline(steps.iloc[0], color="0.3", linewidth=0.8, linestyle=":")
                    ax.annotate(f"Q={group.q}", (steps.iloc[0], 0.02), xycoords=("data", "axes fraction"),
                                xytext=(3, 0), textcoords="offset points", fontsize="small")
                beta = _mean_curve(history, vcon["run"], "beta")
                twin = ax.twinx()
                twin.plot(beta["step"], beta["mean"], color=COLORS["beta"], linestyle=":", linewidth=1.4)
                twin.set_ylim(-0.03, 1.05)
                twin.grid(False)
                twin.set_ylabel("beta" if j == len(compressors) - 1 else "")
                ax.plot([], [], color=COLORS["beta"], linestyle=":", label="beta of VCON (right axis)")
            ax.set_title(_title(model, dataset, start, compressor, starts))
            ax.set_xlabel("optimizer step")
            ax.set_ylabel(_metric_label(group.runs, "validation") if j == 0 else "")
        _hide_unused(axes, i, len(compressors))
    _figure_legend(fig, axes, columns=3)
    return fig


def gain_rows(runs: pd.DataFrame, options: ReportOptions) -> pd.DataFrame:
    """VCON minus each baseline per headline group: the paired differences, their mean, interval and class."""
    ok = runs[runs["status"] == "ok"]
    several_starts = ok.loc[ok["start"] != "", "start"].nunique() > 1
    rows = []
    for group in groups(ok, options):
        vcon = group.method("vcon")
        for baseline in BASELINES:
            frame = group.method(baseline)
            diffs = paired_differences(vcon, frame)
            if len(diffs):
                gain = paired_gain(vcon, frame, options.interval, options.resamples)
                start = f" (from {group.start})" if several_starts else ""
                rows.append({"experiment": f"{group.model} / {group.dataset}{start}", "compressor": group.compressor,
                             "q": group.q, "baseline": baseline, "mean": gain["mean"], "low": gain["low"],
                             "high": gain["high"], "decided": direction(gain["class"]) in ("ahead", "behind"),
                             "values": list(diffs)})
    return pd.DataFrame(rows)


def gains(runs: pd.DataFrame, options: ReportOptions) -> plt.Figure:
    table = gain_rows(runs, options)
    method = options.interval
    if table.empty:
        return _empty("no seed with both a VCON and a baseline result")
    experiments = list(dict.fromkeys(table["experiment"]))
    fig, axes = _grid(1, len(experiments), width=4.2, height=3.2)
    how = "t" if method == "t" else "BCa bootstrap"
    for ax, experiment in zip(axes.flat, experiments):
        part = table[table["experiment"] == experiment]
        compressors = list(dict.fromkeys(part["compressor"]))
        for k, baseline in enumerate(BASELINES):
            rows = part[part["baseline"] == baseline].set_index("compressor").reindex(compressors)
            x = np.arange(len(compressors)) + (k - 0.5) * 0.3
            color = COLORS[baseline]
            for xi, (_, r) in zip(x, rows.iterrows()):
                if not isinstance(r["values"], list):
                    continue
                ax.scatter(_strip(xi + 0.07, len(r["values"]), STRIP_WIDTH / 2), r["values"], s=12, color=color,
                           alpha=0.45, linewidths=0)
                ax.errorbar([xi], [r["mean"]], yerr=[[r["mean"] - r["low"]], [r["high"] - r["mean"]]], fmt="o",
                            color=color, capsize=4, markerfacecolor=color if r["decided"] else "white",
                            label=f"VCON − {LABELS[baseline]}: mean, 95 % {how} interval")
        ax.axhline(0, color="0.3", linewidth=1)
        ax.set_xlim(-0.6, len(compressors) - 0.4)
        qs = part.drop_duplicates("compressor").set_index("compressor")["q"]
        ax.set_xticks(np.arange(len(compressors)), [f"{c}\nQ={qs[c]}" for c in compressors])
        ax.set_title(experiment)
        ax.set_ylabel("gain of VCON (points)")
    ax = axes.flat[0]
    ax.scatter([], [], s=12, color="0.5", alpha=0.45, label="per seed")
    ax.scatter([], [], color="0.5", label="filled: ahead or behind (the interval excludes 0)")
    _figure_legend(fig, axes, columns=2)
    return fig


def schedules(q: int = 100) -> plt.Figure:
    steps = np.arange(0, int(q * 1.25) + 1)
    fig, ax = plt.subplots(figsize=(4.2, 3.0))
    for (shape, schedule), style in zip(BETA_SCHEDULES.items(), ("-", "--", "-.", ":")):
        ax.plot(steps, [schedule(int(t), q) for t in steps], linestyle=style, linewidth=1.8, label=shape)
    ax.axvline(q, color="0.4", linewidth=1)
    ax.annotate("t = Q", (q, 0.45), xytext=(4, 0), textcoords="offset points", va="center")
    ax.set_xlabel(f"optimizer step t (Q = {q})")
    ax.set_ylabel("beta (weight of the original branch)")
    ax.set_ylim(-0.03, 1.05)
    ax.legend(frameon=False, loc="upper right")
    fig.tight_layout()
    return fig


def _strip(x: float, n: int, width: float = STRIP_WIDTH) -> np.ndarray:
    """x positions of n points side by side around x (a strip plot; the same on every run)."""
    return x + (np.linspace(-width / 2, width / 2, n) if n > 1 else np.zeros(n))


def beta_shapes(runs: pd.DataFrame, options: ReportOptions) -> plt.Figure:
    """Per compressor with more than one beta shape at its headline Q: each shape's per-seed values, and their
    mean with its 95 % interval."""
    ok = runs[runs["status"] == "ok"]
    panels = []
    for group in groups(ok, options):
        at_q = ok[(ok["model"] == group.model) & (ok["dataset"] == group.dataset) & (ok["start"] == group.start)
                  & (ok["compressor"] == group.compressor) & (ok["method"] == VCON) & (ok["q"] == group.q)]
        shapes = [shape for shape in BETA_SCHEDULES if shape in set(at_q["schedule"])]
        if len(shapes) > 1:
            panels.append((group, {shape: at_q[at_q["schedule"] == shape]["value"].dropna() * 100 for shape in shapes}))
    if not panels:
        return _empty("no compressor with several beta shapes at its headline Q")
    starts = len({group.start for group, _ in panels})
    how = "t" if options.interval == "t" else "BCa bootstrap"
    fig, axes = _grid(1, len(panels), width=4.6, height=3.0)
    for ax, (group, values) in zip(axes.flat, panels):
        for k, (shape, seeds) in enumerate(values.items()):
            ax.scatter(_strip(k, len(seeds)), seeds, s=12, color=COLORS[VCON], alpha=0.45, linewidths=0,
                       label="per seed")
            if len(seeds) > 1:
                low, high = interval(list(seeds), options.interval, options.resamples)
                ax.errorbar([k + STRIP_WIDTH], [seeds.mean()], yerr=[[seeds.mean() - low], [high - seeds.mean()]],
                            fmt="o", color=COLORS[VCON], capsize=4, label=f"mean, 95 % {how} interval")
        ax.set_xticks(np.arange(len(values)), list(values))
        ax.set_xlim(-0.6, len(values) - 0.4)
        ax.set_title(f"{_title(group.model, group.dataset, group.start, group.compressor, starts)}, Q={group.q}")
        ax.set_xlabel("beta shape")
        ax.set_ylabel(_metric_label(group.runs, "test") if ax is axes.flat[0] else "")
    _figure_legend(fig, axes, columns=2)
    return fig


def figure(name: str, runs: pd.DataFrame | None = None, history: pd.DataFrame | None = None,
           options: ReportOptions | None = None) -> plt.Figure:
    """One figure by name (FIGURES), drawn from the aggregated tables."""
    _theme()
    options = options or ReportOptions()
    if name == "schedules":
        return schedules()
    if name not in FIGURES:
        raise ValueError(f"unknown figure {name!r}; valid: {', '.join(FIGURES)}")
    if runs is None:
        raise ValueError(f"figure {name!r} needs the aggregated runs table")
    if name == "transition_curves":
        return transition_curves(runs, history if history is not None else pd.DataFrame(), options)
    if name in ("accuracy_vs_size", "gain_vs_damage"):
        from vcon.report import plots_levels

        return getattr(plots_levels, name)(runs, options)
    return {"beta_ablation": beta_ablation, "gains": gains, "beta_shapes": beta_shapes}[name](runs, options)


def draw(name: str, out_dir: str | Path, runs: pd.DataFrame | None = None, history: pd.DataFrame | None = None,
         options: ReportOptions | None = None, prefix: str = "") -> list[Path]:
    """One figure by name into out_dir/{prefix}{name}.png and .pdf."""
    return save(figure(name, runs, history, options), Path(out_dir) / f"{prefix}{name}")
