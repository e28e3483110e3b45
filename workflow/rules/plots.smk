# One job per figure, each writing PNG and PDF. The data figures read the aggregated tables; the
# schedules figure reads vcon/schedules.py only. Inputs are named after `vcon plot` options.
TABLE_FILES = {"runs": f"{TABLE_DIR}/runs.csv", "history": f"{TABLE_DIR}/history.csv"}
FIGURES = {
    figure: {key: TABLE_FILES[key] for key in catalog.FIGURE_INPUTS[figure]} or {"schedules": source("vcon/schedules.py")}
    for figure in REPORT.get("figures", catalog.DEFAULT_FIGURES)
}
FIGURE_FILES = [f"{catalog.figure_stem(STUDY, name)}.{ext}" for name in FIGURES for ext in ("png", "pdf")]

for figure, figure_inputs in FIGURES.items():

    rule:
        name:
            f"figure_{figure}"
        localrule: True  # seconds of matplotlib: never worth a cluster job
        input:
            **figure_inputs,
            code=PLOT_CODE,
        output:
            png=report(f"{catalog.figure_stem(STUDY, figure)}.png", caption=f"../report/{figure}.rst",
                       category="Figures"),
            pdf=f"{catalog.figure_stem(STUDY, figure)}.pdf",
        log:
            f"{LOG_DIR}/figures/{figure}.log",
        params:
            report=report_args(),
            figure=figure,
        conda:
            ENVIRONMENT
        shell:
            "python -m vcon plot --figure {params.figure} --out $(dirname {output.png})"
            + (f" --prefix {STUDY}_" if STUDY else "")
            + "".join(f" --{key} {{input.{key}}}" for key in figure_inputs if key != "schedules")
            + " {params.report} > {log} 2>&1"
