"""`vcon bench`: step time and peak memory of dense, post-shot, VCON-transition, after-Q and
iterative fine-tuning, measured side by side in one process, plus exported inference and stored size."""
