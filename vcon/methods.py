"""The ways a cell compresses: post-shot (compress, then fine-tune), the iterative baseline, VCON."""
METHODS = ("posthoc", "iterative", "vcon")
