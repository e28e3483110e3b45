"""`vcon fetch checkpoint`: the real code path, with only the hub's transfer stood in for. A patched
`huggingface_hub.snapshot_download` writes a tiny saved checkpoint into the Hugging Face cache layout,
honouring allow_patterns with huggingface_hub's own filter; the cache lookups (`local_files_only=True`)
are the real function's, and the trainer's loader then reads the result offline. The reachability probe
meets a local port (tests/local_servers.py). No network."""
from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import huggingface_hub
import pytest
import torch
from damage import flip_bytes, truncate
from huggingface_hub import constants
from huggingface_hub.errors import RepositoryNotFoundError
from huggingface_hub.file_download import repo_folder_name
from huggingface_hub.utils import filter_repo_objects
from transformers import BertForSequenceClassification

from vcon.cli import main
from vcon.fetch.sources import CHECKPOINT_FILES
from vcon.models import build_model, load_tokenizer
from vcon.models.pretrained import HUB_MODELS

REAL_SNAPSHOT_DOWNLOAD = huggingface_hub.snapshot_download
COMMIT = "c0ffee" * 6 + "0000"


class FakeHub:
    """The hub's repositories (repo id -> {file in the repo: its bytes}); `calls` records each download."""

    def __init__(self, repos: dict[str, dict[str, bytes]]) -> None:
        self.repos = repos
        self.calls: list[tuple[str, list[str]]] = []

    def __call__(self, repo_id: str, *, allow_patterns: list[str] | None = None, local_files_only: bool = False,
                 **kwargs) -> str:
        if local_files_only:
            return REAL_SNAPSHOT_DOWNLOAD(repo_id, allow_patterns=allow_patterns, local_files_only=True, **kwargs)
        self.calls.append((repo_id, allow_patterns))
        if repo_id not in self.repos:
            url = f"{constants.ENDPOINT}/api/models/{repo_id}"
            raise RepositoryNotFoundError(f"404 Client Error. Repository Not Found for url: {url}",
                                          response=httpx2.Response(404, request=httpx2.Request("GET", url)))
        storage = Path(constants.HF_HUB_CACHE) / repo_folder_name(repo_id=repo_id, repo_type="model")
        snapshot = storage / "snapshots" / COMMIT
        for name in filter_repo_objects(self.repos[repo_id], allow_patterns=allow_patterns):
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            (snapshot / name).write_bytes(self.repos[repo_id][name])
        (storage / "refs").mkdir(parents=True, exist_ok=True)
        (storage / "refs" / "main").write_text(COMMIT)
        return str(snapshot)


def repo_of(folder: Path, **extra: bytes) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    return {**files, **extra}


def fetch(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(["fetch", "checkpoint", *args])
    out, err = capsys.readouterr()
    return code, out, "\n".join(line for line in err.splitlines() if line.startswith("vcon fetch:"))


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch, bert_dir: Path, vit_dir: Path) -> FakeHub:
    hub = FakeHub({
        # Both weight formats and files the trainer never reads: only the safetensors set is downloaded.
        "someone/tiny-bert": repo_of(bert_dir, **{"pytorch_model.bin": b"old format", "onnx/model.onnx": b"onnx"}),
        "someone/old-vit": {"config.json": (vit_dir / "config.json").read_bytes(),
                            "pytorch_model.bin": b"weights", "README.md": b"# old"},
        "someone/no-weights": {"config.json": b"{}"},
        HUB_MODELS["vit-tiny"].hub_id: repo_of(vit_dir),
    })
    monkeypatch.setattr(huggingface_hub, "snapshot_download", hub)
    return hub


def snapshot_of(repo_id: str) -> Path:
    return Path(constants.HF_HUB_CACHE) / repo_folder_name(repo_id=repo_id, repo_type="model") / "snapshots" / COMMIT


def files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_downloads_what_the_trainer_reads_which_then_loads_offline(capsys, fake_hub, hub_answers, bert_dir,
                                                                    tmp_path, monkeypatch):
    code, out, err = fetch(capsys, "someone/tiny-bert", "--receipt", str(tmp_path / "receipt.json"))
    snapshot = snapshot_of("someone/tiny-bert")
    assert (code, err, out) == (0, "", f"someone/tiny-bert: downloaded to {snapshot}\n")
    assert fake_hub.calls == [("someone/tiny-bert", [*CHECKPOINT_FILES, "*.safetensors"])]
    assert files(snapshot) == sorted(p.name for p in bert_dir.iterdir())
    assert "pytorch_model.bin" not in files(snapshot) and "model.safetensors" in files(snapshot)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # as on a compute node
    model = build_model("someone/tiny-bert", num_classes=2)
    assert (model.source, model.num_classes) == ("someone/tiny-bert", 2)
    saved = BertForSequenceClassification.from_pretrained(bert_dir).bert.embeddings.word_embeddings.weight
    assert torch.equal(model.net.bert.embeddings.word_embeddings.weight, saved)
    assert load_tokenizer("someone/tiny-bert").get_vocab() == load_tokenizer(str(bert_dir)).get_vocab()
    code, out, _ = fetch(capsys, "someone/tiny-bert")
    assert (code, out, len(fake_hub.calls)) == (0, f"someone/tiny-bert: already in {snapshot}\n", 1)


def test_pytorch_weights_when_the_repo_has_no_safetensors(capsys, fake_hub, hub_answers):
    code, _, _ = fetch(capsys, "someone/old-vit")
    assert code == 0
    assert fake_hub.calls == [("someone/old-vit", [*CHECKPOINT_FILES, "*.safetensors"]),
                              ("someone/old-vit", [*CHECKPOINT_FILES, "pytorch_model*.bin"])]
    assert files(snapshot_of("someone/old-vit")) == ["config.json", "pytorch_model.bin"]


def test_registered_name_fetches_its_hub_id(capsys, fake_hub, hub_answers, tmp_path):
    code, _, _ = fetch(capsys, "vit-tiny", "--receipt", str(tmp_path / "receipt.json"))
    hub_id = HUB_MODELS["vit-tiny"].hub_id
    assert code == 0 and [repo for repo, _ in fake_hub.calls] == [hub_id]
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    assert {k: receipt[k] for k in ("what", "kind", "where", "source", "downloaded")} == {
        "what": hub_id, "kind": "checkpoint", "where": str(snapshot_of(hub_id)), "source": hub_id, "downloaded": True}


def test_offline_mode_fails_at_once_saying_where_to_place_it(capsys, fake_hub, tmp_path):
    # tests/models/conftest.py: HF_HUB_OFFLINE=1 and an empty cache.
    code, out, err = fetch(capsys, "someone/tiny-bert", "--receipt", str(tmp_path / "receipt.json"))
    assert (code, out, fake_hub.calls) == (2, "", [])
    assert err == (
        f"vcon fetch: error: someone/tiny-bert: not in the Hugging Face cache of this machine "
        f"({constants.HF_HUB_CACHE}), and it cannot be downloaded here: the hub ({urlsplit(constants.ENDPOINT).netloc}) "
        f"is out of reach "
        f"from {socket.gethostname()} (offline mode is on (HF_HUB_OFFLINE)). Place it: where there is network, run "
        f"`vcon fetch checkpoint someone/tiny-bert` with HF_HOME set to a directory, then copy that directory here "
        f"and set HF_HOME to it (now {constants.HF_HOME}); or save it with model.save_pretrained(DIR) (and "
        f"tokenizer.save_pretrained(DIR) for text models) and give DIR as the model or init.")
    assert not (tmp_path / "receipt.json").exists()


def test_unreachable_hub_fails_at_once(capsys, fake_hub, hub_out_of_reach):
    code, _, err = fetch(capsys, "someone/tiny-bert")
    assert (code, fake_hub.calls) == (2, [])
    assert f"the hub ({hub_out_of_reach.removeprefix('http://')}) is out of reach from " in err
    assert f"{socket.gethostname()} (no network). Place it:" in err


def test_cached_config_without_weights_is_not_enough(capsys, fake_hub, hub_out_of_reach, bert_dir):
    snapshot = snapshot_of("someone/tiny-bert")
    snapshot.mkdir(parents=True)
    shutil.copy(bert_dir / "config.json", snapshot / "config.json")
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text(COMMIT)
    code, _, err = fetch(capsys, "someone/tiny-bert")
    assert code == 2 and err.startswith("vcon fetch: error: someone/tiny-bert: not in the Hugging Face cache")


@pytest.mark.parametrize("repo, code, message", [
    ("someone/missing", 2, "someone/missing: no such model on the hub (404 Client Error. Repository Not Found"),
    ("someone/no-weights", 2, "someone/no-weights: the hub repository has no config.json with weights in "
                              "*.safetensors or pytorch_model*.bin"),
])
def test_repos_that_cannot_serve(capsys, fake_hub, hub_answers, repo, code, message):
    got, _, err = fetch(capsys, repo)
    assert got == code and err.startswith(f"vcon fetch: error: {message}")


def test_failed_download(capsys, hub_answers, monkeypatch):
    def snapshot_download(repo_id, *, local_files_only=False, **kwargs):
        if local_files_only:
            return REAL_SNAPSHOT_DOWNLOAD(repo_id, local_files_only=True, **kwargs)
        raise OSError("No space left on device")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    code, _, err = fetch(capsys, "someone/tiny-bert")
    assert code == 1
    assert err == ("vcon fetch: error: someone/tiny-bert: the download failed (OSError: No space left on device). "
                   "Run the fetch again: the Hugging Face cache resumes it.")


@pytest.mark.parametrize("args, message", [
    ([], "`vcon fetch checkpoint` needs a hub id"),
    (["a b"], "'a b' is not a hub id (owner/name) nor a registered name of one (bert-base, vit-base, vit-small, "
              "vit-tiny); a local directory needs no fetch"),
    (["./some/dir"], "'./some/dir' is not a hub id"),
    (["vit-digits"], "'vit-digits' is not a hub id"),
    (["someone/x", "--root", "data"], "--root is for data sets; checkpoints go to the Hugging Face cache"),
])
def test_bad_requests(capsys, fake_hub, args, message):
    code, _, err = fetch(capsys, *args)
    assert (code, fake_hub.calls) == (2, []) and err.startswith(f"vcon fetch: error: {message}")


@pytest.mark.parametrize("damage", [flip_bytes, truncate])
def test_a_damaged_checkpoint_is_caught_before_a_cell_reads_it(capsys, fake_hub, hub_answers, tmp_path, damage):
    receipt = tmp_path / "receipt.json"
    code, _, _ = fetch(capsys, "someone/tiny-bert", "--receipt", str(receipt))
    assert code == 0
    weights = snapshot_of("someone/tiny-bert") / "model.safetensors"
    size = weights.stat().st_size
    damage(weights)
    code = main(["train", "--fetched", str(receipt), "--set", "epochs=1", "--out", str(tmp_path / "run")])
    problem = ("its sha256 does not match the one recorded when it was fetched" if damage is flip_bytes
               else f"it has {size // 2} bytes, {size} were recorded when it was fetched")
    cache = Path(constants.HF_HUB_CACHE) / "models--someone--tiny-bert"  # its blobs too: the hub cache reuses them
    assert (code, capsys.readouterr().err) == (2, (
        f"vcon train: error: {weights}, a file of someone/tiny-bert as fetched (receipt {receipt}), is damaged: "
        f"{problem}. Delete {cache} and fetch it again: `rm -r {cache} && vcon fetch checkpoint someone/tiny-bert "
        f"--receipt {receipt}`\n"))
    assert not (tmp_path / "run").exists()
