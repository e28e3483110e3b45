"""A stand-in for `vcon train` used by the workflow tests: no torch, a fraction of a second per
cell. It writes a schema-1 metrics.json whose numbers depend only on the cell config."""
from __future__ import annotations

import argparse
import json
import os
import time
import zlib
from pathlib import Path

import yaml

BASE = {"dense": 0.95, "posthoc": 0.80, "iterative": 0.83, "vcon": 0.86}
EPOCHS = 3
STEPS_PER_EPOCH = 10


def steps(length: int | str | None) -> int | None:
    """A length as the trainer records it: "2ep" is 20 steps."""
    return int(length[:-2]) * STEPS_PER_EPOCH if isinstance(length, str) else length


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--fetched", action="append", default=[])


def run(args: argparse.Namespace) -> int:
    config = yaml.safe_load(Path(args.config).read_text())
    method = "dense" if config["compressor"] is None else config["method"]
    noise = (zlib.crc32(json.dumps(config, sort_keys=True).encode()) % 100) / 10000
    accuracy = BASE[method] + noise
    history = [{"epoch": e, "step": STEPS_PER_EPOCH * e, "beta": max(0.0, 1 - e / EPOCHS) if method == "vcon" else 0.0,
                "lr": 1e-3, "train_loss": 1.0 / e, "val_blended": accuracy, "val_compressed": accuracy - 0.1 / e}
               for e in range(1, EPOCHS + 1)]
    metrics = {
        "schema_version": 1,
        "cell": {"model": config["model"], "dataset": config["dataset"],
                 "compressor": config["compressor"]["name"] if config["compressor"] else "none",
                 "method": method, "q": config["q"], "schedule": config["schedule"], "seed": config["seed"]},
        "config": {**config, "q": steps(config["q"]), "iterative_t": steps(config["iterative_t"]),
                   "steps_per_epoch": STEPS_PER_EPOCH},
        "metric": "accuracy",
        "test": {"accuracy": accuracy, "loss": 1 - accuracy},
        "dense_reference": None,
        "history": history,
        "compression": None,
        "timing": {"wall_s": 0.1},
        "environment": {"device": "cpu"},
    }
    out = Path(args.out)
    if os.environ.get("FAKE_TRAIN_LOG"):  # which cells ran (tests/safety: rerun after a kill)
        with open(os.environ["FAKE_TRAIN_LOG"], "a") as log:
            log.write(f"{out}\n")
    time.sleep(float(os.environ.get("FAKE_TRAIN_SLEEP", "0")))
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json.tmp").write_text(json.dumps(metrics))
    os.replace(out / "metrics.json.tmp", out / "metrics.json")
    return 0
