"""When does VCON help? Two views of a grid with several levels per compressor (configs/levels.yaml):
accuracy against the stored size of the exported model per method (size.*), and VCON's paired gain
against the damage post-shot does (damage.*), with a straight line fitted through the points.

Damage: dense minus post-shot, paired by seed (points). Gains as in accuracy.md. The fit is ordinary
least squares of the mean gains on the mean damages, one point per (model, data, compressor level);
its slope's 95 % interval is Student-t with k - 2 degrees of freedom, and `damage_at_zero` is where
the fitted line crosses a gain of 0.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from vcon.atomic import write_text
from vcon.compressors.options import describe
from vcon.vocabulary import BASELINES, DENSE, METHODS as COMPRESSED, TITLES
from vcon.report import render
from vcon.report.headline import Group, groups
from vcon.report.options import ReportOptions
from vcon.report.statistics import interval, paired_differences, paired_gain, summary

BYTES = "compression.model.bytes_compressed"
DENSE_BYTES = "compression.model.bytes_dense"
METHODS = (DENSE, *COMPRESSED)


def _level(group: Group) -> tuple[str, str, str]:
    """(family, level, granularity) of a group's compressor spec."""
    spec = next(json.loads(s) for s in group.runs["compressor_spec"] if s)
    structured = "N:M" if ":" in str(spec.get("granularity", "")) else ""
    return (*describe(spec), structured)


def size_table(runs: pd.DataFrame, options: ReportOptions) -> pd.DataFrame:
    """One row per (group, method): the stored bytes of its exported model and its test metric x 100
    (mean, std, n and the 95 % interval of the mean); one dense row per experiment."""
    rows, dense_done = [], set()
    for group in groups(runs, options):
        family, level, structured = _level(group)
        base = {"model": group.model, "dataset": group.dataset, "start": group.start}
        if (group.model, group.dataset) not in dense_done and len(group.dense):
            dense_done.add((group.model, group.dataset))
            size = _bytes(group.runs, DENSE_BYTES)
            rows.append({**base, "compressor": "", "family": "", "level": "", "structured": "", "method": DENSE,
                         "variant": "", "bytes": size.median() if len(size) else math.nan,
                         **_accuracy(group.dense)})
        for method in METHODS[1:]:
            frame = group.method(method)
            if frame.empty:
                continue
            size = _bytes(frame, BYTES)
            rows.append({**base, "compressor": group.compressor, "family": family, "level": level,
                         "structured": structured, "method": method,
                         "variant": group.variant if method == "iterative" else "",
                         "bytes": size.median() if len(size) else math.nan, **_accuracy(frame)})
    return pd.DataFrame(rows, columns=["model", "dataset", "start", "compressor", "family", "level", "structured",
                                       "method", "variant", "bytes", "mean", "std", "n", "expected", "low", "high"])


def _bytes(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").dropna() if column in frame else pd.Series(dtype=float)


def _accuracy(frame: pd.DataFrame) -> dict[str, float]:
    values = frame["value"] * 100
    low, high = interval(list(values.dropna()))
    return {**summary(values), "low": low, "high": high}


def damage_table(runs: pd.DataFrame, options: ReportOptions) -> pd.DataFrame:
    """One row per headline group: post-shot's damage (dense minus post-shot, paired by seed) and
    VCON's paired gain over post-shot and over the iterative baseline, each with its interval."""
    rows = []
    for group in groups(runs, options):
        posthoc, vcon = group.method("posthoc"), group.method("vcon")
        damage = paired_differences(group.dense, posthoc)
        if damage.empty:
            continue
        low, high = interval(list(damage), options.interval, options.resamples)
        family, level, structured = _level(group)
        row = {"model": group.model, "dataset": group.dataset, "start": group.start, "compressor": group.compressor,
               "family": family, "level": level, "structured": structured, "damage": damage.mean(),
               "damage_low": low, "damage_high": high, "damage_n": len(damage)}
        for baseline in BASELINES:
            frame = group.method(baseline)
            gain = paired_gain(vcon, frame, options.interval, options.resamples) if len(vcon) and len(frame) else {}
            row.update({f"gain_{baseline}": gain.get("mean", math.nan), f"gain_{baseline}_low": gain.get("low", math.nan),
                        f"gain_{baseline}_high": gain.get("high", math.nan),
                        f"gain_{baseline}_class": gain.get("class", "")})
        rows.append(row)
    return pd.DataFrame(rows)


def fit_line(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Least squares y = intercept + slope x, with the slope's Student-t interval (k - 2 degrees of
    freedom), the residual spread and where the line crosses y = 0. NaN with fewer than 3 points."""
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    keep = ~(np.isnan(xs) | np.isnan(ys))
    xs, ys = xs[keep], ys[keep]
    k = len(xs)
    nan = {"slope": math.nan, "intercept": math.nan, "slope_low": math.nan, "slope_high": math.nan,
           "residual_sd": math.nan, "points": k, "damage_at_zero": math.nan, "x_mean": math.nan, "sxx": math.nan}
    if k < 3 or np.all(xs == xs[0]):
        return nan
    from scipy import stats

    x_mean = xs.mean()
    sxx = float(((xs - x_mean) ** 2).sum())
    slope = float(((xs - x_mean) * (ys - ys.mean())).sum() / sxx)
    intercept = float(ys.mean() - slope * x_mean)
    residual_sd = float(math.sqrt(((ys - intercept - slope * xs) ** 2).sum() / (k - 2)))
    half = float(stats.t.ppf(0.5 + level / 2, k - 2)) * residual_sd / math.sqrt(sxx)
    return {"slope": slope, "intercept": intercept, "slope_low": slope - half, "slope_high": slope + half,
            "residual_sd": residual_sd, "points": k, "damage_at_zero": -intercept / slope if slope else math.nan,
            "x_mean": float(x_mean), "sxx": sxx}


def band(fit: dict[str, float], x: Sequence[float], level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fitted line at `x` and its 95 % confidence band (of the mean gain at that damage)."""
    from scipy import stats

    xs = np.asarray(x, float)
    line = fit["intercept"] + fit["slope"] * xs
    half = (stats.t.ppf(0.5 + level / 2, fit["points"] - 2) * fit["residual_sd"]
            * np.sqrt(1 / fit["points"] + (xs - fit["x_mean"]) ** 2 / fit["sxx"]))
    return line, line - half, line + half


def fits(damage: pd.DataFrame) -> pd.DataFrame:
    """The line through the gain-against-damage points, per baseline."""
    rows = [{"baseline": baseline, **fit_line(damage["damage"], damage[f"gain_{baseline}"])}
            for baseline in BASELINES if f"gain_{baseline}" in damage]
    return pd.DataFrame(rows)


# --- writing -----------------------------------------------------------------------------------

SIZE_NOTE = ("Test metric x 100 (mean ± std, n; 95 % interval of the mean) against the bytes of the exported model as "
             "`vcon.save_compact` stores it (every tensor; median over seeds), per method; dense: the uncompressed "
             "model's bytes. VCON at the headline Q, the iterative baseline's headline variant.")
DAMAGE_NOTE = ("Damage: dense minus post-shot, paired by seed (points); gains: VCON minus the baseline, paired by seed, "
               "with their 95 % intervals and classes. Fit: least squares of the mean gain on the mean damage, one "
               "point per row; slope with its 95 % t interval (k - 2 degrees of freedom); 'gain 0 at': the damage "
               "where the fitted line crosses 0.")


def _interval_text(mean: float, low: float, high: float) -> str:
    if math.isnan(mean):
        return "--"
    return f"{mean:+.2f}" + ("" if math.isnan(low) else f" [{low:+.2f}, {high:+.2f}]")


def write_levels(size: pd.DataFrame, damage: pd.DataFrame, out_dir: Path, footer: str = "") -> None:
    write_text(out_dir / "size.csv", size.to_csv(index=False))
    header = ["model / data", "compressor", "level", "method", "bytes", "accuracy (n)", "95 % interval"]
    body = [[f"{r.model} / {r.dataset}", r.compressor or "--", r.level or "--",
             r.method + (f" ({r.variant})" if r.variant else ""), "--" if math.isnan(r.bytes) else f"{int(r.bytes):,}",
             render.format_cell(r.mean, r.std, int(r.n), int(r.expected)),
             "--" if math.isnan(r.low) else f"[{r.low:.2f}, {r.high:.2f}]"] for r in size.itertuples(index=False)]
    write_text(out_dir / "size.md", f"# Accuracy against stored size\n\n{SIZE_NOTE}\n\n" + render.markdown(header, body)
               + render.md_footer(footer))
    write_text(out_dir / "size.tex", f"% {SIZE_NOTE}\n" + render.tex(
        header, [[render.tex_escape(c) for c in row] for row in body], lead=4) + render.tex_footer(footer))

    lines = fits(damage)
    write_text(out_dir / "damage.csv", damage.to_csv(index=False))
    write_text(out_dir / "damage_fit.csv", lines.to_csv(index=False))
    header = ["model / data", "compressor", "level", "post-shot damage", "VCON − post-shot", "VCON − iterative"]
    body = [[f"{r['model']} / {r['dataset']}", r["compressor"], r["level"],
             _interval_text(r["damage"], r["damage_low"], r["damage_high"]),
             *(f"{_interval_text(r[f'gain_{b}'], r[f'gain_{b}_low'], r[f'gain_{b}_high'])} {r[f'gain_{b}_class']}".strip()
               for b in BASELINES)] for r in damage.to_dict("records")]
    fit_header = ["VCON against", "slope (points of gain per point of damage)", "95 % interval", "intercept",
                  "gain 0 at damage", "points"]
    fit_body = [[TITLES[f.baseline], f"{f.slope:+.3f}",
                 f"[{f.slope_low:+.3f}, {f.slope_high:+.3f}]", f"{f.intercept:+.2f}", f"{f.damage_at_zero:.1f}",
                 str(f.points)] for f in lines.itertuples(index=False) if not math.isnan(f.slope)]
    md = f"# Gain against damage\n\n{DAMAGE_NOTE}\n\n" + render.markdown(header, body)
    if fit_body:
        md += "\n## Fit\n\n" + render.markdown(fit_header, fit_body)
    write_text(out_dir / "damage.md", md + render.md_footer(footer))
    tex = render.tex(header, [[render.tex_escape(c) for c in row] for row in body], lead=3)
    if fit_body:
        tex += render.tex(fit_header, [[render.tex_escape(c) for c in row] for row in fit_body], lead=1)
    write_text(out_dir / "damage.tex", f"% {DAMAGE_NOTE}\n" + tex + render.tex_footer(footer))
