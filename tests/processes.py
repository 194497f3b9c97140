"""Stopping the processes tests start, so that none outlives its test (a leaked `Popen` is an
error under `filterwarnings = error`, and would fail whichever test runs next)."""

from __future__ import annotations

import subprocess

STOP_SECONDS = 30.0
"""Generous: a loaded machine is slow to stop a worker, and `itsm worker` bounds its own stop."""


def stop(process: subprocess.Popen[bytes], seconds: float = STOP_SECONDS) -> int:
    """Terminate, wait up to `seconds`, then kill and wait: the process is gone on return."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
