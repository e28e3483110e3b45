"""`python -m vcon.grid CONFIG [--list]`: check a workflow config and count or list its cells."""
from __future__ import annotations

import argparse
import sys

from vcon.grid.cells import GridError
from vcon.grid.validate import load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vcon.grid", description="count or list a config's cells")
    parser.add_argument("config", help="workflow config (YAML)")
    parser.add_argument("--list", action="store_true", help="print every run directory")
    args = parser.parse_args(argv)
    try:
        grid = load(args.config)
    except GridError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.list:
        for cell in grid.cells.values():
            print(cell.run_dir())
    counts = ", ".join(f"{method} {n}" for method, n in grid.counts().items())
    print(f"{len(grid)} cells ({counts})", file=sys.stderr if args.list else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
