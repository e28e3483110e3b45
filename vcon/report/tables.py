"""Paper-style tables from runs.csv: accuracy per compressor and method, the beta ablation, and
the authors' published numbers beside ours.

Values are the test metric x 100, mean +- std (ddof 1) over seeds with n. Each table is written
as tidy CSV (one row per cell of the table) and as Markdown and LaTeX for reading.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from vcon.atomic import write_text
from vcon.report.checks import drift_note

METHODS = ("dense", "posthoc", "iterative", "vcon", "gain")
TITLES = {"dense": "dense", "posthoc": "post-shot", "iterative": "iterative", "vcon": "VCON",
          "gain": "gain vs post-shot"}
COMPRESSED = ("posthoc", "iterative", "vcon")
BEST_Q = "best"

# The authors' own demo runs: ViT-T/16 on CIFAR-10, one seed (42), 60 epochs, Q = 12 epochs;
# validation accuracy (%) at epoch 60, read from the TensorBoard logs in the authors' repository
# (github.com/Foros15/vanishing-contributions) for arXiv 2510.09696.
REFERENCE_EXPERIMENT = ("vit-tiny", "cifar10")
REFERENCE_Q = "12ep"
PAPER_DENSE = 98.14
PAPER_REFERENCE = (
    {"label": "pruning 90 %, per layer", "spec": {"name": "prune", "sparsity": 0.9, "granularity": "layer"},
     "posthoc": 90.62, "vcon": 94.52, "gain": 3.90},
    {"label": "binary weights", "spec": {"name": "binary"}, "posthoc": 90.82, "vcon": 95.68, "gain": 4.86},
    {"label": "low rank, r = 16", "spec": {"name": "lowrank", "rank": 16}, "posthoc": 83.34, "vcon": 88.08,
     "gain": 4.74},
)


# --- choosing the VCON column ------------------------------------------------------------------

def parse_headline(values: Sequence[str] | None) -> dict[str, str]:
    """["12ep"] or ["default=12ep", "bert-base=2ep"] -> {"default": "12ep", "bert-base": "2ep"}."""
    headline = {"default": BEST_Q}
    for value in values or []:
        model, sep, q = value.rpartition("=")
        headline[model if sep else "default"] = q.strip()
    return headline


def q_order(runs: pd.DataFrame, q_values: Iterable[str]) -> list[str]:
    """Q labels sorted by their length in steps (from the resolved configs), else by the label."""
    steps = pd.to_numeric(runs.get("config.q", pd.Series(dtype=float)), errors="coerce")
    by_label = steps.groupby(runs["q"]).median() if "config.q" in runs else pd.Series(dtype=float)

    def key(q: str) -> tuple[float, bool, float]:
        epochs = q.endswith("ep")
        number = float(q[:-2] if epochs else q or 0)
        measured = by_label.get(q, math.nan)
        return (measured if not math.isnan(measured) else math.inf, epochs, number)

    return sorted(set(q_values), key=key)


def choose_vcon(runs: pd.DataFrame, headline: dict[str, str], schedule: str) -> pd.DataFrame:
    """The Q of the VCON column per (model, dataset, compressor): the configured one, or with
    "best" the Q whose mean final validation metric (compressed model) is highest."""
    vcon = runs[(runs["method"] == "vcon") & (runs["schedule"] == schedule)]
    rows = []
    for (model, dataset, compressor), group in vcon.groupby(["model", "dataset", "compressor"], sort=False):
        wanted = headline.get(model, headline.get("default", BEST_Q))
        if wanted != BEST_Q:
            rows.append((model, dataset, compressor, wanted, "configured"))
            continue
        score = group["val_final"].where(group["val_final"].notna(), group["value"])
        means = score.groupby(group["q"]).mean().dropna()
        if means.empty:
            continue
        rows.append((model, dataset, compressor, means.idxmax(), "best on validation"))
    return pd.DataFrame(rows, columns=["model", "dataset", "compressor", "q", "selection"])


# --- statistics --------------------------------------------------------------------------------

def summary(values: pd.Series) -> dict[str, float]:
    """mean, std (ddof 1; NaN for one value), n (values present), expected (rows)."""
    present = values.dropna()
    return {"mean": present.mean() if len(present) else math.nan,
            "std": present.std(ddof=1) if len(present) > 1 else math.nan,
            "n": len(present), "expected": len(values)}


def paired_differences(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    """a - b per seed, for the seeds present in both (values x 100)."""
    left = a.set_index("seed")["value"]
    right = b.set_index("seed")["value"]
    seeds = left.index.intersection(right.index)
    return (left[seeds] - right[seeds]) * 100


def bootstrap_ci(values: Sequence[float], resamples: int = 10000, level: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; a single value gives a zero-width interval."""
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if data.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = rng.choice(data, size=(resamples, data.size), replace=True).mean(axis=1)
    tail = (1 - level) / 2 * 100
    return float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


# --- the tables --------------------------------------------------------------------------------

def _experiments(runs: pd.DataFrame) -> list[tuple[str, str, str]]:
    out = []
    for (model, dataset), group in runs.groupby(["model", "dataset"], sort=False):
        metrics = group["metric"].replace("", np.nan).dropna() if "metric" in group else pd.Series()
        out.append((model, dataset, metrics.iloc[0] if len(metrics) else "accuracy"))
    return out


def _compressors(runs: pd.DataFrame) -> list[str]:
    return [c for c in runs["compressor"].drop_duplicates() if c != "none"]


def accuracy_table(runs: pd.DataFrame, headline: dict[str, str], schedule: str = "linear") -> pd.DataFrame:
    """Tidy rows: one per (model, dataset, compressor, column) with mean, std, n and `best`."""
    choice = choose_vcon(runs, headline, schedule)
    rows = []
    for model, dataset, metric in _experiments(runs):
        exp = runs[(runs["model"] == model) & (runs["dataset"] == dataset)]
        dense = exp[exp["method"] == "dense"]
        for compressor in _compressors(exp):
            of = exp[exp["compressor"] == compressor]
            picked = choice[(choice["model"] == model) & (choice["dataset"] == dataset)
                            & (choice["compressor"] == compressor)]
            q, selection = (picked.iloc[0]["q"], picked.iloc[0]["selection"]) if len(picked) else ("", "")
            parts = {
                "dense": dense,
                "posthoc": of[of["method"] == "posthoc"],
                "iterative": of[of["method"] == "iterative"],
                "vcon": of[(of["method"] == "vcon") & (of["schedule"] == schedule) & (of["q"] == q)],
            }
            base = {"model": model, "dataset": dataset, "metric": metric, "compressor": compressor}
            cells = []
            for method, frame in parts.items():
                if method != "dense" and frame.empty and not (method == "vcon" and q):
                    continue  # the method is not in this grid
                cells.append({**base, "column": method, "q": q if method == "vcon" else "",
                              "selection": selection if method == "vcon" else "",
                              **summary(frame["value"] * 100)})
            if len(parts["vcon"]) and len(parts["posthoc"]):
                gain = paired_differences(parts["vcon"], parts["posthoc"])
                cells.append({**base, "column": "gain", "q": q, "selection": selection,
                              **summary(gain), "expected": min(len(parts["vcon"]), len(parts["posthoc"]))})
            compressed = [c for c in cells if c["column"] in COMPRESSED and not math.isnan(c["mean"])]
            top = max((c["mean"] for c in compressed), default=math.nan)
            for c in cells:
                c["best"] = c["column"] in COMPRESSED and c["mean"] == top
            rows += cells
    return pd.DataFrame(rows, columns=["model", "dataset", "metric", "compressor", "column", "q", "selection",
                                       "mean", "std", "n", "expected", "best"])


def ablation_table(runs: pd.DataFrame, schedule: str = "linear") -> pd.DataFrame:
    """Accuracy vs Q (post-shot is Q = 0; sweep shape `schedule`) and vs beta shape at each Q
    run with more than one shape. Tidy rows with axis "q" or "schedule"; best per row marked."""
    rows = []
    for model, dataset, metric in _experiments(runs):
        exp = runs[(runs["model"] == model) & (runs["dataset"] == dataset)]
        for compressor in _compressors(exp):
            of = exp[exp["compressor"] == compressor]
            vcon = of[of["method"] == "vcon"]
            if vcon.empty:
                continue
            base = {"model": model, "dataset": dataset, "metric": metric, "compressor": compressor}
            sweep = [{**base, "axis": "q", "q": "0", "schedule": "post-shot",
                      **summary(of[of["method"] == "posthoc"]["value"] * 100)}] if (of["method"] == "posthoc").any() else []
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
    return pd.DataFrame(rows, columns=["model", "dataset", "metric", "compressor", "axis", "q", "schedule",
                                       "mean", "std", "n", "expected", "best"])


def _matches(spec_text: str, wanted: dict) -> bool:
    try:
        spec = json.loads(spec_text) if spec_text else {}
    except ValueError:
        return False
    return all(spec.get(key) == value for key, value in wanted.items())


def reference_table(runs: pd.DataFrame, accuracy: pd.DataFrame) -> pd.DataFrame:
    """The authors' ViT-T/CIFAR-10 numbers beside ours (same compressor spec; our VCON column)."""
    model, dataset = REFERENCE_EXPERIMENT
    exp = runs[(runs["model"] == model) & (runs["dataset"] == dataset)]
    ours = accuracy[(accuracy["model"] == model) & (accuracy["dataset"] == dataset)]

    def stat(compressor: str | None, column: str) -> dict[str, float]:
        hit = ours[(ours["column"] == column) & ((ours["compressor"] == compressor) if compressor else True)]
        if hit.empty:
            return {"mean": math.nan, "std": math.nan, "n": 0}
        return {"mean": hit.iloc[0]["mean"], "std": hit.iloc[0]["std"], "n": int(hit.iloc[0]["n"])}

    rows = []
    for entry in PAPER_REFERENCE:
        labels = exp[exp["compressor_spec"].map(lambda s: _matches(s, entry["spec"]))]["compressor"].unique()
        label = labels[0] if len(labels) else None
        q = ours[(ours["compressor"] == label) & (ours["column"] == "vcon")]["q"]
        row = {"compressor": entry["label"], "ours_label": label or "", "ours_q": q.iloc[0] if len(q) else ""}
        for column in ("posthoc", "vcon", "gain"):
            row[f"paper_{column}"] = entry[column]
            found = stat(label, column) if label else {"mean": math.nan, "std": math.nan, "n": 0}
            row.update({f"ours_{column}": found["mean"], f"ours_{column}_std": found["std"],
                        f"ours_{column}_n": found["n"]})
        rows.append(row)
    dense = stat(None, "dense")
    rows.append({"compressor": "dense (no compression)", "ours_label": "none", "ours_q": "",
                 "paper_posthoc": PAPER_DENSE, "ours_posthoc": dense["mean"], "ours_posthoc_std": dense["std"],
                 "ours_posthoc_n": dense["n"]})
    return pd.DataFrame(rows)


# --- formatting --------------------------------------------------------------------------------

def format_cell(mean: float, std: float, n: int, expected: int, signed: bool = False) -> str:
    if not n:
        return "missing" if expected else "--"
    text = f"{mean:+.2f}" if signed else f"{mean:.2f}"
    if not math.isnan(std):
        text += f" ± {std:.2f}"
    count = f"n={n}" if n == expected else f"n={n}/{expected}"
    return f"{text} ({count})"


def _markdown(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def _tex_escape(text: str) -> str:
    for char, escaped in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                          ("#", r"\#"), ("±", r"$\pm$")):
        text = text.replace(char, escaped)
    return text


def _tex(header: list[str], body: list[list[str]], groups: list[tuple[str, int]] | None = None) -> str:
    """booktabs tabular; `groups` spans titled column groups over the last columns."""
    lead = len(header) - sum(n for _, n in groups or [])
    lines = [r"\begin{tabular}{" + "l" * lead + "r" * (len(header) - lead) + "}", r"\toprule"]
    if groups:
        spans = " & ".join(rf"\multicolumn{{{n}}}{{c}}{{{_tex_escape(g)}}}" for g, n in groups)
        lines.append(" & " * lead + spans + r" \\")
    lines.append(" & ".join(_tex_escape(h) for h in header) + r" \\")
    lines.append(r"\midrule")
    lines += [" & ".join(row) + r" \\" for row in body]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def _bold(text: str, best: bool, style: str) -> str:
    if not best:
        return text if style == "md" else _tex_escape(text)
    return f"**{text}**" if style == "md" else rf"\textbf{{{_tex_escape(text)}}}"


def accuracy_note(table: pd.DataFrame) -> str:
    vcon = table[table["column"] == "vcon"]
    selections = sorted(set(vcon["selection"]) - {""})
    if selections == ["configured"] and vcon["q"].nunique() == 1:
        which = f"VCON at the configured Q = {vcon['q'].iloc[0]}"
    elif selections == ["configured"]:
        which = "VCON at each model's configured Q (shown per cell)"
    else:
        which = ("VCON at the best Q per model, dataset and compressor, chosen on the final validation "
                 "metric of the compressed model (shown per cell)")
    return (f"Test metric x 100, mean ± std over seeds (n = seeds with a result / expected). {which}. "
            "Gain = VCON - post-shot, paired by seed. Bold: best compressed result per compressor.")


def _accuracy_grid(table: pd.DataFrame, style: str) -> tuple[list[str], list[list[str]], list[tuple[str, int]]]:
    compressors = list(dict.fromkeys(table["compressor"]))
    columns = {c: [m for m in METHODS if ((table["compressor"] == c) & (table["column"] == m)).any()]
               for c in compressors}
    show_q = set(table.loc[table["column"] == "vcon", "selection"]) != {"configured"} or \
        table.loc[table["column"] == "vcon", "q"].nunique() > 1
    header = ["model", "dataset", "metric"]
    groups = []
    for c in compressors:
        header += [TITLES[m] if style == "tex" else f"{c}: {TITLES[m]}" for m in columns[c]]
        groups.append((c, len(columns[c])))
    body = []
    for (model, dataset, metric), exp in table.groupby(["model", "dataset", "metric"], sort=False):
        row = [model, dataset, metric] if style == "md" else [_tex_escape(x) for x in (model, dataset, metric)]
        for c in compressors:
            for m in columns[c]:
                hit = exp[(exp["compressor"] == c) & (exp["column"] == m)]
                if hit.empty:
                    row.append("--")
                    continue
                r = hit.iloc[0]
                text = format_cell(r["mean"], r["std"], int(r["n"]), int(r["expected"]), signed=m == "gain")
                if m == "vcon" and show_q and r["q"]:
                    text += f" [Q={r['q']}]"
                row.append(_bold(text, bool(r["best"]), style))
        body.append(row)
    return header, body, groups


def write_accuracy(table: pd.DataFrame, out_dir: Path, footer: str = "") -> None:
    write_text(out_dir / "accuracy.csv", table.to_csv(index=False))
    note = accuracy_note(table) if len(table) else "No compressed runs."
    header, body, _ = _accuracy_grid(table, "md")
    write_text(out_dir / "accuracy.md", f"# Accuracy\n\n{note}\n\n" + _markdown(header, body) + _md_footer(footer))
    header, body, groups = _accuracy_grid(table, "tex")
    write_text(out_dir / "accuracy.tex", f"% {note}\n" + _tex(header, body, groups) + _tex_footer(footer))


def _md_footer(footer: str) -> str:
    return f"\n{footer}\n" if footer else ""


def _tex_footer(footer: str) -> str:
    return "".join(f"% {line}\n" for line in footer.splitlines())


def table_footer(runs: pd.DataFrame) -> str:
    """Notes for under the tables: runs left out as untrustworthy, and environment drift."""
    notes = []
    flagged = runs[runs["status"].isin(["invalid", "stale"])] if "status" in runs else runs.iloc[:0]
    if len(flagged):
        shown = "; ".join(f"{r.run} ({r.status})" for r in flagged.head(5).itertuples(index=False))
        more = f"; and {len(flagged) - 5} more" if len(flagged) > 5 else ""
        notes.append(f"Left out (counted as missing): {len(flagged)} run(s) whose metrics cannot be trusted for their "
                     f"cell, see status and problem in runs.csv: {shown}{more}.")
    drift = drift_note(runs)
    if drift:
        notes.append(drift)
    return "\n\n".join(notes)


def _ablation_label(axis: str, q: str, schedule: str) -> str:
    if axis == "schedule":
        return f"{schedule} @ Q={q}"
    return "post-shot (Q=0)" if schedule == "post-shot" else f"Q={q}"


def _ablation_sections(table: pd.DataFrame, style: str) -> list[tuple[str, list[str], list[list[str]]]]:
    sections = []
    for axis, title in (("q", "Accuracy vs Q (Q = 0: post-shot)"), ("schedule", "Accuracy vs beta shape")):
        part = table[table["axis"] == axis]
        if part.empty:
            continue
        keys = ["q", "schedule"]
        labels = list(dict.fromkeys(_ablation_label(axis, q, s) for q, s in part[keys].itertuples(index=False)))
        header = ["model", "dataset", "compressor"] + labels
        body = []
        for (model, dataset, compressor), rows in part.groupby(["model", "dataset", "compressor"], sort=False):
            cells = {_ablation_label(axis, r.q, r.schedule):
                     _bold(format_cell(r.mean, r.std, int(r.n), int(r.expected)), bool(r.best), style)
                     for r in rows.itertuples(index=False)}
            lead = [model, dataset, compressor]
            body.append((lead if style == "md" else [_tex_escape(x) for x in lead])
                        + [cells.get(label, "--") for label in labels])
        sections.append((title, header, body))
    return sections


def write_ablation(table: pd.DataFrame, out_dir: Path, schedule: str, footer: str = "") -> None:
    write_text(out_dir / "ablation.csv", table.to_csv(index=False))
    note = (f"Test metric x 100 of the compressed model, mean ± std over seeds (n). The Q sweep uses the "
            f"{schedule} beta shape. Bold: best per row.")
    md = [f"# Beta ablation\n\n{note}\n"]
    tex = [f"% {note}\n"]
    for title, header, body in _ablation_sections(table, "md"):
        md.append(f"## {title}\n\n" + _markdown(header, body))
    for title, header, body in _ablation_sections(table, "tex"):
        tex.append(f"% {title}\n" + _tex(header, body))
    write_text(out_dir / "ablation.md", ("\n".join(md) if len(md) > 1 else md[0] + "\nNo VCON runs.\n")
               + _md_footer(footer))
    write_text(out_dir / "ablation.tex", "\n".join(tex) + _tex_footer(footer))


def write_reference(table: pd.DataFrame, out_dir: Path) -> None:
    write_text(out_dir / "reference.csv", table.to_csv(index=False))
    note = ("Paper: the authors' demo (ViT-T/16, CIFAR-10, one seed, 60 epochs, Q = 12 epochs), validation "
            "accuracy (%) at epoch 60 from the TensorBoard logs in their repository (arXiv 2510.09696). Ours: "
            "test accuracy x 100, mean ± std over seeds (n), VCON at the Q shown.")
    header = ["compressor", "paper post-shot", "paper VCON", "paper gain", "ours", "ours post-shot",
              "ours VCON", "ours gain"]
    body = []
    for r in table.to_dict("records"):
        dense = r["ours_label"] == "none"

        def ours(column: str, signed: bool = False) -> str:
            n = r.get(f"ours_{column}_n")
            n = 0 if n is None or n != n else int(n)
            if dense and column != "posthoc":
                return ""
            if not n:
                return "not run"
            return format_cell(r[f"ours_{column}"], r[f"ours_{column}_std"], n, n, signed)

        paper = [f"{r['paper_posthoc']:.2f}", "" if dense else f"{r['paper_vcon']:.2f}",
                 "" if dense else f"{r['paper_gain']:+.2f}"]
        label = r["ours_label"] + (f" (Q={r['ours_q']})" if r["ours_q"] else "")
        body.append([r["compressor"], *paper, label, ours("posthoc"), ours("vcon"), ours("gain", True)])
    write_text(out_dir / "reference.md", f"# Reference: the authors' numbers beside ours\n\n{note}\n\n"
                                          + _markdown(header, body))
    write_text(out_dir / "reference.tex", f"% {note}\n" + _tex(header, [[_tex_escape(c) for c in row]
                                                                          for row in body]))


def write_tables(runs: pd.DataFrame, out_dir: str | Path, headline: dict[str, str], schedule: str = "linear",
                 reference: bool | None = None) -> list[Path]:
    """All tables into `out_dir`; the reference table when asked, or (None) when our runs hold
    the reference experiment."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    accuracy = accuracy_table(runs, headline, schedule)
    notes = table_footer(runs)
    write_accuracy(accuracy, out, notes)
    write_ablation(ablation_table(runs, schedule), out, schedule, notes)
    names = ["accuracy", "ablation"]
    model, dataset = REFERENCE_EXPERIMENT
    if reference is None:
        reference = bool(((runs["model"] == model) & (runs["dataset"] == dataset)).any())
    if reference:
        write_reference(reference_table(runs, accuracy), out)
        names.append("reference")
    return [out / f"{name}.{ext}" for name in names for ext in ("csv", "md", "tex")]
