"""What a comparison shows: each class from fixed intervals, the agreement and replication rules, the
seeds a half-width needs, the probability of improvement with its stratified bootstrap, the iterative
appendix, and `vcon compare` on two result folders that agree and disagree."""
from __future__ import annotations

import argparse
import math

import pandas as pd
import pytest

from vcon.report import cli_compare, comparisons, findings, improvement
from vcon.report.comparisons import AHEAD, AHEAD_BY_MARGIN, BEHIND, EQUIVALENT, UNDECIDED
from vcon.report.options import ReportOptions, parse_headline_iterative


@pytest.mark.parametrize("low,high,expected", [
    (1.2, 3.0, AHEAD_BY_MARGIN),
    (1.0, 3.0, AHEAD),  # above 0 but not above +1
    (0.1, 0.5, AHEAD),  # inside [-1, +1] too, but 'ahead' comes first
    (-3.0, -1.5, BEHIND),
    (-0.5, -0.1, BEHIND),
    (-0.8, 0.9, EQUIVALENT),
    (-1.0, 1.0, EQUIVALENT),  # the margin's ends are inside
    (-1.2, 0.5, UNDECIDED),
    (-0.2, 1.4, UNDECIDED),
    (math.nan, math.nan, UNDECIDED),
])
def test_each_class_from_fixed_numbers(low, high, expected):
    assert comparisons.classify(low, high) == expected


@pytest.mark.parametrize("a,b,expected", [
    ((AHEAD, 2.1), (AHEAD_BY_MARGIN, 3.0), True),  # the same way
    ((AHEAD, 2.1), (BEHIND, -1.0), False),
    ((AHEAD, 2.1), (UNDECIDED, 0.5), True),  # undecided, on the decided side
    ((AHEAD, 2.1), (UNDECIDED, -0.2), False),
    ((UNDECIDED, -0.1), (BEHIND, -2.0), True),
    ((EQUIVALENT, 0.2), (UNDECIDED, 0.8), True),  # within ±1
    ((EQUIVALENT, 0.2), (UNDECIDED, -1.3), False),
    ((EQUIVALENT, 0.2), (AHEAD, 0.6), False),
    ((UNDECIDED, 3.0), (UNDECIDED, -3.0), True),  # neither claims anything
])
def test_agreement_rule(a, b, expected):
    assert comparisons.agree(*a, *b) is expected
    assert comparisons.agree(*b, *a) is expected


def test_a_finding_replicates_when_both_blocks_agree_with_it_and_each_other():
    assert comparisons.replicates(AHEAD, 1.5, [(AHEAD, 2.0), (UNDECIDED, 0.4)])
    assert not comparisons.replicates(AHEAD, 0.4, [(UNDECIDED, -0.3), (UNDECIDED, 1.0)])  # a block on the other side
    assert not comparisons.replicates(AHEAD, 1.0, [(AHEAD, 2.0), (BEHIND, -0.5)])
    assert not comparisons.replicates(UNDECIDED, 1.0, [(AHEAD, 2.0), (AHEAD, 1.0)])  # nothing to replicate


def test_blocks_are_the_two_halves_in_numeric_order():
    assert comparisons.split_blocks([str(s) for s in range(12)]) == (list("012345"), ["6", "7", "8", "9", "10", "11"])
    assert comparisons.split_blocks(["4", "3", "2", "1", "0"]) == (["0", "1", "2"], ["3", "4"])
    assert comparisons.split_blocks(["10", "2", "1"]) == (["1", "2"], ["10"])


def test_seeds_needed_for_a_half_width_of_one_point():
    # sd 1: t(0.975, 6) / sqrt(7) = 2.447 / 2.646 = 0.925 <= 1, t(0.975, 5) / sqrt(6) = 1.050 > 1
    assert comparisons.seeds_needed(1.0) == 7
    # sd 2: t(0.975, 17) / sqrt(18) = 0.497 <= 0.5, t(0.975, 16) / sqrt(17) = 0.514 > 0.5
    assert comparisons.seeds_needed(2.0) == 18
    assert comparisons.seeds_needed(0.0) == 2
    assert math.isnan(comparisons.seeds_needed(math.nan))
    assert comparisons.seeds_needed(500.0, most=100) == math.inf


def test_probability_of_improvement_fixed_example():
    # setting 1: 6 of 9 pairs won; setting 2: (2 vs 2: a half, 2 > 1) twice = 3 of 4
    settings = [([1, 3, 5], [0, 2, 4]), ([2, 2], [2, 1])]
    assert improvement.probability_of_improvement(settings) == pytest.approx((6 / 9 + 3 / 4) / 2, abs=1e-15)
    assert improvement.stratified_interval([([3, 4], [1, 2])]) == (1.0, 1.0)  # every resample wins every pair


def test_stratified_bootstrap_resamples_within_each_setting():
    # One setting: 10 of 20 runs beat the single baseline run; a resample's P is Binomial(20, 1/2) / 20, whose
    # 2.5 % and 97.5 % quantiles are 6/20 and 14/20. Two such settings: the mean is Binomial(40, 1/2) / 40,
    # quantiles 14/40 and 26/40.
    setting = ([1.0] * 10 + [0.0] * 10, [0.5])
    assert improvement.stratified_interval([setting]) == pytest.approx((0.30, 0.70))
    assert improvement.stratified_interval([setting, setting]) == pytest.approx((0.35, 0.65))
    assert improvement.stratified_interval([setting], seed=3) == improvement.stratified_interval([setting], seed=3)


def _runs(values: dict[str, float]) -> pd.DataFrame:
    """A runs table of one experiment and compressor from run id -> test accuracy."""
    rows = []
    prune = '{"name": "prune", "sparsity": 0.9}'
    for run, value in values.items():
        method, variant, seed = run.split("/")
        rows.append({"run": run, "model": "m", "dataset": "d", "start": "pretrained" if method != "dense" else "",
                     "compressor": "none" if method == "dense" else "p90", "method": method,
                     "q": "10" if method == "vcon" else "0" if method == "posthoc" else "",
                     "schedule": "linear" if method == "vcon" else "", "iterative_variant": variant,
                     "seed": seed, "compressor_spec": "" if method == "dense" else prune, "status": "ok",
                     "metric": "accuracy", "value": value, "val_final": value})
    return pd.DataFrame(rows)


# seeds 0-3; VCON gains over post-shot +2, +3, +2, +3; over zhu-gupta +1, +0.5, +0.5, +1; over ste -1 each
VALUES = {}
for seed, (vcon, posthoc, zhu, ste) in enumerate([(80, 78, 79, 81), (81, 78, 80.5, 82), (82, 80, 81.5, 83),
                                                   (83, 80, 82, 84)]):
    VALUES.update({f"dense//{seed}": 0.9, f"vcon//{seed}": vcon / 100, f"posthoc//{seed}": posthoc / 100,
                   f"iterative/zhu-gupta/{seed}": zhu / 100, f"iterative/ste/{seed}": ste / 100})
OPTIONS = ReportOptions(headline_q={"default": "10"}, headline_iterative=parse_headline_iterative(["m/prune=zhu-gupta"]))


def test_comparisons_table_classes_blocks_and_replication():
    runs = _runs(VALUES)
    from vcon.report import tables

    table = findings.comparisons_table(tables.accuracy_table(runs, OPTIONS)).set_index("baseline")
    posthoc = table.loc["post-shot"]
    # gains 2, 3, 2, 3: mean 2.5, sd 0.5774, t(0.975, 3) = 3.182446 -> half-width 0.9187
    assert (posthoc["mean"], posthoc["half_width"]) == pytest.approx((2.5, 3.182446305284263 * 0.5773502691896258 / 2))
    assert posthoc["class"] == AHEAD_BY_MARGIN
    # blocks 0-1 and 2-3: gains (2, 3) each, mean 2.5 with t(0.975, 1) = 12.7: undecided, on the ahead side
    assert (posthoc["block_a_seeds"], posthoc["block_b_seeds"]) == ("0, 1", "2, 3")
    assert (posthoc["block_a_class"], posthoc["block_a_mean"]) == (UNDECIDED, pytest.approx(2.5))
    assert posthoc["replicates"]
    iterative = table.loc["iterative"]
    assert iterative["variant"] == "zhu-gupta" and iterative["mean"] == pytest.approx(0.75)
    assert iterative["class"] == AHEAD  # gains 1, 0.5, 0.5, 1: [0.29, 1.21]
    assert iterative["median"] == pytest.approx(0.75) and iterative["iqm"] == pytest.approx(0.75)


def test_iterative_appendix_lists_every_variant_with_its_gain():
    appendix = findings.iterative_table(_runs(VALUES), OPTIONS).set_index("variant")
    assert list(appendix.index) == ["zhu-gupta", "ste"]
    assert appendix.loc["zhu-gupta", "headline"] and not appendix.loc["ste", "headline"]
    assert appendix.loc["ste", "mean"] == pytest.approx(82.5)
    assert appendix.loc["ste", "gain_mean"] == pytest.approx(-1.0) and appendix.loc["ste", "gain_class"] == BEHIND


def test_probability_of_improvement_table_over_the_headline_settings():
    table = findings.improvement_table(_runs(VALUES), OPTIONS).set_index("baseline")
    # post-shot: VCON 80..83 against 78, 78, 80, 80: 14 of 16 pairs won, 2 ties (80 = 80) -> 15 / 16
    assert table.loc["post-shot", "probability"] == pytest.approx(15 / 16)
    assert (table.loc["post-shot", "settings"], table.loc["post-shot", "runs"]) == (1, 8)


def _comparisons_csv(folder, rows):
    folder.mkdir()
    base = {"model": "m", "dataset": "d", "start": "pretrained", "compressor": "p90", "variant": "", "n": 5}
    pd.DataFrame([{**base, **row} for row in rows]).to_csv(folder / "comparisons.csv", index=False)


def test_compare_two_folders_that_agree_and_disagree(tmp_path, capsys):
    _comparisons_csv(tmp_path / "a", [
        {"baseline": "post-shot", "mean": 5.3, "low": 3.6, "high": 7.0, "class": AHEAD_BY_MARGIN},
        {"baseline": "iterative", "mean": 0.7, "low": 0.01, "high": 1.4, "class": AHEAD, "variant": "inq"}])
    _comparisons_csv(tmp_path / "b", [
        {"baseline": "post-shot", "mean": 4.2, "low": 2.2, "high": 6.3, "class": AHEAD_BY_MARGIN},
        {"baseline": "iterative", "mean": 1.1, "low": -0.2, "high": 2.4, "class": UNDECIDED, "variant": "inq"}])
    _comparisons_csv(tmp_path / "c", [
        {"baseline": "post-shot", "mean": 4.2, "low": 2.2, "high": 6.3, "class": AHEAD_BY_MARGIN},
        {"baseline": "iterative", "mean": -0.1, "low": -1.2, "high": 0.9, "class": UNDECIDED, "variant": "inq"}])

    def compare(first, second):
        return cli_compare.run(argparse.Namespace(first=str(tmp_path / first), second=str(tmp_path / second)))

    assert compare("a", "b") == 0
    out = capsys.readouterr().out
    assert ("m / d p90, VCON − iterative (inq): A +0.70 [+0.01, +1.40] ahead (n=5) | B +1.10 [-0.20, +2.40] "
            "undecided (n=5) -> agree") in out
    assert "2 of 2 comparisons agree" in out
    assert compare("a", "c") == 1
    out = capsys.readouterr().out
    assert "-> DISAGREE" in out and "1 of 2 comparisons agree" in out
    assert compare("a", "missing") == 2
    assert "missing/comparisons.csv does not exist" in capsys.readouterr().err
