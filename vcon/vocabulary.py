"""The words a run is named and recorded with, each spelled once: the trainer, the grid, the workflow's
schema, metrics.json and the report all read them from here. Imports nothing."""

# How a cell compresses: post-shot (compress, then fine-tune), the iterative baseline, VCON.
POSTHOC, ITERATIVE, VCON = "posthoc", "iterative", "vcon"
METHODS = (POSTHOC, ITERATIVE, VCON)
BASELINES = (POSTHOC, ITERATIVE)  # what VCON is compared against, paired by seed
# Dense runs: the source-task pretraining, the dense fine-tuning, and dense training from scratch.
# The trainer records each of them as DENSE; the grid's run ids tell them apart.
PRETRAIN, DENSE, DENSE_SCRATCH = "pretrain", "dense", "dense-scratch"
DENSE_METHODS = (PRETRAIN, DENSE, DENSE_SCRATCH)
NO_COMPRESSOR = "none"  # the compressor of a dense run, in metrics.json and the report's tables
TITLES = {DENSE: "dense", POSTHOC: "post-shot", ITERATIVE: "iterative", VCON: "VCON"}  # in tables and figures
# Where compression cells start: the pretrained model (the pretraining, else training.init: the
# authors' demo), or the dense run fine-tuned on the task (their research script).
PRETRAINED, FINETUNED = "pretrained", "finetuned"
STARTS = (PRETRAINED, FINETUNED)
# The original branch of a blended layer: the layer's own weights, a frozen view of them, or a copy.
ORIGINALS = ("shared", "frozen", "copy")
# The 95 % interval of the paired gains: Student-t, or BCa bootstrap.
INTERVALS = ("t", "bca")
# What the tables show: the test metric, or the final validation metric (a pilot's choice of design).
SPLITS = ("test", "validation")
