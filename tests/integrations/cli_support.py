"""Running the real `python -m runtui` for the integration tests (stdin closed, output captured: never a tty)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.strip().splitlines()


def runtui_cli(*args: str, home: Path, timeout: float = 300) -> Result:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env.pop("RUNTUI_STORE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "runtui", "--home", str(home), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
