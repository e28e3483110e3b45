"""The workflow's last check, after `vcon aggregate`: is every run the grid expects usable?

    python -m vcon.report.completeness results/tables/runs.csv --rerun "snakemake ..." [--allow-missing]

Runs of runs.csv with another status than ok (missing, invalid, stale: the tables count them as
missing) are listed with one command that reruns exactly them: `--rerun` (the command the workflow
was started with) plus `--forcerun` and their metrics.json. Exit 1 when there are any, unless
`--allow-missing` (the workflow config's report.allow_missing), which lists them and exits 0.
"""
from __future__ import annotations

import argparse
import shlex
import sys

from vcon.run_ids import RUNS_ROOT
from vcon.report.collect import read_runs
from vcon.run_record import METRICS_FILE

SHOWN = 20


def report(runs_csv: str, rerun: str, allow_missing: bool) -> tuple[int, str]:
    """(exit code, message) for the runs in `runs_csv`."""
    runs = read_runs(runs_csv)
    unusable = runs[runs["status"] != "ok"]
    if unusable.empty:
        return 0, f"all {len(runs)} runs the grid expects are usable"
    lines = [f"{len(unusable)} of {len(runs)} runs the grid expects are not usable (the tables count them as missing):"]
    lines += [f"  {row.status}: {row.run} ({row.problem})" for row in unusable.head(SHOWN).itertuples(index=False)]
    if len(unusable) > SHOWN:
        lines.append(f"  and {len(unusable) - SHOWN} more (column status of {runs_csv})")
    targets = [f"{RUNS_ROOT}/{run}/{METRICS_FILE}" for run in unusable["run"]]
    lines.append(f"Rerun exactly them: {rerun} --forcerun {shlex.join(targets)}")
    if allow_missing:
        lines.append("report.allow_missing is true: the workflow goes on with these gaps.")
        return 0, "\n".join(lines)
    lines.append("Or accept these gaps: set report.allow_missing: true in the workflow config.")
    return 1, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vcon.report.completeness", description=__doc__.splitlines()[0])
    parser.add_argument("runs_csv", help="runs.csv of `vcon aggregate --cells`")
    parser.add_argument("--rerun", default="snakemake", help="the command the workflow was run with")
    parser.add_argument("--allow-missing", action="store_true", help="list the unusable runs but exit 0")
    args = parser.parse_args(argv)
    code, message = report(args.runs_csv, args.rerun, args.allow_missing)
    print(message, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
