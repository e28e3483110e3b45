"""Telling local directories from hub ids, and turning hub failures into clear errors.

Without network, `from_pretrained` retries for tens of seconds before failing; a quick socket probe
(or HF_HUB_OFFLINE=1) instead switches to the local cache at once.
"""
from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from huggingface_hub import constants
from huggingface_hub.errors import RepositoryNotFoundError

PROBE_TIMEOUT_S = 3.0
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}")
_TRUE = {"1", "true", "yes", "on"}


class HubUnreachableError(ConnectionError):
    """The Hugging Face hub could not be reached and the files are not cached locally."""


def is_local_dir(name: str) -> bool:
    return os.path.isdir(os.path.expanduser(name))


def looks_like_path(name: str) -> bool:
    """True for names that can only mean a file-system path (absolute, ./ ../ ~, or nested)."""
    return name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") > 1


def is_hub_id(name: str) -> bool:
    """A plausible `owner/name` hub repository id."""
    return bool(_HUB_ID.fullmatch(name)) and ".." not in name and "--" not in name and not name.endswith(".git")


def offline_mode() -> bool:
    env = (os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or "").strip().lower()
    return env in _TRUE or constants.HF_HUB_OFFLINE


def hub_reachable(timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the hub endpoint opens within `timeout` (assumed yes behind a proxy)."""
    return url_reachable(constants.ENDPOINT, timeout)


def url_reachable(url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the host of `url` opens within `timeout` (assumed yes behind a proxy)."""
    parts = urlsplit(url)
    if any(os.environ.get(k) for k in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def local_files_only(source: str) -> bool:
    """The `local_files_only` to load `source` with: True for directories and when the hub is out of reach."""
    return is_local_dir(source) or offline_mode() or not hub_reachable()


@contextmanager
def loading(source: str, local_only: bool) -> Iterator[None]:
    """Re-raise loading failures of `source` as ValueError (bad name or dir) or HubUnreachableError."""
    try:
        yield
    except HubUnreachableError:
        raise
    except (OSError, ValueError) as err:
        if is_local_dir(source):
            raise ValueError(
                f"could not load a Hugging Face model from directory {source!r} "
                f"(expected the output of save_pretrained): {err}"
            ) from err
        if not isinstance(err, OSError):
            raise
        if local_only:
            why = "offline mode is on (HF_HUB_OFFLINE)" if offline_mode() else "there is no network"
            raise HubUnreachableError(
                f"could not reach the Hugging Face hub to load {source!r} ({why}) and it is not in the local "
                f"cache, nor is it a local directory. Give a local directory instead, as the model name or as "
                f"init=DIR: save the model where the hub is reachable with model.save_pretrained(DIR) (and "
                f"tokenizer.save_pretrained(DIR) for text models)."
            ) from err
        if isinstance(err.__cause__, RepositoryNotFoundError) or isinstance(err, RepositoryNotFoundError):
            raise ValueError(f"{source!r} is neither a local directory nor a model on the hub: {err}") from err
        raise
