"""Warm start for `vcon train`: cells run in processes forked from a worker that has already
imported torch, timm and transformers, instead of each paying those imports (5-7 s) again.

Opt-in with VCON_WARM=1 (the workflow sets it for local runs). The first `vcon train` starts the
worker; it serves every later one of the same sources, interpreter and thread settings, and exits
after IDLE_SECONDS without a request. Any problem before the cell starts falls back to running in
the calling process, so a warm start can change how fast a cell starts, never what it computes.

Only the standard library is imported here: the client must stay cheap.
"""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

ENABLE_VARIABLE = "VCON_WARM"
IDLE_SECONDS = 120.0
PACKAGE_DIR = Path(__file__).resolve().parents[1]
# Variables that the interpreter or a preloaded library may read once, at start-up (thread pools,
# hash seed, devices, Hugging Face cache and offline switches): a worker serves only callers whose
# values of all of them equal its own.
STARTUP_PREFIXES = ("PYTHON", "OMP_", "MKL_", "KMP_", "OPENBLAS_", "CUDA_", "TORCH", "PYTORCH_", "HF_",
                    "HUGGINGFACE_", "TRANSFORMERS_", "TIMM_", "XDG_CACHE_HOME")
# Set by torchrun: distributed cells start in their own processes.
DISTRIBUTED_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE")


def enabled(caller_package: Path, environ: Mapping[str, str] = os.environ) -> bool:
    """Asked for, not under torchrun, and the worker would run the caller's own package (not another
    copy of vcon that happens to be importable too)."""
    return (environ.get(ENABLE_VARIABLE) == "1" and not any(v in environ for v in DISTRIBUTED_VARIABLES)
            and caller_package.resolve() == PACKAGE_DIR)


def worker_key(package_dir: Path = PACKAGE_DIR, environ: Mapping[str, str] = os.environ) -> str:
    """Names the worker that may run this caller's cells: same package sources (so an edit starts a
    new worker), same interpreter, same start-up variables."""
    digest = hashlib.sha256()
    for part in (sys.executable, sys.version, str(package_dir)):
        digest.update(part.encode() + b"\0")
    for name in sorted(n for n in environ if n.startswith(STARTUP_PREFIXES)):
        digest.update(f"{name}={environ[name]}".encode() + b"\0")
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(str(path.relative_to(package_dir)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:20]


def socket_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"vcon-warm-{os.getuid()}"


class NoWarmStart(Exception):
    """No worker can take the cell; the caller runs it itself."""


def private_dir() -> Path:
    """The socket folder, created 0700; NoWarmStart when it exists but others could reach into it."""
    folder = socket_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise NoWarmStart(f"{folder} is open to other users")
    return folder
