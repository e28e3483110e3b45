"""Fixtures shared by several test folders."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from local_servers import hub_endpoint
from workflow_run import WorkflowRun, private_runtime_dir, run_snakemake, stop_warm_workers, workflow_args

# Tests that share one thing run on one pytest-xdist worker, one after the other: those of the localhost
# SLURM cluster (one cluster, which some of them restart and take down), and those of a session fixture that
# runs a workflow (so that it runs once). Path prefix -> the shared fixture; the groups start first, in this
# order (the longest first), every other module is a group of its own.
SHARED = {"tests/slurm/": "slurm_cluster", "tests/workflow/test_end_to_end.py": "tiny_local_run",
          "tests/workflow/test_snakemake.py": "finished_tiny", "tests/workflow/test_broken_runs.py": "finished_tiny"}


@pytest.fixture(scope="session")
def tiny_local_run(tmp_path_factory) -> Iterator[WorkflowRun]:
    """configs/test-tiny.yaml through Snakemake with the real trainer on this machine (about 2 minutes
    on 2 cores). Run once per session (tests/workflow/test_end_to_end.py checks its outputs)."""
    workdir = tmp_path_factory.mktemp("tiny-local")
    args = workflow_args(workdir)
    runtime_dir = private_runtime_dir()
    started = time.monotonic()
    result = run_snakemake(workdir, *args, "--cores", "2", timeout=900, env={"XDG_RUNTIME_DIR": str(runtime_dir)})
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    yield WorkflowRun(workdir, args, seconds, runtime_dir)
    stop_warm_workers(runtime_dir)


@pytest.fixture
def hub_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The hub endpoint is a local port that accepts connections: the reachability probe passes."""
    with hub_endpoint(monkeypatch, answers=True) as url:
        yield url


@pytest.fixture
def hub_out_of_reach(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The hub endpoint is a local port that refuses connections: the probe fails, as without network."""
    with hub_endpoint(monkeypatch, answers=False) as url:
        yield url


def worker_group(nodeid: str) -> str:
    """The group of a test: the fixture it shares with other modules, else its module."""
    return next((fixture for prefix, fixture in SHARED.items() if nodeid.startswith(prefix)), nodeid.split("::")[0])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The shared groups first (the workers take groups in this order); a test that uses a shared fixture
    from a module SHARED does not name is refused, as it would run that fixture again on another worker."""
    for item in items:
        for fixture in set(SHARED.values()) & set(getattr(item, "fixturenames", ())):
            if worker_group(item.nodeid) != fixture:
                raise pytest.UsageError(f"{item.nodeid} uses {fixture}: add its module to SHARED in tests/conftest.py")
    first = list(dict.fromkeys(SHARED.values()))
    items.sort(key=lambda item: first.index(group) if (group := worker_group(item.nodeid)) in first else len(first))


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Whole groups (`worker_group`) to a worker, in the order of the collection."""
    from xdist.scheduler import LoadScopeScheduling

    class Groups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    config.option.loadscopereorder = False
    return Groups(config, log)
