"""An example plugin of vcon-bench: the `random-prune` compressor and the `bars` dataset."""
