"""Paper-style tables from runs.csv: accuracy per (model, dataset, compressor) and method with the
gains paired by seed, the beta ablation, and (vcon.report.reference) the authors' numbers.

Values are the test metric x 100, mean +- std (ddof 1) over seeds with n. Gains are VCON minus a
baseline per seed, with the mean and its 95 % interval. Each table is written as tidy CSV (one row
per cell of the table) and as Markdown and LaTeX for reading.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from vcon.atomic import write_text
from vcon.vocabulary import BASELINES, DENSE, DENSE_SCRATCH, METHODS as COMPRESSED, NO_COMPRESSOR, PRETRAIN
from vcon.vocabulary import TITLES as METHOD_TITLES
from vcon.report import catalog, findings, levels, render
from vcon.report.checks import drift_note
from vcon.report.reference import REFERENCE_EXPERIMENT, reference_table, write_reference
from vcon.report.headline import Group, experiments, groups
from vcon.report.options import ReportOptions
from vcon.report.statistics import paired_gain, q_order, summary

GAINS = {f"gain_{method}": method for method in BASELINES}  # gain column -> baseline method
COLUMNS = (DENSE, *COMPRESSED, *GAINS)
TITLES = {**METHOD_TITLES, **{column: f"VCON − {METHOD_TITLES[method]}" for column, method in GAINS.items()}}
SCRATCH_ROW = "dense from scratch"  # the row (column dense-scratch, shown as dense) of what pretraining is worth
GAIN_FIELDS = ["half_width", "median", "iqm", "class", "seeds_needed", "block_a_seeds", "block_a_mean",
               "block_a_class", "block_b_seeds", "block_b_mean", "block_b_class", "replicates"]
TIDY = ["model", "dataset", "metric", "start", "compressor", "column", "q", "selection", "variant", "mean", "std",
        "n", "expected", "low", "high", "excludes_zero", "best", *GAIN_FIELDS]


def _groups(exp: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(start, compressor, its runs) of an experiment's compression runs, in grid order."""
    compressed = exp[exp["compressor"] != NO_COMPRESSOR]
    return [(start, compressor, group)
            for (start, compressor), group in compressed.groupby(["start", "compressor"], sort=False)]


def accuracy_table(runs: pd.DataFrame, options: ReportOptions) -> pd.DataFrame:
    """Tidy rows: one per (model, dataset, compressor, column); a compressor row "dense from scratch"
    where the grid has dense runs from scratch. The iterative column is the headline variant."""
    rows = []
    by_experiment: dict[tuple[str, str], list[Group]] = {}
    for group in groups(runs, options):
        by_experiment.setdefault((group.model, group.dataset), []).append(group)
    for model, dataset, metric in experiments(runs):
        base = {"model": model, "dataset": dataset, "metric": metric, "start": "", "q": "", "selection": "",
                "variant": "", "low": math.nan, "high": math.nan, "excludes_zero": False, "best": False}
        scratch = runs[(runs["model"] == model) & (runs["dataset"] == dataset) & (runs["method"] == DENSE_SCRATCH)]
        if len(scratch):
            rows.append({**base, "compressor": SCRATCH_ROW, "column": DENSE_SCRATCH, **summary(scratch["value"] * 100)})
        for group in by_experiment.get((model, dataset), []):
            rows += _accuracy_row(group, base, options)
    return pd.DataFrame(rows, columns=TIDY)


def _accuracy_row(group: Group, base: dict[str, object], options: ReportOptions) -> list[dict[str, object]]:
    row = {**base, "start": group.start, "compressor": group.compressor}
    parts = {method: group.method(method) for method in (DENSE, *COMPRESSED)}
    cells = []
    for method, frame in parts.items():
        if method != DENSE and frame.empty and not (method == "vcon" and group.q):
            continue  # the method is not in this grid
        info = {"q": group.q, "selection": group.selection} if method == "vcon" else {}
        info = {"variant": group.variant} if method == "iterative" else info
        cells.append({**row, "column": method, **info, **summary(frame["value"] * 100)})
    for column, baseline in GAINS.items():
        if len(parts["vcon"]) and len(parts[baseline]):
            cells.append({**row, "column": column, "q": group.q, "selection": group.selection,
                          "variant": group.variant if baseline == "iterative" else "",
                          **paired_gain(parts["vcon"], parts[baseline], options.interval, options.resamples)})
    compressed = [c for c in cells if c["column"] in COMPRESSED and not math.isnan(c["mean"])]
    top = max((c["mean"] for c in compressed), default=math.nan)
    for c in cells:
        c["best"] = c["column"] in COMPRESSED and c["mean"] == top
    return cells


def ablation_table(runs: pd.DataFrame, schedule: str = "linear") -> pd.DataFrame:
    """Accuracy vs Q (post-shot is Q = 0; sweep shape `schedule`) and vs beta shape at each Q
    run with more than one shape. Tidy rows with axis "q" or "schedule"; best per row marked."""
    rows = []
    for model, dataset, metric in experiments(runs):
        exp = runs[(runs["model"] == model) & (runs["dataset"] == dataset)]
        for start, compressor, of in _groups(exp):
            vcon = of[of["method"] == "vcon"]
            if vcon.empty:
                continue
            base = {"model": model, "dataset": dataset, "metric": metric, "start": start, "compressor": compressor}
            posthoc = of[of["method"] == "posthoc"]
            sweep = [{**base, "axis": "q", "q": "0", "schedule": "post-shot",
                      **summary(posthoc["value"] * 100)}] if len(posthoc) else []
            swept = vcon[vcon["schedule"] == schedule]
            for q in q_order(runs, swept["q"]):
                sweep.append({**base, "axis": "q", "q": q, "schedule": schedule,
                              **summary(swept[swept["q"] == q]["value"] * 100)})
            shapes = []
            for q in q_order(runs, vcon["q"]):
                at_q = vcon[vcon["q"] == q]
                if at_q["schedule"].nunique() > 1:
                    shapes += [{**base, "axis": "schedule", "q": q, "schedule": shape,
                                **summary(group["value"] * 100)}
                               for shape, group in at_q.groupby("schedule", sort=False)]
            for block in (sweep, shapes):
                top = max((c["mean"] for c in block if not math.isnan(c["mean"])), default=math.nan)
                rows += [{**c, "best": c["mean"] == top} for c in block]
    return pd.DataFrame(rows, columns=["model", "dataset", "metric", "start", "compressor", "axis", "q", "schedule",
                                       "mean", "std", "n", "expected", "best"])


def pretraining_note(runs: pd.DataFrame) -> str:
    """One line per pretraining run: the source task and its test metric."""
    lines = []
    for r in runs[runs["method"] == PRETRAIN].itertuples(index=False):
        value = f"test {r.metric} {100 * r.value:.2f}" if not math.isnan(r.value) else f"{r.status}"
        lines.append(f"{r.model} pretrained on {r.dataset} (seed {r.seed}): {value}.")
    return "Pretraining: " + " ".join(lines) if lines else ""


# --- formatting --------------------------------------------------------------------------------

CLASS_RULE = ("the first that applies of 'ahead by more than 1 point' (the interval lies above +1), 'ahead' (above "
              "0), 'behind' (below 0), 'equivalent within ±1 point' (it contains 0 and lies inside [-1, +1]), "
              "'undecided' (none of these).")


def accuracy_note(table: pd.DataFrame, interval_method: str, split: str = "test") -> str:
    vcon = table[table["column"] == "vcon"]
    selections = sorted(set(vcon["selection"]) - {""})
    if selections == ["configured"] and vcon["q"].nunique() == 1:
        which = f"VCON at the configured Q = {vcon['q'].iloc[0]}"
    elif selections == ["configured"]:
        which = "VCON at each model's configured Q (shown per cell)"
    else:
        which = ("VCON at the best Q per model, dataset and compressor, chosen on the final validation "
                 "metric of the compressed model (shown per cell)")
    how = "Student-t" if interval_method == "t" else "BCa bootstrap"
    variants = sorted(set(table.loc[table["column"] == "iterative", "variant"]) - {""})
    iterative = (" Iterative: the variant named in brackets, chosen before the run (the others: iterative.md)."
                 if variants else "")
    scratch = (f" Row '{SCRATCH_ROW}': the dense model trained on the target alone, without the pretrained start "
               f"(what pretraining is worth).") if (table["compressor"] == SCRATCH_ROW).any() else ""
    return (f"{split.capitalize()} metric x 100, mean ± std over seeds (n = seeds with a result / expected). {which}."
            f"{iterative} Gains: VCON minus the baseline per seed (paired), mean [95 % {how} interval] and its class: "
            f"{CLASS_RULE} Bold: best compressed result per row.{scratch}")


def _lead(table: pd.DataFrame) -> list[str]:
    """The label columns of a rendered table: `start` only when the grid has more than one."""
    starts = set(table["start"]) - {""}
    return ["model", "dataset", *(["start"] if len(starts) > 1 else []), "compressor"]


def _accuracy_grid(table: pd.DataFrame, style: str) -> tuple[list[str], list[list[str]]]:
    columns = [c for c in COLUMNS if (table["column"] == c).any()]
    show_q = set(table.loc[table["column"] == "vcon", "selection"]) - {""} != {"configured"} or \
        table.loc[table["column"] == "vcon", "q"].nunique() > 1
    lead = _lead(table)
    header = lead + [TITLES[c] for c in columns]
    body = []
    for keys, group in table.groupby(lead, sort=False):
        row = list(keys) if style == "md" else [render.tex_escape(x) for x in keys]
        for column in columns:
            shown_here = [column, DENSE_SCRATCH] if column == DENSE else [column]  # the scratch row's value
            hit = group[group["column"].isin(shown_here)]
            if hit.empty:
                row.append("")
                continue
            r = hit.iloc[0]
            if column in GAINS:
                text = render.format_gain(r["mean"], r["low"], r["high"], int(r["n"]), int(r["expected"]), r["class"])
            else:
                text = render.format_cell(r["mean"], r["std"], int(r["n"]), int(r["expected"]))
            if column == "vcon" and show_q and r["q"]:
                text += f" [Q={r['q']}]"
            if column == "iterative" and r["variant"]:
                text += f" [{r['variant']}]"
            row.append(render.bold(text, bool(r["best"]), style))
        body.append(row)
    return header, body


def write_accuracy(table: pd.DataFrame, out_dir: Path, options: ReportOptions, footer: str = "") -> None:
    write_text(out_dir / "accuracy.csv", table.to_csv(index=False))
    note = accuracy_note(table, options.interval, options.split) if len(table) else "No runs."
    header, body = _accuracy_grid(table, "md")
    write_text(out_dir / "accuracy.md", f"# Accuracy\n\n{note}\n\n" + render.markdown(header, body)
               + render.md_footer(footer))
    header, body = _accuracy_grid(table, "tex")
    write_text(out_dir / "accuracy.tex", f"% {note}\n" + render.tex(header, body, lead=len(_lead(table)))
               + render.tex_footer(footer))


def table_footer(runs: pd.DataFrame) -> str:
    """Notes for under the tables: the pretraining, runs left out as untrustworthy, environment drift."""
    notes = [pretraining_note(runs)]
    flagged = runs[runs["status"].isin(["invalid", "stale"])] if "status" in runs else runs.iloc[:0]
    if len(flagged):
        shown = "; ".join(f"{r.run} ({r.status})" for r in flagged.head(5).itertuples(index=False))
        more = f"; and {len(flagged) - 5} more" if len(flagged) > 5 else ""
        notes.append(f"Left out (counted as missing): {len(flagged)} run(s) whose metrics cannot be trusted for their "
                     f"cell, see status and problem in runs.csv: {shown}{more}.")
    notes.append(drift_note(runs))
    return "\n\n".join(note for note in notes if note)


def _ablation_label(axis: str, q: str, schedule: str) -> str:
    if axis == "schedule":
        return f"{schedule} @ Q={q}"
    return "post-shot (Q=0)" if schedule == "post-shot" else f"Q={q}"


def _ablation_sections(table: pd.DataFrame, style: str) -> list[tuple[str, list[str], list[list[str]], int]]:
    sections = []
    for axis, title in (("q", "Accuracy vs Q (Q = 0: post-shot)"), ("schedule", "Accuracy vs beta shape")):
        part = table[table["axis"] == axis]
        if part.empty:
            continue
        labels = list(dict.fromkeys(_ablation_label(axis, q, shape)
                                    for q, shape in part[["q", "schedule"]].itertuples(index=False)))
        lead = _lead(part)
        header = lead + labels
        body = []
        for keys, rows in part.groupby(lead, sort=False):
            cells = {_ablation_label(axis, r.q, r.schedule):
                     render.bold(render.format_cell(r.mean, r.std, int(r.n), int(r.expected)), bool(r.best), style)
                     for r in rows.itertuples(index=False)}
            body.append((list(keys) if style == "md" else [render.tex_escape(x) for x in keys])
                        + [cells.get(label, "--") for label in labels])
        sections.append((title, header, body, len(lead)))
    return sections


def write_ablation(table: pd.DataFrame, out_dir: Path, schedule: str, footer: str = "") -> None:
    write_text(out_dir / "ablation.csv", table.to_csv(index=False))
    note = (f"Test metric x 100 of the compressed model, mean ± std over seeds (n). The Q sweep uses the "
            f"{schedule} beta shape. Bold: best per row.")
    md = [f"# Beta ablation\n\n{note}\n"]
    tex = [f"% {note}\n"]
    for title, header, body, _ in _ablation_sections(table, "md"):
        md.append(f"## {title}\n\n" + render.markdown(header, body))
    for title, header, body, lead in _ablation_sections(table, "tex"):
        tex.append(f"% {title}\n" + render.tex(header, body, lead=lead))
    write_text(out_dir / "ablation.md", ("\n".join(md) if len(md) > 1 else md[0] + "\nNo VCON runs.\n")
               + render.md_footer(footer))
    write_text(out_dir / "ablation.tex", "\n".join(tex) + render.tex_footer(footer))


def write_tables(runs: pd.DataFrame, out_dir: str | Path, options: ReportOptions,
                 reference: bool | None = None) -> list[Path]:
    """All tables into `out_dir`; the reference table when asked, or (None) when our runs hold
    the reference experiment."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    accuracy = accuracy_table(runs, options)
    notes = table_footer(runs)
    write_accuracy(accuracy, out, options, notes)
    write_ablation(ablation_table(runs, options.schedule), out, options.schedule, notes)
    findings.write_comparisons(findings.comparisons_table(accuracy), findings.improvement_table(runs, options), out,
                               notes)
    findings.write_iterative(findings.iterative_table(runs, options), out, notes)
    levels.write_levels(levels.size_table(runs, options), levels.damage_table(runs, options), out, notes)
    names = list(catalog.TABLE_NAMES)
    model, dataset = REFERENCE_EXPERIMENT
    if reference is None:
        reference = bool(((runs["model"] == model) & (runs["dataset"] == dataset)).any())
    if reference:
        write_reference(reference_table(runs), out)
        names.append("reference")
    return [out / f"{name}.{ext}" for name in names for ext in ("csv", "md", "tex")] + [
        out / name for name in catalog.EXTRA_TABLE_FILES]
