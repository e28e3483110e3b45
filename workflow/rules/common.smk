import hashlib
import os
import shlex
import sys
from pathlib import Path

import yaml

from vcon import code_inputs, quarantine, run_ids
from vcon.grid import GridError, canonical_length, check, extends
from vcon.report import catalog
from vcon.report.reference import REFERENCE_EXPERIMENT

# The command this workflow was started with: check_runs prints it, plus --forcerun, as the one command
# that reruns the unusable runs. Passed to that local job through the environment, not as a param, so
# that calling the workflow another way does not rerun the check.
if workflow.is_main_process:
    os.environ["VCON_WORKFLOW_COMMAND"] = shlex.join(["snakemake", *sys.argv[1:]])


envvars:
    "PATH",
    "VCON_WORKFLOW_COMMAND",


ROOT = Path(workflow.basedir)
CONFIG_FILES = [Path(f) for f in workflow.overwrite_configfiles] or [ROOT / "configs" / "default.yaml"]
RUNS = run_ids.RUNS_ROOT
CELL_CONFIGS = run_ids.CELLS_ROOT
# `extends: FILE` (relative to the config file): that config with this one's changes over it.
try:
    _resolved = extends.resolve(config, CONFIG_FILES[-1].parent, (CONFIG_FILES[-1].resolve(),))
except GridError as error:
    raise WorkflowError(f"invalid workflow config ({CONFIG_FILES[-1]}):\n{error}")
config.clear()
config.update(_resolved)
REPORT = config.get("report") or {}
# A study of its own (report.study) keeps its tables and figures apart; its runs are shared.
STUDY = REPORT.get("study")
TABLE_DIR = catalog.table_dir(STUDY)
LOG_DIR = f"results/logs/{STUDY}" if STUDY else "results/logs"
# Jobs run `python -m vcon ...` from the repository root (the package is found installed or not).
# `python` is the interpreter running Snakemake (put first on PATH, inherited by local and SLURM
# jobs) unless `--sdm conda` activates ENVIRONMENT, the project's pinned environment.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
ENVIRONMENT = "../../environment.yaml"


def config_source():
    """The config file(s) this run reads, for error messages."""
    files = [os.path.relpath(f) for f in CONFIG_FILES]
    extra = " with --config overrides" if workflow.config_settings.config_args else ""
    return " + ".join(files) + extra


# Checked before any job starts: the JSON schema (every key, type and range, with the path inside
# the file) and the grid (registry names, lengths against the run, duplicates, an empty grid).
try:
    GRID = check(config, config_source())
except GridError as error:
    raise WorkflowError(f"invalid workflow config:\n{error}")
CELLS = GRID.cells


def _sources(*patterns, exclude=()):
    files = sorted({p for pattern in patterns for p in ROOT.glob(pattern) if p.is_file()})
    return [str(p.relative_to(ROOT)) for p in files if not any(str(p.relative_to(ROOT)).startswith(e) for e in exclude)]


# Everything a training result depends on besides its cell config: the library, models, data and
# trainer sources. The digest enters the train rule's shell command, so a change shows up as
# "code changed" (`--list-changes code`) and reruns every cell; see docs/workflow.md to keep runs.
TRAINER_SOURCES = _sources("vcon/**/*.py", exclude=("vcon/report/", "vcon/grid/", "vcon/fetch/"))
TRAINER_DIGEST = hashlib.sha256(
    b"".join(p.encode() + b"\0" + (ROOT / p).read_bytes() for p in TRAINER_SOURCES)
).hexdigest()[:16]



def source(path):
    """A repository file as an input path, also when the working directory (-d) is elsewhere."""
    return os.path.relpath(ROOT / path)


# Aggregation and plotting read the sources of the modules they run as inputs: an edit reruns them (mtime).
AGGREGATE_CODE = [source(path) for path in code_inputs.sources("vcon.report.cli_aggregate")]
PLOT_CODE = [source(path) for path in code_inputs.sources("vcon.report.cli_plot")]

TABLE_NAMES = list(catalog.TABLE_NAMES)
if GRID.has_experiment(*REFERENCE_EXPERIMENT):
    TABLE_NAMES.append("reference")
TABLES = [f"{TABLE_DIR}/{name}.{ext}" for name in TABLE_NAMES for ext in ("csv", "md", "tex")] + [
    f"{TABLE_DIR}/{name}" for name in catalog.EXTRA_TABLE_FILES]



def report_args():
    """Arguments shared by `vcon aggregate` and `vcon plot`: report.headline_q and headline_iterative,
    the gains' interval, the split the tables show and the sweep's shape."""
    value = REPORT.get("headline_q", "best")
    pairs = value.items() if isinstance(value, dict) else [("default", value)]
    args = [f"--headline-q {model}={canonical_length(q) if q != 'best' else q}" for model, q in pairs]
    args += [f"--headline-iterative {model}/{name}={variant}"
             for model, chosen in REPORT.get("headline_iterative", {}).items() for name, variant in chosen.items()]
    args += [f"--interval {REPORT.get('interval', 't')}", f"--bootstrap {REPORT.get('bootstrap', 10000)}",
             f"--split {REPORT.get('split', 'test')}"]
    return " ".join(args + [f"--schedule {config.get('schedule', 'linear')}"])



def write_manifest(path):
    """The grid's expected runs, one row each (identity and compressor spec)."""
    import csv

    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(next(iter(CELLS.values())).row()))
        writer.writeheader()
        writer.writerows(GRID.rows())


def cell(wildcards):
    try:
        return CELLS[wildcards.run]
    except KeyError:
        raise WorkflowError(f"{wildcards.run} is not a cell of this config's grid")


def metrics_file(run_id):
    return f"{RUNS}/{run_id}/metrics.json"


_QUARANTINE_DONE = []


def quarantine_damaged_runs():
    """Once per call of Snakemake, from the input functions of the first jobs it plans (all, aggregate, a
    cell), before it looks at any run's files: each finished run of the grid that is damaged (vcon.quarantine)
    is moved to results/quarantine/, so that this call trains it again. Only where jobs are about to run:
    a dry run lists them; --summary, --unlock, --touch and the job steps on cluster nodes do nothing."""
    if _QUARANTINE_DONE or not workflow.is_main_process or workflow.executor_plugin is None or workflow.touch:
        return
    _QUARANTINE_DONE.append(True)
    for run_id, problem in quarantine.damaged_runs(RUNS, CELLS).items():
        if workflow.dryrun:
            print(f"vcon-bench: the finished run {RUNS}/{run_id} is damaged ({problem}); a run without -n moves it "
                  f"to {quarantine.QUARANTINE_ROOT}/ and trains it again", file=sys.stderr)
            continue
        where = quarantine.move_aside(RUNS, run_id)
        print(f"vcon-bench: the finished run {RUNS}/{run_id} is damaged ({problem}); moved to {where}, "
              f"it is trained again", file=sys.stderr)


def expected_metrics(wildcards):
    """Every run of the grid, for the aggregation."""
    quarantine_damaged_runs()
    return [metrics_file(run_id) for run_id in CELLS]


def init_metrics(wildcards):
    """A cell that starts from another run (pretraining or a dense run) needs it finished first."""
    quarantine_damaged_runs()
    init_run = cell(wildcards).init_run
    return [metrics_file(init_run)] if init_run else []


def train_launcher(gpus):
    """`python -m vcon train`, or torchrun with one process per GPU for a multi-GPU cell (a param:
    changing a cell's GPU count reruns it, as data-parallel results match only within tolerance).
    --standalone: a private rendezvous on a free port, so two such jobs can share a node."""
    if gpus > 1:
        return f"torchrun --standalone --nproc-per-node {gpus} -m vcon train"
    return "python -m vcon train"
