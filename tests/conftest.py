"Shared fixtures for facenb's command-line and integration tests."
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

@pytest.fixture
def run_facenb(tmp_path):
    "Run the installed `facenb` console script in a temporary folder; returns the CompletedProcess."
    def run(*args, env=None, timeout=600):
        full_env = {**os.environ, **(env or {})}
        exe = Path(sys.executable).with_name('facenb')
        return subprocess.run([str(exe), *map(str, args)], cwd=tmp_path, env=full_env,
                              capture_output=True, text=True, timeout=timeout)
    return run
