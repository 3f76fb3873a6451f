"""Nothing a user has is lost, nothing silently wrong: every option is validated before anything is touched, a job
writes only what it creates (atomically), and a job that did not do all it was asked exits non-zero."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
import torch
from PIL import Image
from conftest import listing

TINY = ['--arch', 'unet', '--model-kw', '{"base": 8, "depth": 3}', '--size', '64x48', '--bs', '4', '--threads', '1',
        '--no-progress', '--data', 'synthetic', '--n-samples', '16']
RUN_FILES = ['best.pt', 'config.json', 'history.csv', 'history.json', 'last.pt']

def snapshot(folder): return {n: (Path(folder)/n).read_bytes() for n in listing(folder)}
def one_line(r): return len(r.stderr.strip().splitlines()) == 1 and 'Traceback' not in r.stderr

@pytest.fixture
def run(run_facenb, tmp_path):
    "A finished one-epoch run in runs/r."
    r = run_facenb('train', *TINY, '--epochs', '1', '--out', 'runs/r')
    assert r.returncode == 0, r.stderr
    return tmp_path/'runs'/'r'

@pytest.mark.parametrize('bad', [['--arch', 'unet99'], ['--bs', '0'], ['--lr', 'nan'], ['--data', 'no/such/folder']])
def test_overwrite_with_a_mistake_keeps_the_old_run(run_facenb, run, bad):
    before = snapshot(run)
    r = run_facenb('train', *TINY, '--epochs', '1', '--out', 'runs/r', '--overwrite', *bad)
    assert r.returncode == 1 and one_line(r), r.stderr
    assert snapshot(run) == before

@pytest.mark.parametrize('epochs', ['0', '-3'])
def test_no_epochs_is_refused_and_creates_nothing(run_facenb, tmp_path, epochs):
    r = run_facenb('train', *TINY, '--epochs', epochs, '--out', 'runs/zero')
    assert r.returncode == 1 and one_line(r) and f'epochs={epochs}' in r.stderr, r.stderr
    assert not (tmp_path/'runs').exists()

def test_wrong_options_are_refused_before_the_data_is_read(run_facenb, tmp_path):
    r = run_facenb('train', '--data', 'portraits', '--arch', 'unet99', '--cache-dir', 'cache-here', '--out', 'runs/x', '--no-progress')
    assert r.returncode == 1 and one_line(r) and "arch='unet99'" in r.stderr, r.stderr
    r = run_facenb('train', '--data', 'portraits', '--lr', '-1', '--cache-dir', 'cache-here', '--out', 'runs/x', '--no-progress')
    assert r.returncode == 1 and one_line(r) and 'lr=-1.0' in r.stderr, r.stderr
    assert not (tmp_path/'cache-here').exists() and not (tmp_path/'runs').exists()

def test_a_missing_data_folder_is_named_as_a_folder(run_facenb, tmp_path):
    r = run_facenb('train', '--data', str(tmp_path/'my-photos'), '--out', 'runs/x', '--no-progress')
    assert r.returncode == 1 and one_line(r) and 'data folder' in r.stderr and 'my-photos' in r.stderr and 'not found' in r.stderr, r.stderr
    assert 'unknown dataset' not in r.stderr

def test_constant_masks_are_refused(run_facenb, tmp_path):
    for sub in ('images', 'masks'): (tmp_path/'blank'/sub).mkdir(parents=True)
    for i in range(8):
        Image.fromarray(np.full((60, 40, 3), 30*i, np.uint8)).save(tmp_path/'blank'/'images'/f'{i}.png')
        Image.fromarray(np.zeros((60, 40), np.uint8)).save(tmp_path/'blank'/'masks'/f'{i}.png')
    r = run_facenb('train', *TINY[:-4], '--data', str(tmp_path/'blank'), '--epochs', '1', '--out', 'runs/blank')
    assert r.returncode == 1 and one_line(r) and 'nothing to learn' in r.stderr, r.stderr
    assert not (tmp_path/'runs'/'blank').exists()

def test_resume_refuses_options_it_cannot_honour(run_facenb, run):
    before = snapshot(run)
    r = run_facenb('train', '--resume', 'runs/r', '--lr', '0.01', '--arch', 'resnet34', '--no-progress')
    assert r.returncode == 1 and one_line(r) and 'cannot change arch' in r.stderr and 'lr (0.001 -> 0.01)' in r.stderr, r.stderr
    r = run_facenb('train', '--resume', 'runs/r', '--overwrite', '--no-progress')
    assert r.returncode == 1 and one_line(r) and '--overwrite' in r.stderr, r.stderr
    assert snapshot(run) == before
    r = run_facenb('train', '--resume', 'runs/r', '--epochs', '2', '--threads', '1', '--no-progress')  # these may change
    assert r.returncode == 0, r.stderr
    assert [h['epoch'] for h in json.loads((run/'history.json').read_text())] == [1, 2]

def test_sigterm_saves_the_run_and_leaves_no_partial_file(tmp_path, run_facenb):
    "`kill` during training: exit 130, last.pt whole and not behind the history, nothing half-written left."
    from conftest import data_env
    env = {**os.environ, **data_env(), 'FACENB_CACHE': str(tmp_path/'cache')}
    exe = Path(sys.executable).with_name('facenb')
    p = subprocess.Popen([str(exe), 'train', *TINY, '--epochs', '50', '--out', 'runs/k'], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path/'runs'/'k'/'history.json').exists() and time.time() < deadline: time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    run = tmp_path/'runs'/'k'
    assert listing(run) == RUN_FILES     # no temporary file
    ck = torch.load(run/'last.pt', weights_only=True)
    hist = json.loads((run/'history.json').read_text())
    assert ck['interrupted'] and 1 <= len(hist) <= ck['epoch']    # the history never claims more than the checkpoint
    (run/'.last.pt.ab12cd34.tmp').write_bytes(b'\0' * 1000)       # what a kill -9 during a write would leave
    r = run_facenb('train', '--resume', 'runs/k', '--epochs', str(ck['epoch'] + 1), '--no-progress')
    assert r.returncode == 0 and 'removed 1 partly written file' in r.stdout, r.stdout + r.stderr
    assert listing(run) == RUN_FILES

def test_checkpoint_errors_name_the_file(run_facenb, run, tmp_path):
    ck = torch.load(run/'last.pt', weights_only=True)
    ck['model_config'] = dict(ck['model_config'], name='resnet34')  # a config that builds no model
    torch.save(ck, tmp_path/'mixed.pt')
    r = run_facenb('evaluate', '--checkpoint', 'mixed.pt', '--no-progress')
    assert r.returncode == 1 and one_line(r) and 'mixed.pt: its model config does not build a model' in r.stderr, r.stderr
    ck['model_config'] = dict(name='resnet34', n_classes=1)   # another architecture than its weights
    torch.save(ck, tmp_path/'mixed.pt')
    r = run_facenb('evaluate', '--checkpoint', 'mixed.pt', '--no-progress')
    assert r.returncode == 1 and one_line(r) and "mixed.pt does not fit the model 'resnet34'" in r.stderr, r.stderr
    assert len(r.stderr) < 400
    class Evil:
        def __reduce__(self): return (os.system, ('echo pwned',))
    torch.save({'model': Evil()}, tmp_path/'evil.pt')
    r = run_facenb('evaluate', '--checkpoint', 'evil.pt', '--no-progress')
    assert r.returncode == 1 and one_line(r) and 'refused to load checkpoint evil.pt' in r.stderr, r.stderr
    assert 'weights_only' not in r.stderr and 'pwned' not in r.stdout

@pytest.fixture
def photos(tmp_path):
    from facenb.sources import synthetic_people
    (tmp_path/'photos').mkdir()
    for i, im in enumerate(synthetic_people(3, size=(80, 60), seed=2)[0]): Image.fromarray(im).save(tmp_path/'photos'/f'p{i}.jpg')
    return tmp_path/'photos'

def test_predict_never_replaces_what_it_did_not_write(run_facenb, run, photos, tmp_path):
    originals = snapshot(photos)
    for extra in ([], ['--overwrite']):   # into the photos' own folder: refused, --overwrite or not
        r = run_facenb('predict', '--checkpoint', 'runs/r', 'photos', '--out', 'photos', '--mode', 'overlay', *extra, '--no-progress')
        assert r.returncode == 1 and one_line(r) and 'is one of the input photos' in r.stderr, r.stderr
    assert snapshot(photos) == originals
    (tmp_path/'out').mkdir(); (tmp_path/'out'/'p1.png').write_bytes(b'the user\'s own file')
    r = run_facenb('predict', '--checkpoint', 'runs/r', 'photos', '--out', 'out', '--no-progress')
    assert r.returncode == 1 and one_line(r) and '1 of the 3 output files are already in out (p1.png)' in r.stderr, r.stderr
    assert snapshot(tmp_path/'out') == {'p1.png': b'the user\'s own file'}
    r = run_facenb('predict', '--checkpoint', 'runs/r', 'photos', '--out', 'out', '--overwrite', '--no-progress')
    assert r.returncode == 0 and sorted(snapshot(tmp_path/'out')) == ['p0.png', 'p1.png', 'p2.png'], r.stderr

def test_predict_fails_when_not_everything_was_done(run_facenb, run, photos, tmp_path):
    (photos/'broken.jpg').write_bytes(b'not a jpeg')
    r = run_facenb('predict', '--checkpoint', 'runs/r', 'photos', '--out', 'masks', '--no-progress')
    assert r.returncode == 1 and '1 of 4 images failed: broken.jpg' in r.stderr, r.stderr
    assert listing(tmp_path/'masks') == ['p0.png', 'p1.png', 'p2.png']
    (tmp_path/'empty').mkdir()
    r = run_facenb('predict', '--checkpoint', 'runs/r', 'empty', '--out', 'nothing', '--no-progress')
    assert r.returncode == 1 and one_line(r) and 'no photos in empty' in r.stderr, r.stderr
    r = run_facenb('predict', '--checkpoint', 'runs/r', 'photos/p9.jpg', '--out', 'nothing', '--no-progress')
    assert r.returncode == 1 and one_line(r) and 'photos/p9.jpg not found' in r.stderr, r.stderr
    assert not (tmp_path/'nothing').exists()
