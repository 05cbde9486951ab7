"""The real head hospital service in a subprocess on 127.0.0.1, for tests on either side of the sync.

`start_server(tmp_path)` runs `python -m head_hospital serve` (the `head-hospital` console
script) on a free loopback port and waits until it answers; `approve_site` and `head_keys`
use the same command line as an administrator would.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from township_wire.crypto import PublicKeys

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`head-hospital ARGS...` in a subprocess; returns the completed process (check its returncode)."""
    return subprocess.run([sys.executable, "-m", "head_hospital", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


@dataclass
class RunningServer:
    """A `head-hospital serve` subprocess; `url` is its base address (no trailing slash)."""

    db_url: str
    port: int
    name: str
    log_path: Path
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen | None = None
    _log: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RunningServer:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the process's lifetime
        command = [sys.executable, "-m", "head_hospital", "serve", "--db", self.db_url, "--host", "127.0.0.1",
                   "--port", str(self.port), "--name", self.name, *self.extra_args]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._wait_until_up()
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"head-hospital serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"head-hospital serve did not answer within {START_TIMEOUT:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), then wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        self._close_log()

    def kill(self) -> None:
        """Kill at once (SIGKILL), as a power cut would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)
        self._close_log()

    def restart(self) -> RunningServer:
        """Stop (if running) and start again on the same port and database."""
        self.stop()
        return self.start()


def start_server(tmp_path: Path, db_url: str | None = None, name: str = "县人民医院",
                 extra_args: tuple[str, ...] = ()) -> RunningServer:
    """Start the real service on a free loopback port (SQLite in `tmp_path` unless `db_url` is given).

    `extra_args` go to `head-hospital serve` as they are (e.g. ("--enrol-per-hour", "2")).
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    server = RunningServer(db_url=db_url or f"sqlite:///{tmp_path / 'head-hospital.sqlite'}", port=free_port(),
                           name=name, log_path=tmp_path / f"head-hospital-{time.time_ns()}.log",
                           extra_args=tuple(extra_args))
    return server.start()


def site_list(db_url: str) -> list[dict]:
    done = run_cli("sites", "list", "--json", "--db", db_url)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def approve_site(db_url: str, site_id: str) -> None:
    """Approve an enrolled site with the fingerprint it enrolled with (as the admin would after the phone call)."""
    site = next((row for row in site_list(db_url) if row["site_id"] == site_id), None)
    if site is None:
        raise RuntimeError(f"site {site_id} has not enrolled")
    done = run_cli("sites", "approve", site_id, "--fingerprint", site["fingerprint"], "--db", db_url)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)


def head_keys(db_url: str) -> PublicKeys:
    """The head hospital's public keys, as `head-hospital keys --json` prints them."""
    done = run_cli("keys", "--json", "--db", db_url)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return PublicKeys.from_json(json.loads(done.stdout))
