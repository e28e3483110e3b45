"""What a study's report can hold, named once without pandas or matplotlib, so that the workflow and
its schema can read it: the figures (with the tables each one reads) and the tables."""
from __future__ import annotations

# figure -> the `vcon aggregate` outputs it reads (the schedules figure reads vcon/schedules.py only)
FIGURE_INPUTS: dict[str, tuple[str, ...]] = {
    "beta_ablation": ("runs",),
    "transition_curves": ("runs", "history"),
    "gains": ("runs",),
    "beta_shapes": ("runs",),
    "schedules": (),
    "accuracy_vs_size": ("runs",),
    "gain_vs_damage": ("runs",),
}
DEFAULT_FIGURES = ("beta_ablation", "transition_curves", "gains", "schedules")
# each as .csv, .md and .tex; and reference, for the authors' experiment
TABLE_NAMES = ("accuracy", "ablation", "comparisons", "iterative", "size", "damage")
EXTRA_TABLE_FILES = ("improvement.csv", "damage_fit.csv")


def table_dir(study: str | None) -> str:
    """Where a study's tables go: results/tables for the default study, results/<study>/tables else."""
    return f"results/{study}/tables" if study else "results/tables"


def figure_stem(study: str | None, figure: str) -> str:
    """A study's figure file without its extension: figures/<figure>, or figures/<study>_<figure>."""
    return f"figures/{study}_{figure}" if study else f"figures/{figure}"
