"""`vcon fetch` for data sets, the real code path against local stand-ins (tests/local_servers.py): torchvision
downloads CIFAR over HTTP from a local mirror of a tiny release; GLUE comes from a patched
`datasets.load_dataset` and is saved for real; the reachability probes meet local ports. No network."""
from __future__ import annotations

import hashlib
import json
import shutil
import socket
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from damage import flip_bytes, truncate
from local_servers import file_server, no_proxies, refusing_port

from vcon.cli import main
from vcon.data import DatasetOptions, build_dataset
from vcon.data.cifar import CIFARS
from vcon.data.glue import HUB_ID
from vcon.data.imagenet import HOW_TO_GET
from vcon.fetch.receipts import verify

FOLDER_FILES = {name: sorted(spec.files) for name, spec in CIFARS.items()}


def fetch(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout, and the error line of stderr ("" if none; the libraries' progress bars dropped)."""
    code = main(["fetch", *args])
    out, err = capsys.readouterr()
    return code, out, "\n".join(line for line in err.splitlines() if line.startswith("vcon fetch:"))


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


@pytest.fixture
def cifar_mirror(tiny_cifar: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Each tiny release packed as torchvision expects it (a tar.gz holding its folder), served over HTTP
    from tmp_path/mirror; torchvision's CIFAR10/100 url and md5 point there."""
    from torchvision import datasets

    no_proxies(monkeypatch)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with file_server(mirror) as base:
        urls = {}
        for name, spec in CIFARS.items():
            reader = getattr(datasets, spec.reader)
            archive = mirror / reader.filename
            with tarfile.open(archive, "w:gz") as tar:
                tar.add(tiny_cifar["root"] / spec.folder, arcname=spec.folder)
            urls[name] = f"{base}/{reader.filename}"
            monkeypatch.setattr(reader, "url", urls[name])
            monkeypatch.setattr(reader, "tgz_md5", hashlib.md5(archive.read_bytes()).hexdigest())
        yield urls


@pytest.fixture
def unreachable_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    no_proxies(monkeypatch)
    with refusing_port() as port:
        yield f"http://127.0.0.1:{port}/cifar.tar.gz"


@pytest.mark.parametrize("name", sorted(CIFARS))
def test_cifar_downloads_through_torchvision(capsys, tiny_cifar, cifar_mirror, tmp_path, name):
    data = tmp_path / "data"
    code, out, err = fetch(capsys, name, "--root", str(data), "--receipt", str(tmp_path / "receipt.json"))
    assert (code, err) == (0, "")
    folder = data / CIFARS[name].folder
    assert out == f"{name}: downloaded to {folder}\n"
    assert tree(data) == [CIFARS[name].folder] + [f"{CIFARS[name].folder}/{f}" for f in FOLDER_FILES[name]]
    for file in FOLDER_FILES[name]:
        assert (folder / file).read_bytes() == (tiny_cifar["root"] / CIFARS[name].folder / file).read_bytes()
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    assert {k: receipt[k] for k in ("what", "kind", "where", "source", "downloaded")} == {
        "what": name, "kind": "data set", "where": str(folder), "source": cifar_mirror[name], "downloaded": True}
    bundle = build_dataset(name, DatasetOptions(root=data, image_size=32, augment=False))
    assert (len(bundle.train), len(bundle.val) + len(bundle.test)) == tuple(len(a) for a in tiny_cifar[name][:2])


def test_cifar_root_from_the_environment(capsys, cifar_mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("VCON_CIFAR_ROOT", str(tmp_path / "env-data"))
    code, out, _ = fetch(capsys, "cifar10")
    assert code == 0 and out == f"cifar10: downloaded to {tmp_path / 'env-data' / 'cifar-10-batches-py'}\n"


def test_present_cifar_needs_no_network(capsys, tiny_cifar, unreachable_url, monkeypatch):
    from torchvision import datasets

    monkeypatch.setattr(datasets.CIFAR10, "url", unreachable_url)
    before = tree(tiny_cifar["root"])
    code, out, err = fetch(capsys, "cifar10", "--root", str(tiny_cifar["root"]))
    assert (code, err) == (0, "")
    assert out == f"cifar10: already in {tiny_cifar['root'] / 'cifar-10-batches-py'}\n"
    assert tree(tiny_cifar["root"]) == before


def test_present_cifar_under_cifar_subdirectory(capsys, tiny_cifar, unreachable_url, tmp_path, monkeypatch):
    from torchvision import datasets

    monkeypatch.setattr(datasets.CIFAR100, "url", unreachable_url)
    (tmp_path / "data" / "cifar").mkdir(parents=True)
    (tiny_cifar["root"] / "cifar-100-python").rename(tmp_path / "data" / "cifar" / "cifar-100-python")
    code, out, _ = fetch(capsys, "cifar100", "--root", str(tmp_path / "data"))
    assert (code, out) == (0, f"cifar100: already in {tmp_path / 'data' / 'cifar' / 'cifar-100-python'}\n")


def test_unreachable_cifar_fails_at_once_saying_where_to_place_it(capsys, unreachable_url, tmp_path, monkeypatch):
    from torchvision import datasets

    monkeypatch.setattr(datasets.CIFAR10, "url", unreachable_url)
    data = tmp_path / "data"
    code, out, err = fetch(capsys, "cifar10", "--root", str(data), "--receipt", str(tmp_path / "receipt.json"))
    assert (code, out) == (2, "")
    assert err.startswith(f"vcon fetch: error: cifar10: data not found under {data} (set by config key data_root). "
                          f"Expected cifar-10-batches-py/data_batch_1, ")
    assert f"in {data} or {data / 'cifar'}. " in err
    assert f"run `vcon fetch cifar10 --root DIR` where there is network, or download {CIFARS['cifar10'].url}" in err
    host = unreachable_url.split("/")[2]
    assert err.endswith(f"It cannot be downloaded here: {host} is out of reach from {socket.gethostname()} "
                        f"(no network).")
    assert not data.exists() and not (tmp_path / "receipt.json").exists()


def test_failed_download_leaves_nothing_behind(capsys, cifar_mirror, tmp_path, monkeypatch):
    from torchvision import datasets

    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", "0" * 32)  # the mirror's archive then fails its check
    data = tmp_path / "data"
    code, _, err = fetch(capsys, "cifar10", "--root", str(data), "--receipt", str(tmp_path / "receipt.json"))
    assert code == 1
    assert err == (f"vcon fetch: error: cifar10: the download from {cifar_mirror['cifar10']} failed (RuntimeError: "
                   f"File not found or corrupted.); nothing was written to {data / 'cifar-10-batches-py'}. "
                   f"Run the fetch again.")
    assert tree(data) == [] and not (tmp_path / "receipt.json").exists()


def test_incomplete_copy_is_not_overwritten(capsys, cifar_mirror, tmp_path):
    folder = tmp_path / "data" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    (folder / "data_batch_1").write_bytes(b"half a copy")
    code, _, err = fetch(capsys, "cifar10", "--root", str(tmp_path / "data"))
    assert code == 2
    assert err.endswith(f"{folder} exists but is incomplete: complete it, or remove it and fetch again.")
    assert tree(tmp_path / "data") == ["cifar-10-batches-py", "cifar-10-batches-py/data_batch_1"]


def test_no_data_directory(capsys):
    code, _, err = fetch(capsys, "cifar10")
    assert code == 2
    assert err.startswith("vcon fetch: error: cifar10: no data directory configured. Set the data directory with "
                          "the config key `data_root`")


# --- GLUE ----------------------------------------------------------------------------------------------


@pytest.fixture
def glue_hub(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """`datasets.load_dataset` serves a tiny RTE (train 4, validation 3) and records its calls."""
    import datasets

    calls = []

    def load_dataset(path, name=None, **kwargs):
        calls.append((path, name, sorted(kwargs)))
        rows = {"sentence1": ["a", "b", "c", "d"], "sentence2": ["e", "f", "g", "h"], "label": [0, 1, 1, 0],
                "idx": [0, 1, 2, 3]}
        return datasets.DatasetDict({"train": datasets.Dataset.from_dict(rows),
                                     "validation": datasets.Dataset.from_dict({k: v[:3] for k, v in rows.items()})})

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return calls


def test_glue_downloads_and_saves_where_the_reader_looks(capsys, glue_hub, hub_answers, tmp_path, tokenizer):
    data = tmp_path / "data"
    code, out, err = fetch(capsys, "glue-rte", "--root", str(data), "--receipt", str(tmp_path / "receipt.json"))
    assert (code, err) == (0, "")
    assert out == f"glue-rte: downloaded to {data / 'glue' / 'rte'}\n"
    assert glue_hub == [(HUB_ID, "rte", ["cache_dir"])]
    assert sorted(p.name for p in (data / "glue").iterdir()) == ["rte"]  # no temporary directory or cache left
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    assert (receipt["where"], receipt["source"], receipt["downloaded"]) == (str(data / "glue" / "rte"),
                                                                            f"{HUB_ID} (rte)", True)
    bundle = build_dataset("glue-rte", DatasetOptions(root=data, tokenizer=tokenizer, max_length=8))
    assert (len(bundle.train), len(bundle.val) + len(bundle.test)) == (4, 3)


@pytest.mark.parametrize("layout", ["glue/rte", "rte"])
def test_present_glue_needs_no_network(capsys, glue_hub, hub_out_of_reach, tmp_path, layout):
    import datasets

    datasets.DatasetDict({"train": datasets.Dataset.from_dict({"x": [1]})}).save_to_disk(str(tmp_path / layout))
    code, out, _ = fetch(capsys, "glue-rte", "--root", str(tmp_path))
    assert (code, out, glue_hub) == (0, f"glue-rte: already in {tmp_path / layout}\n", [])


def test_unreachable_glue_fails_at_once(capsys, glue_hub, hub_out_of_reach, tmp_path):
    data = tmp_path / "data"
    code, _, err = fetch(capsys, "glue-rte", "--root", str(data))
    assert code == 2 and glue_hub == []
    assert err.startswith(f"vcon fetch: error: glue-rte: data not found under {data} (set by config key data_root). "
                          f"Expected dataset_dict.json in {data / 'rte'} or {data / 'glue' / 'rte'}. ")
    assert "run `vcon fetch glue-rte --root DIR` where there is network (it saves DIR/glue/rte)" in err
    host = hub_out_of_reach.removeprefix("http://")
    assert err.endswith(f"It cannot be downloaded here: {host} is out of reach from "
                        f"{socket.gethostname()} (no network).")
    assert not data.exists()


def test_glue_in_offline_mode_fails_at_once(capsys, glue_hub, hub_answers, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, err = fetch(capsys, "glue-rte", "--root", str(tmp_path / "data"))
    assert code == 2 and glue_hub == []
    assert err.endswith("(offline mode is on (HF_HUB_OFFLINE)).")


def test_failed_glue_download_leaves_nothing_behind(capsys, hub_answers, tmp_path, monkeypatch):
    import datasets

    def load_dataset(path, name=None, **kwargs):
        raise ConnectionError("connection reset")

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    code, _, err = fetch(capsys, "glue-rte", "--root", str(tmp_path / "data"))
    assert code == 1
    assert "glue-rte: the download from" in err and "failed (ConnectionError: connection reset)" in err
    assert tree(tmp_path / "data") == ["glue"]


# --- ImageNet and bad names ----------------------------------------------------------------------------


def test_present_imagenet(capsys, tiny_imagenet, tmp_path):
    code, out, _ = fetch(capsys, "imagenet", "--root", str(tmp_path), "--receipt", str(tmp_path / "receipt.json"))
    assert (code, out) == (0, f"imagenet: already in {tiny_imagenet}\n")
    assert json.loads((tmp_path / "receipt.json").read_text())["downloaded"] is False


def test_missing_imagenet_says_where_to_place_it(capsys, tmp_path):
    code, out, err = fetch(capsys, "imagenet", "--root", str(tmp_path / "data"))
    assert (code, out) == (2, "")
    assert err == (f"vcon fetch: error: imagenet: data not found under {tmp_path / 'data'} (set by config key "
                   f"data_root). Expected train, val in {tmp_path / 'data'} or {tmp_path / 'data' / 'imagenet'}. "
                   f"Set the data directory with the config key `data_root` (e.g. `vcon train --set data_root=DIR`), "
                   f"or the environment variable VCON_IMAGENET_ROOT or VCON_DATA_ROOT. To get the data: {HOW_TO_GET} "
                   f"ImageNet is never downloaded here: it needs registering, so place it by hand.")


@pytest.mark.parametrize("args, message", [
    (["digits"], "'digits' is not a data set read from files; choose one of cifar10, cifar100, glue-cola, "),
    (["glue-ax", "--root", "data"], "'glue-ax' is not a data set read from files"),
    (["cifar10", "extra"], "unexpected argument 'extra': only `vcon fetch checkpoint` takes an ID"),
])
def test_bad_names(capsys, args, message):
    code, _, err = fetch(capsys, *args)
    assert code == 2 and err.startswith(f"vcon fetch: error: {message}")


def test_interrupted_glue_download_leaves_nothing_behind(hub_answers, tmp_path, monkeypatch):
    import datasets

    def load_dataset(path, name=None, **kwargs):
        raise KeyboardInterrupt  # as Ctrl-C, or SIGTERM (which `vcon fetch` turns into an exit) mid-download

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    with pytest.raises(KeyboardInterrupt):
        main(["fetch", "glue-rte", "--root", str(tmp_path / "data")])
    assert tree(tmp_path / "data") == ["glue"]


def test_cifar_messages_name_the_url_torchvision_downloads():
    from torchvision import datasets

    assert {name: getattr(datasets, spec.reader).url for name, spec in CIFARS.items()} == {
        name: spec.url for name, spec in CIFARS.items()}


# --- The receipt records each file's sha256 and size; every later read checks them --------------------


def sha256_and_size(path: Path) -> dict:
    return {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "bytes": path.stat().st_size}


@pytest.fixture
def fetched_cifar(capsys, tiny_cifar, cifar_mirror, tmp_path, monkeypatch) -> tuple[Path, Path]:
    """cifar10 fetched into tmp_path/data with its receipt; the working directory is tmp_path."""
    monkeypatch.chdir(tmp_path)
    code, _, err = fetch(capsys, "cifar10", "--root", "data", "--receipt", "receipt.json")
    assert (code, err) == (0, "")
    return tmp_path / "data" / "cifar-10-batches-py", Path("receipt.json")


def refetch_advice(folder: Path) -> str:
    return (f"Delete {folder} and fetch it again: `rm -r {folder} && vcon fetch cifar10 --root data "
            f"--receipt receipt.json`")


def test_the_receipt_records_every_file(fetched_cifar):
    folder, receipt = fetched_cifar
    recorded = json.loads(receipt.read_text())
    assert recorded["files"] == {name: sha256_and_size(folder / name) for name in FOLDER_FILES["cifar10"]}
    assert recorded["root"] == "data"


def train_reading(capsys, receipt: Path, out: Path) -> tuple[int, str]:
    """`vcon train` of any cell with `--fetched receipt`: the check comes before any work."""
    code = main(["train", "--fetched", str(receipt), "--set", "epochs=1", "--out", str(out)])
    return code, capsys.readouterr().err


def test_train_checks_fetched_files_before_reading_them(capsys, fetched_cifar, tmp_path):
    folder, receipt = fetched_cifar
    flip_bytes(folder / "data_batch_1")
    code, err = train_reading(capsys, receipt, tmp_path / "run")
    assert (code, err) == (2, f"vcon train: error: {folder / 'data_batch_1'}, a file of cifar10 as fetched (receipt "
                              f"receipt.json), is damaged: its sha256 does not match the one recorded when it was "
                              f"fetched. {refetch_advice(folder)}\n")
    assert not (tmp_path / "run").exists()


def test_train_refuses_a_cut_fetched_file(capsys, fetched_cifar, tmp_path):
    folder, receipt = fetched_cifar
    size = (folder / "test_batch").stat().st_size
    truncate(folder / "test_batch")
    code, err = train_reading(capsys, receipt, tmp_path / "run")
    assert (code, err) == (2, f"vcon train: error: {folder / 'test_batch'}, a file of cifar10 as fetched (receipt "
                              f"receipt.json), is damaged: it has {size // 2} bytes, {size} were recorded when it was "
                              f"fetched. {refetch_advice(folder)}\n")


def test_a_damaged_copy_in_place_is_not_recorded_anew(capsys, fetched_cifar):
    folder, receipt = fetched_cifar
    before = receipt.read_text()
    flip_bytes(folder / "batches.meta")
    code, out, err = fetch(capsys, "cifar10", "--root", "data", "--receipt", str(receipt))
    assert (code, out) == (2, "")
    assert err == (f"vcon fetch: error: {folder / 'batches.meta'}, a file of cifar10 as fetched (receipt "
                   f"receipt.json), is damaged: its sha256 does not match the one recorded when it was fetched. "
                   f"{refetch_advice(folder)}")
    assert receipt.read_text() == before
    shutil.rmtree(folder)  # as the message says: the fetch then downloads a good copy
    code, out, _ = fetch(capsys, "cifar10", "--root", "data", "--receipt", str(receipt))
    assert (code, out) == (0, f"cifar10: downloaded to {folder}\n")


def test_a_changed_receipt_is_refused(capsys, fetched_cifar, tmp_path):
    _, receipt = fetched_cifar
    receipt.write_text(receipt.read_text().replace('"downloaded": true', '"downloaded": false'))
    code, err = train_reading(capsys, receipt, tmp_path / "run")
    assert (code, err) == (2, "vcon train: error: receipt.json, the receipt of a `vcon fetch`, is damaged: its "
                              "content does not match the sha256 recorded when it was written. Fetch again with "
                              "`vcon fetch ... --receipt receipt.json` (in the workflow: `snakemake --forcerun "
                              "receipt.json`, with the --configfile of your grid)\n")


def test_a_receipt_written_before_checksums_checks_nothing(capsys, fetched_cifar, tmp_path):
    folder, receipt = fetched_cifar
    old = {k: v for k, v in json.loads(receipt.read_text()).items() if k not in ("files", "sha256", "root")}
    receipt.write_text(json.dumps(old))
    flip_bytes(folder / "data_batch_1")  # nothing recorded, nothing found (docs/guarantees.md)
    verify(receipt)


def test_a_damaged_glue_file_is_caught_before_a_cell_reads_it(capsys, glue_hub, hub_answers, tmp_path):
    data = tmp_path / "data"
    code, _, _ = fetch(capsys, "glue-rte", "--root", str(data), "--receipt", str(tmp_path / "receipt.json"))
    assert code == 0
    folder = data / "glue" / "rte"
    saved = sorted(p for p in folder.rglob("*") if p.is_file())
    recorded = json.loads((tmp_path / "receipt.json").read_text())["files"]
    assert recorded == {str(p.relative_to(folder)): sha256_and_size(p) for p in saved}
    [arrow] = [p for p in saved if p.parent.name == "train" and p.suffix == ".arrow"]
    flip_bytes(arrow)
    code, err = train_reading(capsys, tmp_path / "receipt.json", tmp_path / "run")
    assert (code, err) == (2, f"vcon train: error: {arrow}, a file of glue-rte as fetched (receipt "
                              f"{tmp_path / 'receipt.json'}), is damaged: its sha256 does not match the one recorded "
                              f"when it was fetched. Delete {folder} and fetch it again: `rm -r {folder} && vcon fetch "
                              f"glue-rte --root {data} --receipt {tmp_path / 'receipt.json'}`\n")
