# One job per figure, each writing PNG and PDF. The data figures read the aggregated tables; the
# schedules figure reads vcon/schedules.py only. Inputs are named after `vcon plot` options.
FIGURES = {
    "beta_ablation": {"runs": f"{TABLE_DIR}/runs.csv"},
    "transition_curves": {"runs": f"{TABLE_DIR}/runs.csv", "history": f"{TABLE_DIR}/history.csv"},
    "gains": {"runs": f"{TABLE_DIR}/runs.csv"},
    "schedules": {"schedules": source("vcon/schedules.py")},
}
FIGURE_FILES = [f"{FIGURE_DIR}/{name}.{ext}" for name in FIGURES for ext in ("png", "pdf")]

for figure, figure_inputs in FIGURES.items():

    rule:
        name:
            f"figure_{figure}"
        localrule: True  # seconds of matplotlib: never worth a cluster job
        input:
            **figure_inputs,
            code=PLOT_CODE,
        output:
            png=report(f"{FIGURE_DIR}/{figure}.png", caption=f"../report/{figure}.rst", category="Figures"),
            pdf=f"{FIGURE_DIR}/{figure}.pdf",
        log:
            f"results/logs/figures/{figure}.log",
        params:
            report=report_args(),
            figure=figure,
        conda:
            ENVIRONMENT
        shell:
            "python -m vcon plot --figure {params.figure} --out $(dirname {output.png})"
            + "".join(f" --{key} {{input.{key}}}" for key in figure_inputs if key != "schedules")
            + " {params.report} > {log} 2>&1"
