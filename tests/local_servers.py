"""Local stand-ins for download sources, so that the reachability probes (vcon.models.hub) and the
libraries' own downloads run for real without network: a port that refuses connections, an HTTP file
mirror, and the Hugging Face hub endpoint pointed at either."""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from huggingface_hub import constants

PROXIES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxies would make the probe assume the hub answers, and urllib send local requests elsewhere."""
    for name in PROXIES:
        monkeypatch.delenv(name, raising=False)


@contextmanager
def refusing_port() -> Iterator[int]:
    """A local port that refuses connections at once (bound, not listening), as a host out of reach."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@contextmanager
def file_server(directory: Path) -> Iterator[str]:
    """An HTTP server for the files of `directory`; yields its base URL."""
    handler = partial(QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  (the base class's name)
        pass


@contextmanager
def hub_endpoint(monkeypatch: pytest.MonkeyPatch, answers: bool) -> Iterator[str]:
    """The hub endpoint on a local port that accepts connections (`answers`) or refuses them. Offline mode
    and proxies are cleared: the probe decides."""
    no_proxies(monkeypatch)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    if answers:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            url = f"http://127.0.0.1:{server.getsockname()[1]}"
            monkeypatch.setattr(constants, "ENDPOINT", url)
            yield url
    else:
        with refusing_port() as port:
            url = f"http://127.0.0.1:{port}"
            monkeypatch.setattr(constants, "ENDPOINT", url)
            yield url
