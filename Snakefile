"""vcon-bench: pretraining and dense runs, then every (model, dataset, compressor, method, Q, seed)
cell, then tables and figures. The cells come from vcon.grid; rules in workflow/rules/; see
docs/workflow.md.

    snakemake                                   # configs/default.yaml, profile profiles/default
    snakemake --configfile configs/paper.yaml   # the paper's grid (replaces the default config)
"""
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")
# The workflow and its jobs (`python -m vcon ...`, run from here) use the vcon package next to this file.
sys.path.insert(0, workflow.basedir)

# --configfile replaces the default grid instead of being merged into it.
if not workflow.overwrite_configfiles:

    configfile: Path(workflow.basedir) / "configs" / "default.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/common_fetch.smk"
include: "workflow/rules/fetch.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/check.smk"


# Local cells start from a warm worker that has torch, timm and transformers imported already
# (vcon/warm: 5-7 s saved per cell, same results). Not on a cluster, where each job is alone on
# its node. Decided here: the executor is known only once the run starts. VCON_WARM=0 turns it off.
onstart:
    if workflow.local_exec and not workflow.remote_exec:
        os.environ.setdefault("VCON_WARM", "1")


# Every run too, not only the tables: a run whose folder is gone (moved aside as damaged, or deleted) is
# trained again even when the tables are newer than the runs that remain.
rule all:
    input:
        expected_metrics,
        TABLES,
        FIGURE_FILES,
        rules.check_runs.output,
    default_target: True
