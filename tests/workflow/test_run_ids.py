"""vcon.run_ids: one spelling of a run's id, read back by the report and matched by the workflow's rules;
vcon.code_inputs: the report rules' inputs follow the imports."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from vcon import code_inputs, run_ids
from vcon.vocabulary import DENSE, METHODS

REPO = Path(__file__).resolve().parents[2]
EMPTY = {"start": "", "q": "", "schedule": "", "iterative_t": "", "iterative_variant": ""}
IDS = [  # (spell arguments, the id, its identity beyond run, model and dataset)
    (("m", "d", "pretrain", "3"), "m/d/pretrain/seed3", {**EMPTY, "compressor": "none", "method": "pretrain", "seed": "3"}),
    (("m", "d", "dense-scratch", "0"), "m/d/dense-scratch/seed0",
     {**EMPTY, "compressor": "none", "method": "dense-scratch", "seed": "0"}),
    (("m", "d", "posthoc", "1", "p90", "q0"), "m/d/p90/posthoc/q0/seed1",
     {**EMPTY, "start": "pretrained", "compressor": "p90", "method": "posthoc", "q": "0", "seed": "1"}),
    (("m", "d", "iterative", "2", "p90", "t2ep-zhu-gupta", "finetuned"), "m/d/finetuned/p90/iterative/t2ep-zhu-gupta/seed2",
     {**EMPTY, "start": "finetuned", "compressor": "p90", "method": "iterative", "iterative_t": "2ep",
      "iterative_variant": "zhu-gupta", "seed": "2"}),
    (("m", "d", "iterative", "2", "bin", "t40"), "m/d/bin/iterative/t40/seed2",
     {**EMPTY, "start": "pretrained", "compressor": "bin", "method": "iterative", "iterative_t": "40", "seed": "2"}),
    (("m", "d", "vcon", "7", "lr-16", "q12ep-sigmoid"), "m/d/lr-16/vcon/q12ep-sigmoid/seed7",
     {**EMPTY, "start": "pretrained", "compressor": "lr-16", "method": "vcon", "q": "12ep", "schedule": "sigmoid",
      "seed": "7"}),
]


@pytest.mark.parametrize("spelled, run_id, identity", IDS, ids=[run_id for _, run_id, _ in IDS])
def test_a_run_id_is_spelled_and_read_back(spelled, run_id, identity):
    assert run_ids.spell(*spelled) == run_id
    assert run_ids.parse(run_id) == {"run": run_id, "model": "m", "dataset": "d", **identity}


@pytest.mark.parametrize("run_id", ["m/d/dense", "m/d/p90/vcon/q3/seedx", "m/d/p90/prune/q0/seed0",
                                    "m/d/p90/iterative/q3/seed0", "m/d/extra/p90/vcon/q3-linear/seed0"])
def test_a_folder_off_the_layout_is_refused(run_id):
    with pytest.raises(ValueError, match=f"run directory '{re.escape(run_id)}' does not follow the grid's layout"):
        run_ids.parse(run_id)


def test_the_rules_patterns_match_their_runs_only():
    train, pretrain = re.compile(run_ids.TRAIN_RUN), re.compile(run_ids.PRETRAIN_RUN)
    assert [bool(train.fullmatch(run_id)) for _, run_id, _ in IDS] == [False, True, True, True, True, True]
    assert [bool(pretrain.fullmatch(run_id)) for _, run_id, _ in IDS] == [True, False, False, False, False, False]
    assert train.fullmatch("m/d/dense/seed0") and not train.fullmatch("m/d/p90/posthoc/q0/seed0/metrics.json")


def test_metrics_json_schema_names_the_trainers_methods():
    schema = json.loads((REPO / "vcon" / "train" / "metrics.schema.json").read_text())
    assert schema["properties"]["cell"]["properties"]["method"]["enum"] == [DENSE, *METHODS]


def test_the_report_rules_read_the_modules_their_commands_import():
    aggregate = code_inputs.sources("vcon.report.cli_aggregate")
    assert {"vcon/report/cli_aggregate.py", "vcon/report/tables.py", "vcon/report/findings.py", "vcon/run_ids.py",
            "vcon/vocabulary.py", "vcon/report/__init__.py", "vcon/__init__.py"} <= set(aggregate)
    # not what the command does not run: the plots, the grid, and the torch modules vcon/__init__ names for type hints
    assert not {"vcon/report/plots.py", "vcon/grid/expand.py", "vcon/api.py"} & set(aggregate)
    assert "vcon/report/plots_levels.py" in code_inputs.sources("vcon.report.cli_plot")
    assert aggregate == sorted(aggregate) and all((REPO / path).is_file() for path in aggregate)
