"""What the headline comparisons show: each one's class, interval and achieved half-width, its two-block
replication and the seeds an undecided one would need (comparisons.*); VCON's probability of beating
each baseline over all settings (in comparisons.*); and every iterative variant beside the headline
one (iterative.*, the appendix)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from vcon import vocabulary
from vcon.atomic import write_text
from vcon.report import render
from vcon.report.comparisons import CLASSES, UNDECIDED
from vcon.report.headline import groups
from vcon.report.improvement import probability_of_improvement, stratified_interval
from vcon.report.options import ReportOptions
from vcon.report.statistics import paired_gain, summary

BASELINES = {f"gain_{method}": vocabulary.TITLES[method] for method in vocabulary.BASELINES}  # gain column -> title
COMPARISON_COLUMNS = ["model", "dataset", "start", "compressor", "baseline", "variant", "q", "n", "expected", "mean",
                      "std", "low", "high", "half_width", "median", "iqm", "class", "seeds_needed", "block_a_seeds",
                      "block_a_mean", "block_a_class", "block_b_seeds", "block_b_mean", "block_b_class",
                      "replicates"]


def comparisons_table(accuracy: pd.DataFrame) -> pd.DataFrame:
    """The gain rows of the accuracy table, one per headline comparison."""
    gains = accuracy[accuracy["column"].isin(list(BASELINES))].copy()
    gains["baseline"] = gains["column"].map(BASELINES)
    return gains[COMPARISON_COLUMNS].reset_index(drop=True)


def improvement_table(runs: pd.DataFrame, options: ReportOptions) -> pd.DataFrame:
    """P(VCON > baseline) over every headline setting, runs compared in all pairs (rliable's
    definition), with its stratified bootstrap interval (settings as strata)."""
    rows = []
    for baseline in vocabulary.BASELINES:
        label = vocabulary.TITLES[baseline]
        settings = []
        for group in groups(runs, options):
            vcon = group.method("vcon")["value"].dropna() * 100
            other = group.method(baseline)["value"].dropna() * 100
            if len(vcon) and len(other):
                settings.append((list(vcon), list(other)))
        if not settings:
            continue
        low, high = stratified_interval(settings, options.resamples)
        rows.append({"baseline": label, "probability": probability_of_improvement(settings), "low": low, "high": high,
                     "settings": len(settings), "runs": sum(len(x) + len(y) for x, y in settings)})
    return pd.DataFrame(rows, columns=["baseline", "probability", "low", "high", "settings", "runs"])


def iterative_table(runs: pd.DataFrame, options: ReportOptions) -> pd.DataFrame:
    """Every iterative variant of every group, with VCON's paired gain over it; the headline one marked."""
    rows = []
    for group in groups(runs, options):
        vcon = group.method("vcon")
        for variant in group.variants:
            frame = group.method("iterative", variant)
            spec = next((s for s in frame.get("compressor_spec", pd.Series(dtype=str)).dropna() if s), "")
            gain = paired_gain(vcon, frame, options.interval, options.resamples) if len(vcon) and len(frame) else {}
            rows.append({"model": group.model, "dataset": group.dataset, "start": group.start,
                         "compressor": group.compressor, "variant": variant, "headline": variant == group.variant,
                         "spec": spec, **summary(frame["value"] * 100),
                         **{f"gain_{key}": gain.get(key, math.nan) for key in ("mean", "low", "high", "half_width")},
                         "gain_class": gain.get("class", ""), "gain_n": gain.get("n", 0)})
    return pd.DataFrame(rows, columns=["model", "dataset", "start", "compressor", "variant", "headline", "spec", "mean",
                                       "std", "n", "expected", "gain_mean", "gain_low", "gain_high", "gain_half_width",
                                       "gain_class", "gain_n"])


# --- writing -----------------------------------------------------------------------------------

def _lead(table: pd.DataFrame, style: str) -> list[str]:
    rows = [f"{table.loc[i, 'model']} / {table.loc[i, 'dataset']}" for i in table.index]
    return rows if style == "md" else [render.tex_escape(r) for r in rows]


def _comparison_rows(table: pd.DataFrame, style: str) -> tuple[list[str], list[list[str]]]:
    seeds_a = next((s for s in table["block_a_seeds"] if s), "")
    seeds_b = next((s for s in table["block_b_seeds"] if s), "")
    header = ["model / data", "compressor", "VCON −", "gain [95 % interval] (n)", "half-width", "class (all seeds)",
              f"seeds {seeds_a}", f"seeds {seeds_b}", "replicates", "median", "seeds for ±1"]
    body = []
    for lead, r in zip(_lead(table, style), table.itertuples(index=False)):
        baseline = r.baseline + (f" ({r.variant})" if r.variant else "")
        gain = render.format_gain(r.mean, r.low, r.high, int(r.n), int(r.expected), "").replace("  ", " ")
        blocks = [f"{c} ({m:+.2f})" if not math.isnan(m) else "--" for c, m in
                  ((r.block_a_class, r.block_a_mean), (r.block_b_class, r.block_b_mean))]
        needed = "" if r.class_ != UNDECIDED else ("more than 10,000" if math.isinf(r.seeds_needed) else
                                                    "--" if math.isnan(r.seeds_needed) else str(int(r.seeds_needed)))
        cells = [r.compressor, baseline, gain, f"{r.half_width:.2f}" if not math.isnan(r.half_width) else "--",
                 r.class_, *blocks, "--" if r.class_ == UNDECIDED else "yes" if r.replicates else "no",
                 f"{r.median:+.2f}" if r.n else "--", needed]
        body.append([lead, *(cells if style == "md" else [render.tex_escape(c) for c in cells])])
    return header, body


def _undecided_lines(table: pd.DataFrame) -> list[str]:
    lines = []
    for r in table[table["class_"] == UNDECIDED].itertuples(index=False):
        need = ("more than 10,000" if math.isinf(r.seeds_needed) else "an unknown number of" if
                math.isnan(r.seeds_needed) else f"about {int(r.seeds_needed)}")
        lines.append(f"- {r.model} / {r.dataset} {r.compressor}, VCON − {r.baseline}: undecided with {int(r.n)} seeds "
                     f"(half-width {r.half_width:.2f}); a half-width of 1 point would take {need} seeds at the "
                     f"observed spread ({r.std:.2f} points).")
    return lines


def _improvement_rows(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = ["VCON against", "P(VCON > baseline)", "95 % stratified bootstrap interval", "settings", "runs"]
    body = [[r.baseline, f"{r.probability:.3f}", f"[{r.low:.3f}, {r.high:.3f}]", str(r.settings), str(r.runs)]
            for r in table.itertuples(index=False)]
    return header, body


COMPARISONS_NOTE = (
    "Every headline comparison: VCON minus the baseline, paired by seed, in points; the 95 % interval of the mean, "
    "its half-width, and its class, the first that applies of " + ", ".join(f"'{c}'" for c in CLASSES) +
    " (docs/design.md). The headline seeds are cut into two disjoint blocks; a decided class replicates when the "
    "blocks agree with each other and with it: both decided the same way, or an undecided block's mean on the "
    "decided side. Median: the robust summary beside the mean. Seeds for ±1: how many seeds a half-width of 1 point "
    "would take at the observed spread, for the undecided ones.")
IMPROVEMENT_NOTE = (
    "P(VCON > baseline): over every headline setting (model, data, compressor), the chance that a VCON run beats a "
    "baseline run of the same setting (all pairs of runs, ties counted one half), averaged over settings (Agarwal "
    "et al. 2021); interval: percentile, stratified bootstrap with settings as strata.")


def write_comparisons(comparisons: pd.DataFrame, improvement: pd.DataFrame, out_dir: Path, footer: str = "") -> None:
    write_text(out_dir / "comparisons.csv", comparisons.to_csv(index=False))
    write_text(out_dir / "improvement.csv", improvement.to_csv(index=False))
    table = comparisons.rename(columns={"class": "class_"})
    md = [f"# Comparisons\n\n{COMPARISONS_NOTE}\n"]
    tex = [f"% {COMPARISONS_NOTE}\n"]
    if len(table):
        md.append(render.markdown(*_comparison_rows(table, "md")))
        tex.append(render.tex(*_comparison_rows(table, "tex"), lead=2))
        undecided = _undecided_lines(table)
        if undecided:
            md.append("Undecided:\n\n" + "\n".join(undecided) + "\n")
    else:
        md.append("No comparisons.\n")
    if len(improvement):
        md.append(f"## Probability of improvement\n\n{IMPROVEMENT_NOTE}\n\n" + render.markdown(*_improvement_rows(improvement)))
        header, body = _improvement_rows(improvement)
        tex.append(f"% {IMPROVEMENT_NOTE}\n" + render.tex(header, [[render.tex_escape(c) for c in row] for row in body],
                                                           lead=1))
    write_text(out_dir / "comparisons.md", "\n".join(md) + render.md_footer(footer))
    write_text(out_dir / "comparisons.tex", "\n".join(tex) + render.tex_footer(footer))


def _iterative_rows(table: pd.DataFrame, style: str) -> tuple[list[str], list[list[str]]]:
    header = ["model / data", "compressor", "iterative variant", "its keys", "iterative", "VCON − iterative"]
    body = []
    for lead, r in zip(_lead(table, style), table.itertuples(index=False)):
        keys = json.loads(r.spec) if r.spec else {}
        variant = (r.variant + (" (headline)" if r.headline else "")) if r.variant else "(no variants)"
        gain = (render.format_gain(r.gain_mean, r.gain_low, r.gain_high, int(r.gain_n), int(r.expected), r.gain_class)
                if r.gain_class else "--")
        cells = [r.compressor, variant, ", ".join(f"{k}: {v}" for k, v in keys.items() if k != "name"),
                 render.format_cell(r.mean, r.std, int(r.n), int(r.expected)), gain]
        cells = cells if style == "md" else [render.tex_escape(c) for c in cells]
        chosen = bool(r.headline and r.variant)
        body.append([lead, *(render.bold(c, chosen, "md") if style == "md" and i == 2 else c
                             for i, c in enumerate(cells, start=1))])
    return header, body


ITERATIVE_NOTE = ("Every iterative variant the grid ran, with the same seeds; the headline tables use the one marked "
                  "(chosen on validation in the pilot, before the reported runs). Its keys: the compressor spec of its "
                  "cells (docs/fidelity.md cites each variant's paper). Gains as in accuracy.md.")


def write_iterative(table: pd.DataFrame, out_dir: Path, footer: str = "") -> None:
    write_text(out_dir / "iterative.csv", table.to_csv(index=False))
    if len(table):
        md = render.markdown(*_iterative_rows(table, "md"))
        tex = render.tex(*_iterative_rows(table, "tex"), lead=2)
    else:
        md, tex = "No iterative runs.\n", ""
    write_text(out_dir / "iterative.md", f"# Iterative baselines\n\n{ITERATIVE_NOTE}\n\n{md}" + render.md_footer(footer))
    write_text(out_dir / "iterative.tex", f"% {ITERATIVE_NOTE}\n{tex}" + render.tex_footer(footer))
