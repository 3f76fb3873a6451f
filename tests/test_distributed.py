"`facenb train` under `torchrun`: 2 CPU processes (gloo) on tiny synthetic data; one writer, whole-split validation, exact resume."
import csv, json, os, subprocess, sys
from pathlib import Path
import pytest
import torch
from conftest import data_env, listing

# 44 images: 33 to train (17 per process, one of them repeated), 11 to validate (6 + 5: uneven shards)
TINY = ['--data', 'synthetic', '--n-samples', '44', '--valid-pct', '0.25', '--arch', 'unet', '--model-kw', '{"base": 8, "depth": 3}',
        '--size', '64x48', '--bs', '4', '--device', 'cpu', '--threads', '1', '--no-progress']
FILES = ['best.pt', 'config.json', 'history.csv', 'history.json', 'last.pt']
TIMES = {'time', 'train_time', 'valid_time', 'data_time', 'step_time', 'train_img_s'}  # measured, not computed

def run(cwd:Path, *args, timeout=300):
    "Run `python -m ...` in `cwd` with the test data and a private cache; fail with its output if it fails."
    env = {**os.environ, **data_env(), 'FACENB_CACHE': str(cwd/'cache'), 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([sys.executable, '-m', *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f'{args}\n--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-3000:]}'
    return r

def torchrun(cwd:Path, *args, n=2):
    "`torchrun --standalone --nproc_per_node n -m facenb.cli train ...` (through the interpreter: no PATH needed)."
    return run(cwd, 'torch.distributed.run', '--standalone', '--nproc_per_node', n, '-m', 'facenb.cli', 'train', *args)

def history(run_dir): return json.loads((run_dir/'history.json').read_text())
def numbers(h): return [{k: v for k, v in row.items() if k not in TIMES} for row in h]
def weights(path): return torch.load(path, map_location='cpu', weights_only=True)['model']

@pytest.fixture(scope='module')
def straight(tmp_path_factory):
    "A 2-process run of 2 epochs, uninterrupted: (folder it ran in, its stdout)."
    cwd = tmp_path_factory.mktemp('ddp')
    return cwd, torchrun(cwd, *TINY, '--epochs', 2, '--out', 'runs/straight').stdout

def test_two_processes_write_one_run_and_validate_the_whole_split(straight):
    cwd, stdout = straight
    out = cwd/'runs'/'straight'
    assert stdout.count('train_loss: ') == 2 and stdout.count('best val_jaccard') == 1, stdout  # rank 0 alone logs
    assert listing(out) == FILES                                  # one set, no temporary files
    h = history(out)
    assert [r['epoch'] for r in h] == [1, 2] and len(list(csv.DictReader(open(out/'history.csv')))) == 2
    assert [(r['n_train'], r['n_valid']) for r in h] == [(32, 11)] * 2                    # global counts
    assert not any(k.startswith('module.') for k in weights(out/'last.pt'))                 # the plain model, not DDP's wrapper
    run(cwd, 'facenb.cli', 'evaluate', '--checkpoint', out/'last.pt', '--bs', 4, '--no-progress', '--out', 'eval.json')
    ev = json.loads((cwd/'eval.json').read_text())                                          # one process, the same split
    assert ev['n_images'] == 11 and ev['epoch'] == 2
    diffs = {k: abs(ev[k] - h[-1][f'val_{k}']) for k in
             ('dice', 'jaccard', 'dice_micro', 'jaccard_micro', 'accuracy', 'precision', 'recall', 'loss')}
    print('max |logged - evaluate|:', max(diffs.values()), diffs)
    assert max(diffs.values()) < 1e-6, diffs

def test_resumed_two_process_run_equals_the_uninterrupted_one(straight):
    cwd, _ = straight
    torchrun(cwd, *TINY, '--epochs', 1, '--out', 'runs/part')
    assert len(history(cwd/'runs'/'part')) == 1
    r = torchrun(cwd, '--resume', 'runs/part', '--epochs', 2, '--no-progress')
    assert r.stdout.count('resuming ') == 1 and r.stdout.count('train_loss: ') == 1, r.stdout
    a, b = cwd/'runs'/'straight', cwd/'runs'/'part'
    assert numbers(history(a)) == numbers(history(b))
    for name in ('last.pt', 'best.pt'):
        wa, wb = weights(a/name), weights(b/name)
        assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa), name
