# The last job: no run the grid expects may be unusable (docs/workflow.md, "Damaged runs and the last
# check"). Damaged finished runs are moved aside before the jobs are planned: rules/common.smk.


rule check_runs:
    """Fails the workflow while a run the grid expects is missing, invalid or stale in runs.csv (the tables
    count it as missing), listing them and the one command that reruns exactly them; report.allow_missing:
    true lists them and passes. A rule of its own after aggregate: its failure deletes no table."""
    localrule: True
    input:
        runs=f"{TABLE_DIR}/runs.csv",
    output:
        touch(f"{LOG_DIR}/check_runs.done"),
    log:
        f"{LOG_DIR}/check_runs.log",
    params:
        allow="--allow-missing" if REPORT.get("allow_missing", False) else "",
    conda:
        ENVIRONMENT
    shell:
        'python -m vcon.report.completeness {input.runs} --rerun "$VCON_WORKFLOW_COMMAND" {params.allow} > {log} 2>&1'
        " || {{ status=$?; cat {log} >&2; exit $status; }}"
