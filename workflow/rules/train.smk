rule train:
    """One cell. Its config (YAML text) is a param, so editing one cell's settings reruns that
    cell only; `vcon train` writes metrics.json last and atomically into the run directory. A cell
    with gpu > 1 runs data-parallel under torchrun, one process per GPU of one node."""
    wildcard_constraints:
        run=run_ids.TRAIN_RUN,
    input:
        init=init_metrics,
        fetched=fetched_inputs,
    output:
        metrics=f"{RUNS}/{{run}}/metrics.json",
        cell=f"{CELL_CONFIGS}/{{run}}.yaml",
    log:
        "results/logs/train/{run}.log",
    benchmark:
        "results/benchmarks/train/{run}.tsv"
    params:
        cell=lambda wildcards: yaml.safe_dump(cell(wildcards).config, sort_keys=False),
        out=lambda wildcards, output: Path(output.metrics).parent,
        launch=lambda wildcards: train_launcher(cell(wildcards).resources["gpu"]),
        # The trainer checks the fetched files against their receipts before it reads them.
        fetched=lambda wildcards, input: "".join(f" --fetched {shlex.quote(path)}" for path in input.fetched),
    threads: lambda wildcards: cell(wildcards).resources["threads"]
    # From the workflow config (`resources:`); the SLURM plugin turns them into sbatch options.
    # A resource that is None is left out (no gpu_model / constraint unless the config sets one).
    resources:
        mem_mb=lambda wildcards: cell(wildcards).resources["mem_mb"],
        runtime=lambda wildcards, attempt: cell(wildcards).resources["runtime"] * attempt,
        gpu=lambda wildcards: cell(wildcards).resources["gpu"],
        gpu_model=lambda wildcards: cell(wildcards).resources.get("gpu_model") if cell(wildcards).resources["gpu"] else None,
        constraint=lambda wildcards: cell(wildcards).resources.get("constraint"),
        cpus_per_task=lambda wildcards: cell(wildcards).resources.get("cpus_per_task") or cell(wildcards).resources["threads"],
    conda:
        ENVIRONMENT
    shell:
        "printf '%s' {params.cell:q} > {output.cell}"
        " && {params.launch} --config {output.cell} --out {params.out}{params.fetched} --quiet > {log} 2>&1"
        f"  # trainer sources {TRAINER_DIGEST}"


use rule train as pretrain with:
    """A model's pretraining on its source task: a dense cell like any other, seeded and cached; the
    cells of its target datasets start from it and wait for it (a change to it reruns them)."""
    wildcard_constraints:
        run=run_ids.PRETRAIN_RUN,
