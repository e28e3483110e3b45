# What keeps a broken run from passing unseen (docs/guarantees.md): damaged finished runs are moved
# aside before the jobs are planned, and the last job fails while a run the grid expects is unusable.
import shlex

from vcon import quarantine

# The command this workflow was started with: check_runs prints it, plus --forcerun, as the one command
# that reruns the unusable runs. Passed through the environment (local jobs inherit it), not as a param,
# so that calling the workflow another way does not rerun the check.
if workflow.is_main_process:
    os.environ["VCON_WORKFLOW_COMMAND"] = shlex.join(["snakemake", *sys.argv[1:]])

_QUARANTINE_DONE = []


def quarantine_damaged_runs():
    """Once per call of Snakemake, from the input functions of the first jobs it plans (aggregate, a
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


rule check_runs:
    """Fails the workflow while a run the grid expects is missing, invalid or stale in runs.csv (the tables
    count it as missing), listing them and the one command that reruns exactly them; report.allow_missing:
    true lists them and passes. A rule of its own after aggregate: its failure deletes no table."""
    localrule: True
    input:
        runs=f"{TABLE_DIR}/runs.csv",
    output:
        touch("results/logs/check_runs.done"),
    log:
        "results/logs/check_runs.log",
    params:
        allow="--allow-missing" if REPORT.get("allow_missing", False) else "",
    shell:
        'python -m vcon.report.completeness {input.runs} --rerun "$VCON_WORKFLOW_COMMAND" {params.allow} > {log} 2>&1'
        " || {{ status=$?; cat {log} >&2; exit $status; }}"
