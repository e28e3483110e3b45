rule aggregate:
    """Every metrics.json into runs.csv, machine.csv (timing and environment) and history.csv, then the paper-style tables. The run
    writes the grid's manifest first: runs it expects without a result are reported missing.
    `vcon aggregate` reads the runs under its default --runs, results/runs (RUNS). Runs on the
    machine running Snakemake, also with a cluster executor: seconds of pandas, no queue wait."""
    localrule: True
    input:
        runs=expected_metrics,
        code=AGGREGATE_CODE,
    output:
        cells=f"{TABLE_DIR}/cells.csv",
        runs=report(f"{TABLE_DIR}/runs.csv", caption="../report/runs.rst", category="Tables"),
        machine=f"{TABLE_DIR}/machine.csv",
        history=f"{TABLE_DIR}/history.csv",
        tables=[
            report(path, caption="../report/tables.rst", category="Tables") if path.endswith(".md") else path
            for path in TABLES
        ],
    log:
        f"{LOG_DIR}/aggregate.log",
    params:
        report=report_args(),
    run:
        write_manifest(output.cells)
        shell(
            "python -m vcon aggregate --cells {output.cells} --out $(dirname {output.runs})"
            " {params.report} > {log} 2>&1"
        )
