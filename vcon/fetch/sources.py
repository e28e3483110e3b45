"""Getting one data set or checkpoint onto this machine, where the readers look for it.

Each kind is first looked for as the trainer will look for it (the readers' own `locate`, the Hugging Face
cache); if it is there, nothing else happens and no network is needed. Otherwise its source must answer a
quick probe (vcon.models.hub.url_reachable), or the fetch fails at once saying what to place where. The
download is the library's own (torchvision, `datasets`, `huggingface_hub`), into a temporary directory beside
the destination that is renamed into place once complete: a destination exists whole or not at all.
Torch and the readers are imported inside the functions.
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from vcon.data import glue, imagenet
from vcon.fetch.plan import datasets

CHECKPOINT = "checkpoint"  # the kind of a hub checkpoint, and `vcon fetch`'s word for it
# What a checkpoint needs besides its weights: config, tokenizer and vocabulary files.
CHECKPOINT_FILES = ["*.json", "*.txt", "*.model"]
# Weights in the order transformers prefers them; the first the repository has is downloaded.
CHECKPOINT_WEIGHTS = (["*.safetensors"], ["pytorch_model*.bin"])


class Unavailable(Exception):
    """Not on this machine and not to be had from it (no network, a name that does not exist, ImageNet):
    the message says what to place where."""


class DownloadFailed(Exception):
    """The source answered, but the download did not complete. Nothing is left at a data set's destination;
    the Hugging Face cache keeps a checkpoint's partial files to resume them."""


@dataclass(frozen=True)
class Fetched:
    what: str
    kind: str  # "data set" or CHECKPOINT
    where: str  # the directory the trainer reads
    source: str
    downloaded: bool  # False: it was there already


def fetch_dataset(name: str, root: str | None) -> Fetched:
    """`cifar10`, `cifar100`, `glue-<task>` or `imagenet` under the data directory `root` (None: the
    readers' environment variables), as the readers look for it."""
    if name not in datasets():
        raise Unavailable(f"{name!r} is not a data set read from files; choose one of {', '.join(sorted(datasets()))} "
                          f"(the embedded data sets need nothing)")
    if name == imagenet.NAME:
        return _imagenet(root)
    if name.startswith(glue.PREFIX):
        return _glue(name.removeprefix(glue.PREFIX), root)
    return _cifar(name, root)


def _cifar(name: str, root: str | None) -> Fetched:
    from torchvision import datasets as torchvision_datasets

    from vcon.data import cifar

    spec = cifar.CIFARS[name]
    reader = getattr(torchvision_datasets, spec.reader)
    try:
        return Fetched(name, "data set", str(cifar.locate(name, root) / spec.folder), reader.url, downloaded=False)
    except FileNotFoundError as missing:
        destination = _data_dir(root, cifar.ENV_VAR, missing) / spec.folder

        def download(tmp: Path) -> Path:
            reader(str(tmp), train=True, download=True)  # downloads, checks the md5s, extracts, reads
            return tmp / spec.folder

        _download(name, destination, reader.url, lambda: _url_unreachable(reader.url), missing, download)
    return Fetched(name, "data set", str(cifar.locate(name, root) / spec.folder), reader.url, downloaded=True)


def _glue(task: str, root: str | None) -> Fetched:
    source = f"{glue.HUB_ID} ({task})"
    try:
        return Fetched(f"glue-{task}", "data set", str(glue.locate(task, root)), source, downloaded=False)
    except FileNotFoundError as missing:
        destination = _data_dir(root, glue.ENV_VAR, missing) / "glue" / task

        def download(tmp: Path) -> Path:
            import datasets

            # The download cache is temporary too: the saved copy under the data directory is the one kept.
            data = datasets.load_dataset(glue.HUB_ID, task, cache_dir=str(tmp / "cache"))
            data.save_to_disk(str(tmp / task))
            return tmp / task

        _download(f"glue-{task}", destination, _hub_endpoint(), _hub_unreachable, missing, download)
    return Fetched(f"glue-{task}", "data set", str(glue.locate(task, root)), source, downloaded=True)


def _imagenet(root: str | None) -> Fetched:
    try:
        return Fetched("imagenet", "data set", str(imagenet.locate(root)), "https://image-net.org", downloaded=False)
    except FileNotFoundError as missing:
        raise Unavailable(f"{missing} ImageNet is never downloaded here: it needs registering, so place it by hand."
                          ) from None


def _data_dir(root: str | None, env_var: str, missing: FileNotFoundError) -> Path:
    """The configured data directory, as the readers resolve it; Unavailable (the reader's message) if none."""
    from vcon.data.roots import configured_root

    found = configured_root(root, env_var)
    if found is None:
        raise Unavailable(str(missing)) from None
    return found[0]


def _download(what: str, destination: Path, source_url: str, unreachable: Callable[[], str | None],
              missing: FileNotFoundError, download: Callable[[Path], Path]) -> None:
    """Run `download(tmp)` in a temporary directory beside `destination` and rename what it returns to
    `destination`; first make sure that nothing is in the way and that the source answers (`unreachable()`
    says why not)."""
    if destination.exists():
        raise Unavailable(f"{missing} {destination} exists but is incomplete: complete it, or remove it and fetch "
                          f"again.") from None
    why = unreachable()
    if why:
        raise Unavailable(f"{missing} It cannot be downloaded here: {urlsplit(source_url).netloc} is "
                          f"out of reach from {socket.gethostname()} ({why}).") from None
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".fetching", dir=destination.parent))
    try:
        produced = download(tmp)
        os.rename(produced, destination)
    except Exception as error:
        raise DownloadFailed(f"{what}: the download from {source_url} failed ({type(error).__name__}: {error}); "
                             f"nothing was written to {destination}. Run the fetch again.") from error
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch_checkpoint(name: str) -> Fetched:
    """A hub checkpoint (`owner/name`, or a registered name of one such as `vit-tiny`) into the Hugging Face
    cache (HF_HOME / HF_HUB_CACHE): its config, tokenizer files and one set of weights."""
    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError, RepositoryNotFoundError

    from vcon.models import hub
    from vcon.models.registry import MODELS

    hub_names = [model for model, entry in MODELS.items() if entry.hub_id]
    repo = MODELS.get(name).hub_id if name in hub_names else name
    if name not in hub_names and (hub.looks_like_path(name) or not hub.is_hub_id(name)):
        raise Unavailable(f"{name!r} is not a hub id (owner/name) nor a registered name of one "
                          f"({', '.join(hub_names)}); a local directory needs no fetch")
    for weights in CHECKPOINT_WEIGHTS:
        try:
            folder = huggingface_hub.snapshot_download(repo, allow_patterns=CHECKPOINT_FILES + weights,
                                                       local_files_only=True)
        except LocalEntryNotFoundError:
            continue
        if _complete(Path(folder), weights):
            return Fetched(repo, CHECKPOINT, folder, repo, downloaded=False)
    why = _hub_unreachable()
    if why:
        raise Unavailable(
            f"{repo}: not in the Hugging Face cache of this machine ({huggingface_hub.constants.HF_HUB_CACHE}), and "
            f"it cannot be downloaded here: the hub ({urlsplit(_hub_endpoint()).netloc}) is out of reach from "
            f"{socket.gethostname()} ({why}). Place it: where there is network, run `vcon fetch "
            f"checkpoint {repo}` with HF_HOME set to a directory, then copy that directory here and set HF_HOME to it "
            f"(now {huggingface_hub.constants.HF_HOME}); or save it with model.save_pretrained(DIR) (and "
            f"tokenizer.save_pretrained(DIR) for text models) and give DIR as the model or init.")
    for weights in CHECKPOINT_WEIGHTS:
        try:
            folder = huggingface_hub.snapshot_download(repo, allow_patterns=CHECKPOINT_FILES + weights)
        except RepositoryNotFoundError as error:
            raise Unavailable(f"{repo}: no such model on the hub ({error})") from None
        except Exception as error:
            raise DownloadFailed(f"{repo}: the download failed ({type(error).__name__}: {error}). Run the fetch "
                                 f"again: the Hugging Face cache resumes it.") from error
        if _complete(Path(folder), weights):
            return Fetched(repo, CHECKPOINT, folder, repo, downloaded=True)
    raise Unavailable(f"{repo}: the hub repository has no config.json with weights in "
                      f"{' or '.join(w[0] for w in CHECKPOINT_WEIGHTS)}")


def _complete(folder: Path, weights: list[str]) -> bool:
    return (folder / "config.json").is_file() and any(any(folder.glob(pattern)) for pattern in weights)


def _hub_endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _hub_unreachable() -> str | None:
    """Why the hub cannot be downloaded from here (None: it answers the probe)."""
    from vcon.models import hub

    if hub.offline_mode():
        return "offline mode is on (HF_HUB_OFFLINE)"
    return None if hub.hub_reachable() else "no network"


def _url_unreachable(url: str) -> str | None:
    from vcon.models import hub

    return None if hub.url_reachable(url) else "no network"
