"""Resume is exact: a `facenb train` run with a one-cycle schedule and augmentation, stopped by SIGTERM after an
epoch and resumed with `--resume`, ends bit for bit where the same run left alone ends: weights, optimiser state,
schedule, scaler, random states and history."""
import json, os, signal, subprocess, sys, threading, time
from pathlib import Path
import torch
from conftest import data_env, easy_task

RUN = ['--arch', 'unet', '--model-kw', '{"base": 8, "depth": 2}', '--size', '64x48', '--bs', '4', '--threads', '1',
       '--epochs', '5', '--lr', '0.003', '--schedule', 'onecycle', '--no-progress']
TIMINGS = {'train_time', 'data_time', 'step_time', 'train_img_s', 'valid_time', 'time'}

def same(a, b, where='checkpoint'):
    "Exact equality of nested dicts / lists / tensors / numbers; the first difference is named."
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a, key=str) == sorted(b, key=str), f'{where}: keys {sorted(a, key=str)} != {sorted(b, key=str)}'
        for k in a: same(a[k], b[k], f'{where}[{k!r}]')
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f'{where}: lengths {len(a)} != {len(b)}'
        for i, (x, y) in enumerate(zip(a, b)): same(x, y, f'{where}[{i}]')
    else: assert a == b, f'{where}: {a!r} != {b!r}'

def comparable(run):
    "last.pt and best.pt of a run, without what names the folder or the wall clock."
    ck = torch.load(run/'last.pt', weights_only=True)
    for k in ('interrupted', 'torch_version'): ck.pop(k)
    ck['config'].pop('out')
    ck['history'] = [{k: v for k, v in h.items() if k not in TIMINGS} for h in ck['history']]
    return ck, torch.load(run/'best.pt', weights_only=True)['model']

def kill_after_the_first_epoch(p, run, timeout=300):
    "Send SIGTERM (a plain `kill`) to the training process `p` as soon as its first epoch is recorded."
    deadline = time.time() + timeout
    while not (run/'history.json').exists() and p.poll() is None and time.time() < deadline: time.sleep(0.01)
    if p.poll() is None: p.send_signal(signal.SIGTERM)

def test_a_killed_and_resumed_onecycle_run_ends_as_the_uninterrupted_one(tmp_path, monkeypatch, torch_threads):
    "The killed run is a `facenb` process of its own; the whole run and the resume run here, through `facenb.cli.main`."
    from facenb.cli import main
    monkeypatch.setenv('FACENB_CACHE', str(tmp_path/'cache'))
    monkeypatch.chdir(tmp_path)
    data = easy_task(tmp_path/'easy', n=32)
    args = ['train', '--data', str(data), *RUN]
    p = subprocess.Popen([str(Path(sys.executable).with_name('facenb')), *args, '--out', 'runs/killed'], cwd=tmp_path,
                         env={**os.environ, **data_env()}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killer = threading.Thread(target=kill_after_the_first_epoch, args=(p, tmp_path/'runs'/'killed')); killer.start()
    assert main([*args, '--out', 'runs/whole']) == 0                 # meanwhile, the same run left alone
    killer.join(); out, err = p.communicate(timeout=300)
    assert p.returncode == 130, err
    ck = torch.load(tmp_path/'runs'/'killed'/'last.pt', weights_only=True)
    assert ck['interrupted'] and 1 <= ck['epoch'] < 5 and ck['scheduler'] is not None, (ck['epoch'], ck['interrupted'])
    assert main(['train', '--resume', 'runs/killed', '--no-progress']) == 0
    (whole, whole_best), (resumed, resumed_best) = comparable(tmp_path/'runs'/'whole'), comparable(tmp_path/'runs'/'killed')
    assert whole['epoch'] == 5 and whole['scheduler']['last_epoch'] == whole['scheduler']['total_steps'] > 0   # the cycle ran to its end
    for key in ('model', 'optimizer', 'scheduler', 'scaler', 'history', 'rng'): same(whole[key], resumed[key], key)
    same(whole, resumed)                                              # and everything else the checkpoint holds
    same(whole_best, resumed_best, 'best.pt')
    assert json.loads((tmp_path/'runs'/'killed'/'history.json').read_text())[-1]['epoch'] == 5
