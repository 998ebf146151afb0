"""A real Chroma server (`chroma run`, the command chromadb installs) on a loopback port, for tests and benches that
need server mode. It can be stopped and started again on the same port and database, as an operator restarting it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    """`chroma run --path <folder>/db` on 127.0.0.1:`port`; `start` waits for its heartbeat (RuntimeError with the
    end of its log when it does not come within `timeout_s`), `stop` terminates it. A context manager."""

    def __init__(self, folder: Path, port: int | None = None, timeout_s: float = 60):
        executable = shutil.which("chroma")
        if not executable:
            raise RuntimeError("the `chroma` command comes with the chromadb package: is the environment active?")
        self.executable, self.folder, self.timeout_s = executable, folder, timeout_s
        self.host, self.port = "127.0.0.1", port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"

    def start(self) -> ChromaServer:
        command = [self.executable, "run", "--path", str(self.folder / "db"), "--host", self.host]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen([*command, "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout_s
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"chroma run did not start: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        return self

    def answers(self) -> bool:
        try:
            return httpx.get(f"http://{self.host}:{self.port}/api/v2/heartbeat", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> ChromaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
