"""The level map (configs/levels.yaml): the least-squares line of gain against damage, by hand; the
size and damage tables from a runs table with two levels."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from vcon.report import levels
from vcon.report.options import ReportOptions


def test_fit_line_against_numbers_by_hand():
    # x 1..4, y 2, 3, 5, 6: Sxx = 5, Sxy = 7, slope 1.4, intercept 0.5; residuals .1 -.3 .3 -.1, SSE 0.2,
    # s = sqrt(0.2 / 2), se(slope) = s / sqrt(5), t(0.975, 2) = 4.302652729749464
    fit = levels.fit_line([1, 2, 3, 4], [2, 3, 5, 6])
    half = 4.302652729749464 * math.sqrt(0.1) / math.sqrt(5)
    assert (fit["slope"], fit["intercept"], fit["points"]) == pytest.approx((1.4, 0.5, 4))
    assert (fit["slope_low"], fit["slope_high"]) == pytest.approx((1.4 - half, 1.4 + half))
    assert fit["damage_at_zero"] == pytest.approx(-0.5 / 1.4)
    line, low, high = levels.band(fit, [2.5])  # at the mean of x the band's half-width is t s / sqrt(k)
    assert (line[0], high[0] - line[0]) == pytest.approx((4.0, 4.302652729749464 * math.sqrt(0.1) / 2))
    assert math.isnan(levels.fit_line([1, 2], [3, 4])["slope"])  # two points: no interval
    assert math.isnan(levels.fit_line([2, 2, 2], [1, 2, 3])["slope"])


def _runs() -> pd.DataFrame:
    """Two prune levels, seeds 0 and 1: dense 90, 92; p50 post-shot 89, 90, VCON 90, 91; p90 post-shot
    70, 74, VCON 80, 82."""
    rows = []
    specs = {"p50": '{"name": "prune", "sparsity": 0.5}', "p90": '{"name": "prune", "sparsity": 0.9}'}
    sizes = {"p50": 300_000, "p90": 90_000}
    values = {("dense", ""): (90, 92), ("posthoc", "p50"): (89, 90), ("vcon", "p50"): (90, 91),
              ("posthoc", "p90"): (70, 74), ("vcon", "p90"): (80, 82)}
    for (method, label), pair in values.items():
        for seed, value in enumerate(pair):
            rows.append({"run": f"{method}/{label}/{seed}", "model": "m", "dataset": "d",
                         "start": "" if method == "dense" else "pretrained", "compressor": label or "none",
                         "method": method, "q": "10" if method == "vcon" else "0", "schedule": "linear",
                         "iterative_variant": "", "seed": str(seed), "compressor_spec": specs.get(label, ""),
                         "status": "ok", "metric": "accuracy", "value": value / 100, "val_final": value / 100,
                         "compression.model.bytes_compressed": sizes.get(label), "compression.model.bytes_dense": 500_000})
    return pd.DataFrame(rows)


def test_size_and_damage_tables():
    options = ReportOptions(headline_q={"default": "10"})
    size = levels.size_table(_runs(), options)
    assert list(size["method"]) == ["dense", "posthoc", "vcon", "posthoc", "vcon"]
    assert list(size["bytes"]) == [500_000, 300_000, 300_000, 90_000, 90_000]
    assert list(size["level"]) == ["", "50 %", "50 %", "90 %", "90 %"] and set(size["family"]) == {"", "pruning"}
    assert list(size["mean"]) == pytest.approx([91.0, 89.5, 90.5, 72.0, 81.0])
    damage = levels.damage_table(_runs(), options).set_index("compressor")
    assert damage.loc["p50", "damage"] == pytest.approx(1.5) and damage.loc["p90", "damage"] == pytest.approx(19.0)
    assert (damage.loc["p90", "gain_posthoc"], damage.loc["p50", "gain_posthoc"]) == pytest.approx((9.0, 1.0))
    assert math.isnan(damage.loc["p90", "gain_iterative"])  # no iterative runs in this grid
    fit = levels.fits(damage.reset_index()).set_index("baseline")
    assert math.isnan(fit.loc["posthoc", "slope"])  # two points make a line but no interval


def test_accuracy_against_size_labels_its_log_axis_in_kilobytes():
    from vcon.report import plots_levels

    figure = plots_levels.accuracy_vs_size(_runs(), ReportOptions(headline_q={"default": "10"}))
    ax = figure.axes[0]
    figure.canvas.draw()
    low, high = ax.get_xlim()
    shown = [t.get_text() for t in ax.get_xticklabels() if t.get_text() and low <= t.get_position()[0] <= high]
    assert shown == ["100 kB", "200 kB", "300 kB"]  # the sizes span 90,000 to 300,000 bytes
    assert not [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
    assert ax.get_xlabel() == "stored size of the exported model (log)"


LEVELS_TINY = """
extends: {levels}
models:
  vit-digits:
    compressors: [prune80, prune95, binary]
    pretrain: {{training: {{train_size: 2000, epochs: 1}}}}
    training: {{train_size: 100, batch_size: 20, epochs: 4, eval_every: 5}}   # 5 steps an epoch
    q: [2ep]
    iterative_t: 2ep
  bert-mini: null
seeds: [0]
report: {{headline_q: {{vit-digits: 2ep}}, bootstrap: 200}}
"""


@pytest.mark.slow
def test_a_tiny_level_map_through_the_real_rules(tmp_path):
    """configs/levels.yaml with three levels, one seed and tiny settings, through Snakemake and the real
    trainer: the tables' rows and columns, the bytes against the exporter's compact file, the slope by hand."""
    import struct

    import numpy as np
    import torch

    import vcon
    from vcon.train.config import load_config
    from vcon.train.setup import prepare_cell
    from workflow_run import REPO, private_runtime_dir, run_snakemake, stop_warm_workers

    config = tmp_path / "levels-tiny.yaml"
    config.write_text(LEVELS_TINY.format(levels=REPO / "configs" / "levels.yaml"))
    workdir = tmp_path / "work"
    workdir.mkdir()
    runtime = private_runtime_dir()
    try:
        result = run_snakemake(workdir, "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--configfile", str(config),
                               "--cores", "2", timeout=600, env={"XDG_RUNTIME_DIR": str(runtime)})
    finally:
        stop_warm_workers(runtime)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    tables = workdir / "results" / "levels" / "tables"
    assert sorted(p.name for p in (workdir / "figures").iterdir()) == [
        "levels_accuracy_vs_size.pdf", "levels_accuracy_vs_size.png", "levels_gain_vs_damage.pdf",
        "levels_gain_vs_damage.png"]

    size = pd.read_csv(tables / "size.csv", keep_default_na=False)
    assert list(size.columns) == ["model", "dataset", "start", "compressor", "family", "level", "structured", "method",
                                  "variant", "bytes", "mean", "std", "n", "expected", "low", "high"]
    assert [(r.compressor, r.method) for r in size.itertuples()] == [("", "dense")] + [
        (c, m) for c in ("prune80", "prune95", "binary") for m in ("posthoc", "iterative", "vcon")]
    assert list(size["level"]) == ["", "80 %", "80 %", "80 %", "95 %", "95 %", "95 %", "1 bit", "1 bit", "1 bit"]
    assert set(size.loc[size["compressor"] == "prune80", "variant"]) == {"", "straight-through"}
    for r in size[size["method"] != "dense"].itertuples():  # the bytes of the compact file the exporter writes
        run = {"posthoc": "posthoc/q0", "iterative": f"iterative/t2ep-{r.variant}", "vcon": "vcon/q2ep-linear"}[r.method]
        run_id = f"vit-digits/digits/{r.compressor}/{run}/seed0"
        folder = workdir / "results" / "runs" / run_id
        cell, _ = load_config(workdir / "results" / "cells" / f"{run_id}.yaml",
                              [f"init={workdir / 'results/runs/vit-digits/glyphs/pretrain/seed0'}"])
        exported = vcon.export(prepare_cell(cell).model)
        exported.load_state_dict(torch.load(folder / "model.pt", weights_only=False)["model"])
        compact = tmp_path / f"{r.compressor}-{r.method}.safetensors"
        vcon.save_compact(exported, compact)
        header = struct.unpack("<Q", compact.read_bytes()[:8])[0]
        assert r.bytes == compact.stat().st_size - 8 - header, (r.compressor, r.method)

    damage = pd.read_csv(tables / "damage.csv", keep_default_na=False)
    assert list(damage["compressor"]) == ["prune80", "prune95", "binary"]
    dense = size.loc[size["method"] == "dense", "mean"].item()
    posthoc = size[size["method"] == "posthoc"].set_index("compressor")["mean"]
    assert list(damage["damage"]) == pytest.approx([dense - posthoc[c] for c in damage["compressor"]])  # one seed
    fit = pd.read_csv(tables / "damage_fit.csv").set_index("baseline")
    for baseline in ("posthoc", "iterative"):
        slope, intercept = np.polyfit(damage["damage"], damage[f"gain_{baseline}"], 1)
        assert (fit.loc[baseline, "slope"], fit.loc[baseline, "intercept"]) == pytest.approx((slope, intercept))
        assert fit.loc[baseline, "points"] == 3
    md = (tables / "damage.md").read_text()
    assert "## Fit" in md and f"{fit.loc['posthoc', 'slope']:+.3f}" in md
