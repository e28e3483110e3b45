rule train:
    """One cell. Its config (YAML text) is a param, so editing one cell's settings reruns that
    cell only; `vcon train` writes metrics.json last and atomically into the run directory."""
    input:
        init=init_metrics,
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
    threads: lambda wildcards: cell(wildcards).resources["threads"]
    resources:
        mem_mb=lambda wildcards: cell(wildcards).resources["mem_mb"],
        runtime=lambda wildcards: cell(wildcards).resources["runtime"],
        gpu=lambda wildcards: cell(wildcards).resources["gpu"],
    conda:
        ENVIRONMENT
    shell:
        "printf '%s' {params.cell:q} > {output.cell}"
        " && python -m vcon train --config {output.cell} --out {params.out} --quiet > {log} 2>&1"
        f"  # trainer sources {TRAINER_DIGEST}"
