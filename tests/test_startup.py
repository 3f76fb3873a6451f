"""Start-up of the shipped model's path: `facenb predict PHOTO --out DIR`, `facenb.people.person_mask` and `facenb --help`
run without importing torch, torchvision or albumentations (which imports torch), each in a fresh interpreter; nor the
modules that cost start-up time and do nothing for one photo (fastprogress, which imports fasthtml: 0.3 s; fastcore's
docments; urllib's HTTP client; matplotlib; scipy). `bench/startup.py` times the command."""
import json, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image

HOPPER = cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)   # a person (ships with matplotlib)
HEAVY = ('torch', 'torchvision', 'albumentations',
         'fastprogress', 'fasthtml', 'fastcore.docments', 'urllib.request', 'matplotlib', 'scipy')

def loaded_after(code:str, cwd) -> dict:
    "Run `code` in a fresh interpreter; the heavy modules it left in `sys.modules`, and what it printed before."
    probe = code + f"\nimport json, sys; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    r = subprocess.run([sys.executable, '-c', probe], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    *out, last = r.stdout.strip().splitlines()
    return dict(heavy=json.loads(last), out='\n'.join(out))

@pytest.mark.parametrize('mode', ['mask', 'cutout'])
def test_predict_with_the_shipped_model_imports_no_torch(tmp_path, mode):
    Image.open(HOPPER).save(tmp_path/'hopper.jpg')
    r = loaded_after(f"from facenb.cli import main\nassert main(['predict', 'hopper.jpg', '--out', 'out', '--mode', '{mode}', "
                     "'--no-progress']) == 0", tmp_path)
    assert r['heavy'] == [], f"facenb predict imported {r['heavy']}"
    assert (tmp_path/'out'/'hopper.png').is_file() and '1 of 1 photos written' in r['out']

def test_person_mask_imports_no_torch(tmp_path):
    r = loaded_after(f"from facenb.people import person_mask\nm = person_mask({HOPPER!r})\nprint(m.shape, int(m.sum()))", tmp_path)
    assert r['heavy'] == [], f"person_mask imported {r['heavy']}"
    shape, n = r['out'].split(')')
    assert shape == '(600, 512' and 0.2*600*512 < int(n) < 0.9*600*512, r['out']   # a person, not an empty mask

def test_help_imports_no_torch_and_train_still_lists_its_options(tmp_path):
    r = loaded_after("from facenb.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass", tmp_path)
    assert r['heavy'] == [] and 'predict' in r['out']
    r = subprocess.run([sys.executable, '-m', 'facenb.cli', 'train', '--help'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and '--lr' in r.stdout and '--arch' in r.stdout, r.stdout[-1000:]
    r = subprocess.run([sys.executable, '-m', 'facenb.cli', 'compare', '--help'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and '--budget-minutes' in r.stdout and '--epochs' in r.stdout, r.stdout[-1000:]
