# The fetch jobs: functions and tables in rules/common_fetch.smk, the overview in docs/workflow.md.


rule fetch_data:
    """A data set's files into its data directory (the cells' data_root): CIFAR through torchvision, GLUE
    through `datasets`; ImageNet is never downloaded, only looked for. Fails at once, saying what to place
    where, when the files are missing and the source is out of reach."""
    localrule: True
    wildcard_constraints:
        dataset=FETCH_DATASETS,
    output:
        f"{FETCH_DIR}/data/{{dataset}}.json",
    log:
        "results/logs/fetch/data/{dataset}.log",
    params:
        root=lambda wildcards: "" if FETCH_ROOTS.get(wildcards.dataset) is None
        else f"--root {shlex.quote(str(FETCH_ROOTS[wildcards.dataset]))}",
    conda:
        ENVIRONMENT
    shell:
        # On failure, the message (what to place where) goes to the terminal too, not only to the log.
        "python -m vcon fetch {wildcards.dataset} {params.root} --receipt {output} > {log} 2>&1"
        " || {{ status=$?; cat {log} >&2; exit $status; }}"


rule fetch_checkpoint:
    """A hub checkpoint (config, tokenizer files, one set of weights) into the Hugging Face cache of this
    machine (HF_HOME, which the compute nodes must share)."""
    localrule: True
    wildcard_constraints:
        hub_id=r"[^/]+(/[^/]+)?",
    output:
        f"{FETCH_DIR}/checkpoints/{{hub_id}}.json",
    log:
        "results/logs/fetch/checkpoints/{hub_id}.log",
    conda:
        ENVIRONMENT
    shell:
        "python -m vcon fetch checkpoint {wildcards.hub_id:q} --receipt {output} > {log} 2>&1"
        " || {{ status=$?; cat {log} >&2; exit $status; }}"


rule fetch:
    """Everything the grid's cells read, without training: `snakemake fetch` on a login node."""
    localrule: True
    input:
        FETCH_RECEIPTS,
