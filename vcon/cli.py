"""The `vcon` command line. A `vcon train` may hand its cell to a warm worker (vcon.warm); every
other command, and a cell no worker takes, runs here (vcon.commands)."""
from __future__ import annotations

import sys
from pathlib import Path

from vcon import warm
from vcon.commands import run_command


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"] and warm.enabled(Path(__file__).parent):
        from vcon.warm.client import run_warm

        code = run_warm(argv)
        if code is not None:
            return code
    return run_command(argv)


if __name__ == "__main__":
    sys.exit(main())
