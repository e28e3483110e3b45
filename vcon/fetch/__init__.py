"""`vcon fetch`: download, once, what the grid's cells read from disk (CIFAR, GLUE, hub checkpoints), on the
machine that runs Snakemake, so that compute nodes without network find it there.

`plan` says what a cell needs, from the registries, without importing torch; `sources` checks for,
and downloads, each kind; `cli` is the sub-command.
"""
