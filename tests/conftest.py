"Shared fixtures for facenb's command-line and integration tests."
import os, subprocess, sys
from pathlib import Path
import pytest

os.chdir(Path(__file__).resolve().parent.parent)  # a relative FACENB_DATA is meant from the project root

ROOT = Path(__file__).resolve().parent.parent

def pytest_configure(config):
    "The slowest tests are listed at the end of every run (CI keeps the whole run under about 30 minutes)."
    if not config.option.durations: config.option.durations = 15

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

def easy_task(folder, # where to write images/ and masks/
              n:int=64, # number of pairs
              size:tuple=(64, 48), # (height, width)
              seed:int=0):
    "A task any working model learns in seconds: a bright noisy ellipse (the mask) on a dark noisy background, as PNG files."
    import numpy as np
    from PIL import Image
    folder, rng, (H, W) = Path(folder), np.random.default_rng(seed), size
    yy, xx = np.mgrid[0:H, 0:W]
    for sub in ('images', 'masks'): (folder/sub).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cy, cx = rng.uniform(0.3, 0.7, 2)*(H, W)
        ry, rx = rng.uniform(0.15, 0.35, 2)*(H, W)
        m = ((yy - cy)/ry)**2 + ((xx - cx)/rx)**2 <= 1
        img = rng.uniform(0, 110, (H, W, 3))
        img[m] = rng.uniform(150, 255, (int(m.sum()), 3))
        Image.fromarray(img.astype(np.uint8)).save(folder/'images'/f'{i:03d}.png')
        Image.fromarray(m.astype(np.uint8)*255).save(folder/'masks'/f'{i:03d}.png')
    return folder

@pytest.fixture
def torch_threads():
    "Restore torch's CPU thread count after a test that trains in this process (`--threads` sets it for the whole process)."
    import torch
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)

# --- `facenb` run in this process, for the nothing-lost tests ------------------------------------------------------

TINY = ['--arch', 'unet', '--model-kw', '{"base": 8, "depth": 3}', '--size', '64x48', '--bs', '4', '--threads', '1',
        '--no-progress', '--data', 'synthetic', '--n-samples', '16']

def listing(folder) -> list:
    "The names in `folder`, less the manifest in which facenb records what it wrote there (`facenb.core.MANIFEST`)."
    from facenb.core import MANIFEST
    return sorted(p.name for p in Path(folder).iterdir() if p.name != MANIFEST)

def snapshot(folder): return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob('*')) if p.is_file()}
def one_line(err): return len(err.strip().splitlines()) == 1 and 'Traceback' not in err

@pytest.fixture
def facenb(tmp_path, monkeypatch, capsys, torch_threads):
    "Run `facenb ARGS` in this process, in `tmp_path` (with `env`: variables set for that call): (exit status, stdout, stderr)."
    from facenb import cli
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('FACENB_CACHE', str(tmp_path/'cache'))
    monkeypatch.delenv('FACENB_DEBUG', raising=False)
    def run(*args, env=None):
        capsys.readouterr()
        with monkeypatch.context() as m:
            for k, v in (env or {}).items(): m.setenv(k, v)
            status = cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return status, out, err
    return run

@pytest.fixture
def run(facenb, tmp_path):
    "A finished one-epoch run in runs/r."
    status, out, err = facenb('train', *TINY, '--epochs', '1', '--out', 'runs/r')
    assert status == 0, err
    return tmp_path/'runs'/'r'
