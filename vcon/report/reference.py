"""The authors' published numbers, and the table that puts ours beside them."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from vcon.atomic import write_text
from vcon.report import render

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
        for column, ours_column in (("posthoc", "posthoc"), ("vcon", "vcon"), ("gain", "gain_posthoc")):
            row[f"paper_{column}"] = entry[column]
            found = stat(label, ours_column) if label else {"mean": math.nan, "std": math.nan, "n": 0}
            row.update({f"ours_{column}": found["mean"], f"ours_{column}_std": found["std"],
                        f"ours_{column}_n": found["n"]})
        rows.append(row)
    dense = stat(None, "dense")
    rows.append({"compressor": "dense (no compression)", "ours_label": "none", "ours_q": "",
                 "paper_posthoc": PAPER_DENSE, "ours_posthoc": dense["mean"], "ours_posthoc_std": dense["std"],
                 "ours_posthoc_n": dense["n"]})
    return pd.DataFrame(rows)


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
            return render.format_cell(r[f"ours_{column}"], r[f"ours_{column}_std"], n, n, signed)

        paper = [f"{r['paper_posthoc']:.2f}", "" if dense else f"{r['paper_vcon']:.2f}",
                 "" if dense else f"{r['paper_gain']:+.2f}"]
        label = r["ours_label"] + (f" (Q={r['ours_q']})" if r["ours_q"] else "")
        body.append([r["compressor"], *paper, label, ours("posthoc"), ours("vcon"), ours("gain", True)])
    write_text(out_dir / "reference.md", f"# Reference: the authors' numbers beside ours\n\n{note}\n\n"
                                          + render.markdown(header, body))
    write_text(out_dir / "reference.tex", f"% {note}\n" + render.tex(header, [[render.tex_escape(c) for c in row]
                                                                                for row in body], lead=1))
