"""Fixtures shared by several test folders."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from local_servers import hub_endpoint
from workflow_run import WorkflowRun, private_runtime_dir, run_snakemake, stop_warm_workers, workflow_args


SHARED_FIXTURES = ("slurm_cluster", "tiny_local_run", "finished_tiny")


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`--dist loadgroup`), each test module runs on one worker (its module fixtures
    once), and so do the tests that share one thing across modules: the localhost SLURM cluster (which
    some of them restart), and the session fixtures that run a workflow (so that each runs once)."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        shared = next((fixture for fixture in SHARED_FIXTURES if fixture in fixtures), None)
        item.add_marker(pytest.mark.xdist_group(shared or item.nodeid.split("::")[0]))
