"""Aggregation and plots on synthetic metrics.json files: exact statistics, missing runs, bold."""
from __future__ import annotations

import argparse
import math

import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from fake_workflow import write_metrics

from vcon import run_ids
from vcon.report import cli_aggregate, cli_plot, collect, plots, reference, statistics, tables
from vcon.report.options import ReportOptions

PRUNE = {"name": "prune", "sparsity": 0.9, "granularity": "layer"}
# run id -> test accuracy; vcon seed 2 and iterative seed 1 are expected but never finished.
VALUES = {
    "m/src/pretrain/seed0": 0.6,
    "m/d/dense/seed0": 0.90, "m/d/dense/seed1": 0.92, "m/d/dense/seed2": 0.94,
    "m/d/dense-scratch/seed0": 0.50, "m/d/dense-scratch/seed1": 0.60, "m/d/dense-scratch/seed2": 0.70,
    "m/d/p90/posthoc/q0/seed0": 0.70, "m/d/p90/posthoc/q0/seed1": 0.72, "m/d/p90/posthoc/q0/seed2": 0.74,
    "m/d/p90/iterative/t5/seed0": 0.75, "m/d/p90/iterative/t5/seed2": 0.75,
    "m/d/p90/vcon/q10-linear/seed0": 0.80, "m/d/p90/vcon/q10-linear/seed1": 0.84,
    "m/d/p90/vcon/q20-linear/seed0": 0.60, "m/d/p90/vcon/q20-linear/seed1": 0.62,
    "m/d/p90/vcon/q10-cosine/seed0": 0.81, "m/d/p90/vcon/q10-cosine/seed1": 0.83,
}
EXPECTED_MISSING = ["m/d/p90/iterative/t5/seed1", "m/d/p90/vcon/q10-linear/seed2"]


@pytest.fixture
def results(tmp_path):
    runs = tmp_path / "runs"
    for run_id, accuracy in VALUES.items():
        identity = run_ids.parse(run_id)
        history = [{"epoch": e, "step": 5 * e, "beta": 1 - e / 2, "lr": 1e-3, "train_loss": 1.0,
                    "val_blended": accuracy, "val_compressed": accuracy - 0.05 * (2 - e)} for e in (1, 2)]
        dense = identity["compressor"] == "none"
        cell = {k: identity[k] for k in ("model", "dataset", "compressor")}
        write_metrics(runs / run_id / "metrics.json", accuracy, history, spec=None if dense else PRUNE,
                      method="dense" if dense else identity["method"], **cell)
    rows = [run_ids.parse(r) for r in [*VALUES, *EXPECTED_MISSING]]
    for row in rows:
        row["compressor_spec"] = "" if row["compressor"] == "none" else '{"granularity": "layer", "name": "prune", "sparsity": 0.9}'
    pd.DataFrame(rows).to_csv(tmp_path / "cells.csv", index=False)
    return tmp_path


def aggregate(root, *headline, split="test"):
    args = argparse.Namespace(runs=str(root / "runs"), cells=str(root / "cells.csv"), out=str(root / "tables"),
                              headline_q=list(headline) or None, headline_iterative=None, schedule="linear",
                              interval="t", bootstrap=1000, split=split)
    assert cli_aggregate.run(args) == 0
    return collect.read_runs(root / "tables" / "runs.csv"), pd.read_csv(root / "tables" / "accuracy.csv")


def cell(table, column, compressor="p90"):
    return table[(table["column"] == column) & (table["compressor"] == compressor)].iloc[0]


def test_runs_table_one_row_per_expected_run(results):
    runs, _ = aggregate(results)
    assert len(runs) == len(VALUES) + len(EXPECTED_MISSING)
    missing = runs[runs["status"] == "missing"]
    assert sorted(missing["run"]) == EXPECTED_MISSING
    assert missing["value"].isna().all()  # never filled in
    assert runs.loc[runs["run"] == "m/d/dense/seed1", "value"].item() == pytest.approx(0.92)
    assert runs.loc[runs["run"] == "m/d/dense/seed1", "seed"].item() == "1"
    assert runs.loc[runs["run"] == "m/d/p90/vcon/q10-cosine/seed0", "schedule"].item() == "cosine"
    assert "compression.total.sparsity" in runs
    machine = pd.read_csv(results / "tables" / "machine.csv")
    assert not [c for c in runs.columns if c.startswith(("timing.", "environment."))]
    assert list(machine["run"]) == list(runs["run"])
    assert list(machine.columns) == ["run", "timing.wall_s", "environment.device"]


def test_accuracy_statistics_exact(results):
    _, table = aggregate(results, "10")
    dense = cell(table, "dense")
    assert (dense["mean"], dense["std"], dense["n"], dense["expected"]) == pytest.approx((92.0, 2.0, 3, 3))
    posthoc = cell(table, "posthoc")
    assert (posthoc["mean"], posthoc["std"], posthoc["n"]) == pytest.approx((72.0, 2.0, 3))
    iterative = cell(table, "iterative")
    assert (iterative["mean"], iterative["std"], iterative["n"], iterative["expected"]) == pytest.approx((75.0, 0.0, 2, 3))
    vcon = cell(table, "vcon")
    assert (vcon["mean"], vcon["std"], vcon["n"], vcon["expected"]) == pytest.approx((82.0, math.sqrt(8), 2, 3))
    assert vcon["q"] == 10 and vcon["selection"] == "configured"
    gain = cell(table, "gain_posthoc")  # paired by seed: seeds 0 and 1 give +10 and +12
    assert (gain["mean"], gain["std"], gain["n"]) == pytest.approx((11.0, math.sqrt(2), 2))
    half = 12.706204736174707 * 1.0  # t(0.975, 1 df) x sd / sqrt(2) = t x 1
    assert (gain["low"], gain["high"]) == pytest.approx((11.0 - half, 11.0 + half))
    assert not gain["excludes_zero"]
    versus_iterative = cell(table, "gain_iterative")  # only seed 0 has both: +5, no interval from one value
    assert (versus_iterative["mean"], versus_iterative["n"]) == pytest.approx((5.0, 1))
    assert math.isnan(versus_iterative["low"]) and not versus_iterative["excludes_zero"]
    assert table.loc[table["best"], "column"].tolist() == ["vcon"]


def test_dense_from_scratch_row_and_pretraining_note(results):
    _, table = aggregate(results, "10")
    scratch = cell(table, "dense-scratch", compressor=tables.SCRATCH_ROW)
    assert (scratch["mean"], scratch["std"], scratch["n"]) == pytest.approx((60.0, 10.0, 3))
    assert len(table[table["compressor"] == tables.SCRATCH_ROW]) == 1
    md = (results / "tables" / "accuracy.md").read_text()
    assert "| m | d | dense from scratch | 60.00 ± 10.00 (n=3) |" in md
    assert "Pretraining: m pretrained on src (seed 0): test accuracy 60.00." in md


def test_a_pilot_reads_validation_but_names_the_pretrainings_test_metric(results):
    history = [{"epoch": 1, "step": 5, "beta": 0.0, "lr": 1e-3, "train_loss": 1.0, "val_blended": 0.3,
                "val_compressed": 0.3}]
    write_metrics(results / "runs" / "m/src/pretrain/seed0/metrics.json", 0.6, history, spec=None, method="dense",
                  model="m", dataset="src", compressor="none")
    _, table = aggregate(results, "10", split="validation")
    # the posthoc runs' last validation is their test value minus 0 (epoch 2 of the fixture's history)
    assert cell(table, "posthoc")["mean"] == pytest.approx(72.0)
    md = (results / "tables" / "accuracy.md").read_text()
    assert "Pretraining: m pretrained on src (seed 0): test accuracy 60.00." in md


def test_markdown_marks_best_and_missing(results):
    aggregate(results, "10")
    md = (results / "tables" / "accuracy.md").read_text()
    assert "| model | dataset | compressor | dense | post-shot | iterative | VCON | VCON − post-shot | " \
           "VCON − iterative |" in md
    assert "**82.00 ± 2.83 (n=2/3)**" in md
    assert "75.00 ± 0.00 (n=2/3)" in md and "92.00 ± 2.00 (n=3)" in md
    assert "+11.00 [-1.71, +23.71] undecided (n=2/3)" in md  # 3 seeds expected in both, 2 paired
    assert "VCON at the configured Q = 10" in md and "95 % Student-t interval" in md
    tex = (results / "tables" / "accuracy.tex").read_text()
    assert r"\textbf{82.00 $\pm$ 2.83 (n=2/3)}" in tex and r"\begin{tabular}{lllrrrrrr}" in tex


def test_a_gain_whose_interval_lies_above_one_point_is_ahead_by_more_than_1(results):
    runs = collect.read_runs(aggregate(results, "10") and results / "tables" / "runs.csv")
    runs.loc[runs["run"] == "m/d/p90/vcon/q10-linear/seed1", "value"] = 0.83  # gains +10, +11
    runs.loc[runs["run"] == "m/d/p90/vcon/q10-linear/seed2", ["value", "status"]] = [0.85, "ok"]  # +11
    options = ReportOptions(headline_q={"default": "10"})
    table = tables.accuracy_table(runs, options)
    gain = cell(table, "gain_posthoc")
    assert gain["n"] == 3 and gain["excludes_zero"] and gain["low"] > 1
    assert gain["class"] == "ahead by more than 1 point"
    assert gain["half_width"] == pytest.approx(4.302652729749464 * math.sqrt(1 / 3) / math.sqrt(3))
    tables.write_accuracy(table, results / "marked", options)
    assert "+10.67 [+9.23, +12.10] ahead by more than 1 point (n=3)" in (results / "marked" / "accuracy.md").read_text()


def test_best_q_is_chosen_on_validation(results):
    _, table = aggregate(results)  # default: best
    vcon = cell(table, "vcon")
    assert vcon["q"] == 10 and vcon["selection"] == "best on validation"
    assert "best Q" in (results / "tables" / "accuracy.md").read_text()


def test_ablation_table(results):
    aggregate(results, "10")
    ablation = pd.read_csv(results / "tables" / "ablation.csv", dtype={"q": str})
    by_q = ablation[ablation["axis"] == "q"].set_index("q")["mean"]
    assert by_q.to_dict() == pytest.approx({"0": 72.0, "10": 82.0, "20": 61.0})
    shapes = ablation[ablation["axis"] == "schedule"].set_index("schedule")["mean"]
    assert shapes.to_dict() == pytest.approx({"linear": 82.0, "cosine": 82.0})
    md = (results / "tables" / "ablation.md").read_text()
    assert "post-shot (Q=0)" in md and "cosine @ Q=10" in md


def test_reference_table_only_with_the_reference_experiment(results):
    """Like for like: validation-half accuracy after the last epoch (val_final), VCON at Q = 12 epochs
    whatever the headline Q, the sampling error of the authors' 5,000-image estimates."""
    aggregate(results, "best")
    assert not (results / "tables" / "reference.md").exists()
    runs = collect.read_runs(results / "tables" / "runs.csv")
    runs["model"], runs["dataset"] = "vit-tiny", "cifar10"
    runs["q"] = runs["q"].replace({"10": "12ep"})
    table = reference.reference_table(runs)
    prune = table.iloc[0]
    assert (prune["paper_posthoc"], prune["paper_vcon"], prune["paper_gain"]) == (90.62, 94.52, 3.90)
    assert prune["paper_posthoc_se"] == pytest.approx(100 * math.sqrt(0.9062 * 0.0938 / 5000))  # 0.41 points
    # val_final is the last row's val_compressed: accuracy - 0.05 * (2 - 2) = the accuracy itself here
    assert prune["ours_label"] == "p90" and prune["ours_vcon"] == pytest.approx(82.0)
    assert prune["ours_posthoc"] == pytest.approx(72.0) and prune["ours_gain"] == pytest.approx(11.0)
    assert table.iloc[1]["ours_label"] == ""  # no binary run: shown as not run
    assert table.iloc[-1]["paper_posthoc"] == 98.14 and table.iloc[-1]["ours_posthoc"] == pytest.approx(92.0)
    reference.write_reference(table, results)
    md = (results / "reference.md").read_text()
    assert "not run" in md and "90.62 ± 0.41" in md and "82.00 ± 2.83 (n=2)" in md


def test_intervals_against_fixed_numbers():
    # t: mean 3, s = sqrt(2.5), t(0.975, 4) = 2.7764451051977987 -> 3 -+ 2.7764451 x 0.7071068
    assert statistics.t_interval([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx((1.0367568385224428, 4.963243161477557),
                                                                             abs=1e-12)
    assert statistics.t_interval([2.0, 4.0]) == pytest.approx((3.0 - 12.706204736174707, 3.0 + 12.706204736174707))
    assert all(math.isnan(v) for v in statistics.t_interval([5.0]))
    # BCa (scipy.stats.bootstrap, 10,000 resamples, generator seed 0), pinned with scipy 1.17.1.
    low, high = statistics.bca_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (low, high) == pytest.approx((1.8, 4.2))
    assert statistics.bca_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)
    assert statistics.excludes_zero(0.1, 2.0) and statistics.excludes_zero(-3.0, -0.5)
    assert not statistics.excludes_zero(-0.1, 2.0) and not statistics.excludes_zero(math.nan, math.nan)


def test_plots_write_png_and_pdf(results):
    aggregate(results, "10")
    for figure in plots.FIGURES[:5]:
        args = argparse.Namespace(figure=figure, runs=str(results / "tables" / "runs.csv"),
                                  history=str(results / "tables" / "history.csv"), out=str(results / "figures"),
                                  headline_q=["10"], headline_iterative=None, schedule="linear", interval="t",
                                  bootstrap=200, split="test", prefix="")
        assert cli_plot.run(args) == 0
        assert sorted(p.name for p in (results / "figures").glob(f"{figure}.*")) == [f"{figure}.pdf", f"{figure}.png"]
        assert (results / "figures" / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (results / "figures" / f"{figure}.pdf").read_bytes()[:5] == b"%PDF-"


def drawn(results, name):
    """The figure `name` of the synthetic runs, headline Q = 10, and its panels (axes with a title)."""
    aggregate(results, "10")
    tables = results / "tables"
    figure = plots.figure(name, collect.read_runs(tables / "runs.csv"), collect.read_history(tables / "history.csv"),
                          ReportOptions(headline_q={"default": "10"}))
    return figure, [ax for ax in figure.axes if ax.get_title()]


def legend_labels(figure):
    return [text.get_text() for legend in figure.legends for text in legend.get_texts()]


def points(ax):
    """x and y of every point the scatter calls of `ax` drew, in drawing order."""
    xy = [[float(v) for v in point] for collection in ax.collections if isinstance(collection, PathCollection)
          for point in collection.get_offsets()]
    return [x for x, _ in xy], [y for _, y in xy]


def test_the_beta_shapes_figure_draws_each_shape_at_the_headline_q(results):
    figure, [panel] = drawn(results, "beta_shapes")
    assert panel.get_title() == "m / d\np90, Q=10"
    assert [tick.get_text() for tick in panel.get_xticklabels()] == ["linear", "cosine"]
    # per seed, side by side (0.16 wide) around each shape's position: linear 80, 84; cosine 81, 83
    assert points(panel) == (pytest.approx([-0.08, 0.08, 0.92, 1.08]), [80.0, 84.0, 81.0, 83.0])
    # mean 82 for both; t interval with 1 degree of freedom: 12.706 x s / sqrt(2), s = 1.414 for cosine
    means = [line for line in panel.lines if line.get_marker() == "o"]
    assert [float(m.get_xdata()[0]) for m in means] == pytest.approx([0.16, 1.16])
    assert [float(m.get_ydata()[0]) for m in means] == pytest.approx([82.0, 82.0])
    bars = panel.collections[-1].get_segments()  # the cosine interval
    assert [float(y) for y in bars[0][:, 1]] == pytest.approx([82 - 12.7062, 82 + 12.7062], abs=1e-3)
    assert legend_labels(figure) == ["per seed", "mean, 95 % t interval"]


def test_the_gains_figure_shows_every_seed_apart(results):
    figure, [panel] = drawn(results, "gains")
    # VCON at Q = 10 minus post-shot, seeds 0 and 1: 80 - 70, 84 - 72; minus iterative, seed 0 only: 80 - 75
    # post-shot's points 0.08 apart around -0.15 + 0.07, the iterative one's at 0.15 + 0.07
    assert points(panel) == (pytest.approx([-0.12, -0.04, 0.22]), pytest.approx([10.0, 12.0, 5.0]))
    assert [tick.get_text() for tick in panel.get_xticklabels()] == ["p90\nQ=10"]
    assert "per seed" in legend_labels(figure)


def test_the_transition_curves_name_their_bands(results):
    figure, [panel] = drawn(results, "transition_curves")
    curves = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in panel.lines
              if not line.get_label().startswith("_")}
    # validation after epochs 1 and 2 (steps 5, 10): the accuracy less 0.05 then 0; post-shot's mean is 72
    assert curves["post-shot"] == ([5, 10], pytest.approx([67.0, 72.0]))
    assert curves["VCON: blended model"] == ([5, 10], pytest.approx([82.0, 82.0]))
    assert legend_labels(figure) == [
        "dense", "post-shot", "post-shot ± 1 std over seeds", "iterative", "iterative ± 1 std over seeds",
        "VCON: blended model", "VCON: blended model ± 1 std over seeds", "VCON: compressed only",
        "beta of VCON (right axis)"]


def test_the_beta_ablation_figure_draws_the_q_sweep_and_its_references(results):
    figure, [panel] = drawn(results, "beta_ablation")
    [mean] = [line for line in panel.lines if line.get_label() == "VCON (linear beta), mean"]
    assert list(mean.get_xdata()) == [0, 1] and list(mean.get_ydata()) == pytest.approx([82.0, 61.0])
    references = {line.get_label(): float(line.get_ydata()[0]) for line in panel.lines if line is not mean}
    assert references == pytest.approx({"post-shot, mean": 72.0, "iterative, mean": 75.0, "dense, mean": 92.0})
    assert [tick.get_text() for tick in panel.get_xticklabels()] == ["10", "20"]
    assert "VCON ± std" in legend_labels(figure)


