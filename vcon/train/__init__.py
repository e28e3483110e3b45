"""The shared trainer: `vcon train` runs one cell and writes its metrics."""
