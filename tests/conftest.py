"Shared fixtures for facenb's command-line and integration tests."
import os, subprocess, sys
from pathlib import Path
import pytest

os.chdir(Path(__file__).resolve().parent.parent)  # a relative FACENB_DATA is meant from the project root

ROOT = Path(__file__).resolve().parent.parent

def data_env() -> dict:
    "FACENB_DATA as an absolute path (a relative one is meant from the project root) and a private cache folder."
    from facenb.data import data_root
    return {'FACENB_DATA': str(data_root())} if os.environ.get('FACENB_DATA') else {}

@pytest.fixture
def run_facenb(tmp_path):
    "Run the installed `facenb` console script in a temporary folder; returns the CompletedProcess."
    def run(*args, env=None, timeout=600):
        full_env = {**os.environ, **data_env(), 'FACENB_CACHE': str(tmp_path/'cache'), **(env or {})}
        exe = Path(sys.executable).with_name('facenb')
        return subprocess.run([str(exe), *map(str, args)], cwd=tmp_path, env=full_env,
                              capture_output=True, text=True, timeout=timeout)
    return run

@pytest.fixture(scope='session')
def mirror(tmp_path_factory):
    "A loopback HTTP server with the archives of the shared datasets, as their public sources publish them."
    from facenb.data import data_root
    from mirror import LAYOUTS, build_archive, serve
    if not os.environ.get('FACENB_DATA'): pytest.skip('needs the shared datasets (FACENB_DATA) to build the archives from')
    folder = tmp_path_factory.mktemp('mirror')
    for name in LAYOUTS: build_archive(name, data_root(), folder)
    with serve(folder) as url: yield url
