"""Nothing lost, round four (issue 35): one writer per folder (two real `facenb` processes into one --out), a command
replaces only what it wrote (the folder's manifest: `compare --overwrite` and a run of the user's own, `export` over a
run's checkpoints), numbers that cannot lie (sizes too small for the model, evaluations named by their settings, every
option honoured or refused), one reader for every photo, errors in the user's words, `facenb data` that lists every
problem. The commands run in this process where they can; the concurrency tests start real processes."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

from conftest import TINY, snapshot, one_line, data_env

# --- helpers -------------------------------------------------------------------------------------------------------

def photos(folder, n=4, size=(48, 64)):
    "`n` small noisy RGB photos in `folder`."
    folder = Path(folder); folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n): Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(folder/f'{i}.png')
    return folder

def start(tmp_path, *args):
    "Start `facenb ARGS` as a process of its own in `tmp_path`."
    env = {**os.environ, **data_env(), 'FACENB_CACHE': str(tmp_path/'cache')}
    env.pop('FACENB_DEBUG', None)
    exe = Path(sys.executable).with_name('facenb')
    return subprocess.Popen([str(exe), *map(str, args)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def stopped_once_writing(proc, folder, timeout=120):
    "Wait until `proc` has written a file into `folder`, then stop it (SIGSTOP): a second command runs while it holds the folder."
    def written(): return Path(folder).is_dir() and any(p.is_file() and p.stat().st_size > 0 for p in Path(folder).iterdir())
    t0 = time.monotonic()
    while not written():
        assert proc.poll() is None, f'the first command ended before it wrote anything: {proc.communicate()}'
        assert time.monotonic() - t0 < timeout, 'the first command never made its folder'
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGSTOP)

# --- 1. one writer at a time ---------------------------------------------------------------------------------------

def test_two_predicts_into_one_out_the_second_is_refused(tmp_path, facenb):
    photos(tmp_path/'in', n=6)
    first = start(tmp_path, 'predict', 'in', '--out', 'out', '--no-progress')
    stopped_once_writing(first, tmp_path/'out')
    try: status, _, err2 = facenb('predict', 'in', '--out', 'out', '--no-progress')   # the second command, in this process
    finally: os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert status == 1 and one_line(err2), err2
    assert f'process {first.pid}' in err2 and 'out is being written by `facenb predict' in err2, err2
    assert sorted(p.name for p in (tmp_path/'out').iterdir() if not p.name.startswith('.')) == [f'{i}.png' for i in range(6)]
    assert not (tmp_path/'out'/'.facenb.lock').exists()   # released on exit

def test_two_trains_into_one_out_the_second_is_refused(tmp_path, facenb):
    first = start(tmp_path, 'train', *TINY, '--epochs', '2', '--seed', '1', '--out', 'runs/r')
    stopped_once_writing(first, tmp_path/'runs'/'r')
    try: status, _, err2 = facenb('train', *TINY, '--epochs', '1', '--seed', '2', '--out', 'runs/r')   # in this process
    finally: os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert status == 1 and one_line(err2) and f'process {first.pid}' in err2, err2
    import torch
    run = tmp_path/'runs'/'r'
    assert json.loads((run/'config.json').read_text())['seed'] == 1          # the first run's files, all of them
    assert torch.load(run/'last.pt', weights_only=False)['config']['seed'] == 1
    assert [r['epoch'] for r in json.loads((run/'history.json').read_text())] == [1, 2]

def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path, facenb):
    photos(tmp_path/'in', n=1)
    (tmp_path/'out').mkdir()
    (tmp_path/'out'/'.facenb.lock').write_text(json.dumps(dict(pid=999999, host='elsewhere', command='facenb predict out')))
    status, out, err = facenb('predict', 'in', '--out', 'out', '--no-progress')
    assert status == 0, err
    assert (tmp_path/'out'/'0.png').exists() and not (tmp_path/'out'/'.facenb.lock').exists()

def test_a_file_that_appears_after_the_check_is_not_replaced(tmp_path):
    from facenb.core import atomic_write
    target = tmp_path/'1.png'
    def write(tmp):  # another program writes 1.png while facenb is writing it
        target.write_text('theirs'); Path(tmp).write_text('ours')
    with pytest.raises(FileExistsError, match='appeared while facenb was writing it'): atomic_write(target, write, replace=False)
    assert target.read_text() == 'theirs' and [p.name for p in tmp_path.iterdir()] == ['1.png']

# --- 2. a command replaces only what it wrote (the manifest) -------------------------------------------------------

CMP = ['--data', 'synthetic', '--n-samples', '16', '--size', '64x48', '--bs', '4', '--epochs', '1', '--threads', '1',
       '--max-steps-per-epoch', '1', '--max-valid-steps', '1', '--no-progress', '--out', 'cmp', '--cache-dir', 'none',
       '--generalise', 'none', '--model-kw', 'base=8,depth=3']

def test_compare_overwrite_keeps_a_users_run_named_like_a_new_label(facenb, tmp_path):
    status, out, err = facenb('train', *TINY, '--epochs', '1', '--out', 'cmp/unet')   # the user's own run
    assert status == 0, err
    before = snapshot(tmp_path/'cmp')
    status, out, err = facenb('compare', *CMP, '--models', 'unet', '--overwrite')
    assert status == 1 and one_line(err) and 'did not write it' in err, err
    assert snapshot(tmp_path/'cmp') == before

def test_compare_honours_model_kw(facenb, tmp_path):
    status, out, err = facenb('compare', *CMP, '--models', 'unet')
    assert status == 0, err
    plan = json.loads((tmp_path/'cmp'/'plan.json').read_text())
    assert plan['models']['unet']['model_kw'] == {'base': 8, 'depth': 3}, plan['models']['unet']
    assert json.loads((tmp_path/'cmp'/'unet'/'config.json').read_text())['model_kw'] == {'base': 8, 'depth': 3}
    assert plan['models']['unet']['params_M'] < 1

@pytest.mark.parametrize('name', ['last.pt', 'best.pt'])
@pytest.mark.parametrize('manifest', [True, False])   # False: a run written by facenb before manifests
def test_export_never_replaces_a_runs_checkpoint(facenb, run, name, manifest):
    if not manifest: (run/'.facenb-manifest.json').unlink(missing_ok=True)
    before = snapshot(run)
    other = 'best.pt' if name == 'last.pt' else 'last.pt'   # exported from the run's other checkpoint, over this one
    status, out, err = facenb('export', '--checkpoint', run/other, '--out', run/name, '--overwrite')
    assert status == 1 and one_line(err) and 'written by facenb train' in err, err
    assert snapshot(run) == before

def test_predict_overwrite_replaces_only_what_predict_wrote(facenb, tmp_path):
    photos(tmp_path/'in', n=2)
    assert facenb('predict', 'in', '--out', 'out', '--no-progress')[0] == 0
    assert json.loads((tmp_path/'out'/'.facenb-manifest.json').read_text())['files']['0.png']['command'] == 'predict'
    (tmp_path/'out'/'1.png').write_bytes(b'the user put their own file here')
    status, out, err = facenb('predict', 'in', '--out', 'out', '--overwrite', '--no-progress')
    assert status == 1 and one_line(err) and 'was not written by facenb predict' in err, err
    assert (tmp_path/'out'/'1.png').read_bytes() == b'the user put their own file here'
    (tmp_path/'out'/'1.png').unlink()
    assert facenb('predict', 'in', '--out', 'out', '--overwrite', '--no-progress')[0] == 0   # its own files: replaced

# --- 3. numbers that cannot lie ------------------------------------------------------------------------------------

def test_evaluate_below_the_models_stride_is_refused(facenb, run):
    status, out, err = facenb('evaluate', '--checkpoint', run, '--size', '1x1', '--no-progress')
    assert status == 1 and one_line(err) and "smaller than the model's stride (8 pixels" in err and '--size' in err, err
    assert not list(run.glob('eval-*.json'))

def test_evaluations_with_other_settings_do_not_replace_each_other(facenb, run):
    for extra in ([], ['--size', '32x24'], ['--threshold', '0.3']):
        assert facenb('evaluate', '--checkpoint', run, '--no-progress', *extra)[0] == 0
    files = {p.name: json.loads(p.read_text()) for p in run.glob('eval-*.json')}
    assert sorted(files) == ['eval-synthetic-valid-32x24.json', 'eval-synthetic-valid-t0.3.json', 'eval-synthetic-valid.json']
    assert files['eval-synthetic-valid-32x24.json']['size'] == [32, 24] and files['eval-synthetic-valid-t0.3.json']['threshold'] == 0.3

def test_evaluate_refuses_masks_that_are_all_empty_at_its_size(facenb, run, tmp_path):
    for sub in ('images', 'masks'): (tmp_path/'nobody'/sub).mkdir(parents=True)
    for i in range(4):
        Image.new('RGB', (48, 64), (90, 90, 90)).save(tmp_path/'nobody'/'images'/f'{i}.png')
        Image.new('L', (48, 64), 0).save(tmp_path/'nobody'/'masks'/f'{i}.png')
    status, out, err = facenb('evaluate', '--checkpoint', run, '--data', 'nobody', '--split', 'trainval', '--no-progress')
    assert status == 1 and one_line(err) and 'is empty at 64x48 pixels: a model that predicts nothing would score' in err, err
    assert not list(run.glob('eval-*.json'))

@pytest.mark.parametrize('size,model_kw,stride', [('31x17', 'base=4,depth=5', 32), ('1x1', 'base=4,depth=3', 8)])
def test_train_below_the_models_stride_is_refused(facenb, tmp_path, size, model_kw, stride):
    args = [a for a in TINY if a not in ('--size', '64x48', '--model-kw', '{"base": 8, "depth": 3}')]
    status, out, err = facenb('train', *args, '--model-kw', model_kw, '--size', size, '--epochs', '1', '--out', 'runs/r')
    assert status == 1 and one_line(err) and f"smaller than the model's stride ({stride} pixels" in err, err
    assert not (tmp_path/'runs').exists()

def test_bg_outside_replace_is_refused(facenb, tmp_path):
    photos(tmp_path/'in', n=1); photos(tmp_path/'bg', n=1)
    status, out, err = facenb('predict', 'in', '--out', 'out', '--mode', 'cutout', '--bg', 'bg/0.png', '--no-progress')
    assert status == 1 and one_line(err) and '--bg is the new background of --mode replace' in err, err
    assert not (tmp_path/'out').exists()

# --- 5. errors in the user's words ---------------------------------------------------------------------------------

def test_the_cli_names_flags_not_parameters(facenb, run):
    status, out, err = facenb('train', *TINY, '--pretrained', '--epochs', '1', '--out', 'runs/other')
    assert status == 1 and one_line(err) and '--no-pretrained' in err and 'pretrained=False' not in err, err
    status, out, err = facenb('train', *TINY, '--epochs', '1', '--out', run)
    assert status == 1 and '--resume' in err and '--overwrite' in err and '=True' not in err, err

@pytest.mark.parametrize('args,says', [(['--size', '0x0'], 'argument --size'),
                                       (['--model-kw', 'base=8,depth=99'], 'cannot be built with these options')])
def test_bad_sizes_and_model_options_are_one_line(facenb, capsys, args, says):
    try: status, out, err = facenb('train', '--data', 'synthetic', '--arch', 'unet', '--epochs', '1', '--out', 'runs/r', *args)
    except SystemExit as e: status, err = e.code, capsys.readouterr().err   # argparse's refusal
    assert status in (1, 2) and one_line(err) and says in err, err

@pytest.mark.parametrize('kind', ['folder', 'fifo'])
def test_bg_that_is_not_a_file_is_named_as_such(facenb, tmp_path, kind):
    photos(tmp_path/'in', n=1)
    if kind == 'folder': (tmp_path/'bg').mkdir()
    else: os.mkfifo(tmp_path/'bg')
    status, out, err = facenb('predict', 'in', '--out', 'out', '--mode', 'replace', '--bg', 'bg', '--no-progress')
    assert status == 1 and one_line(err) and ('is a folder' if kind == 'folder' else 'not a regular file (a FIFO') in err, err

def test_ctrl_c_while_starting_is_one_line(tmp_path):
    proc = start(tmp_path, 'data', 'synthetic')
    time.sleep(1.5)   # still importing torch
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130 and one_line(err) and 'interrupted' in err, (proc.returncode, err[-2000:])

# --- 4. one rule for every photo -----------------------------------------------------------------------------------

@pytest.mark.parametrize('photo,says', [(None, 'the photo is None'), (b'\xff\xd8 not really a JPEG', 'bytes given are not an image file'),
                                        (np.zeros((0, 0)), 'is empty'), (np.full((8, 8, 3), -0.5), 'values in [0, 1] or [0, 255]')])
def test_person_mask_refuses_what_is_not_a_photo_in_one_line(photo, says):
    from facenb.people import person_mask
    with pytest.raises((ValueError, TypeError), match=None) as e: person_mask(photo)
    assert says in str(e.value) and '\n' not in str(e.value), str(e.value)

@pytest.mark.parametrize('threshold', [1.5, float('nan'), 0, -1])
def test_person_mask_checks_its_threshold_as_predict_does(threshold):
    from facenb.people import person_mask
    with pytest.raises(ValueError, match='threshold must be between 0 and 1'): person_mask(np.zeros((32, 24, 3), np.uint8), threshold=threshold)

def test_person_mask_reads_image_bytes():
    import io
    from facenb.people import person_mask
    buf = io.BytesIO(); Image.new('RGB', (40, 30), (200, 120, 90)).save(buf, 'JPEG')
    assert person_mask(buf.getvalue()).shape == (30, 40)

def test_cutouts_keep_transparency_and_a_transparent_bg_is_composited(facenb, tmp_path):
    rgba = np.zeros((48, 64, 4), np.uint8); rgba[..., :3] = (200, 120, 90); rgba[..., 3] = 255; rgba[:, :32, 3] = 0
    (tmp_path/'in').mkdir(); Image.fromarray(rgba).save(tmp_path/'in'/'p.png')
    assert facenb('predict', 'in', '--out', 'cut', '--mode', 'cutout', '--no-progress')[0] == 0
    assert (np.asarray(Image.open(tmp_path/'cut'/'p.png'))[:, :32, 3] == 0).all()   # transparent in, transparent out
    bg = np.zeros((48, 64, 4), np.uint8); bg[..., 1] = 255   # fully transparent, its hidden colour green
    Image.fromarray(bg).save(tmp_path/'bg.png')
    assert facenb('predict', 'in', '--out', 'rep', '--mode', 'replace', '--bg', 'bg.png', '--no-progress')[0] == 0
    out = np.asarray(Image.open(next((tmp_path/'rep').iterdir())).convert('RGB')).astype(int)
    assert np.abs(out - (200, 120, 90)).max() < 12   # the photo's own background shows (a JPEG), not the hidden green

# --- 6. facenb data: the checks of train, every problem in one pass ------------------------------------------------

def test_data_lists_every_problem_and_fails(facenb, tmp_path):
    bad = tmp_path/'bad'
    for sub in ('images', 'masks'): (bad/sub).mkdir(parents=True)
    for i in range(5):
        Image.new('RGB', (40, 30), (90, 90, 90)).save(bad/'images'/f'{i}.jpg'); Image.new('L', (40, 30), 255).save(bad/'masks'/f'{i}.png')
    (bad/'images'/'1.jpg').write_bytes((bad/'images'/'1.jpg').read_bytes()[:200])   # a truncated JPEG
    Image.new('L', (30, 30), 255).save(bad/'masks'/'2.png')                          # a mask of another aspect ratio
    Image.new('L', (80, 60), 255).save(bad/'masks'/'3.png')                          # a larger mask, same aspect: not smaller
    Image.new('L', (20, 15), 255).save(bad/'masks'/'4.png')                          # a smaller one
    status, out, err = facenb('data', bad)
    assert status == 1 and one_line(err) and '2 of 5 pairs' in err, err
    assert 'problem: 1:' in out and 'truncated' in out and 'problem: 2:' in out and 'aspect' in out, out
    assert re_count(out) == 1, out

def re_count(out):
    "The 'masks smaller than image' count of `facenb data`'s table."
    import re
    return int(re.search(r'masks smaller than image\s+(\d+)', out)[1])

# --- round three, what was still open -------------------------------------------------------------------------------

def test_pretrained_weights_are_not_downloaded_when_downloads_are_off(facenb, tmp_path, monkeypatch):
    import torch.hub
    def tried(*args, **kw): raise AssertionError('a download was tried')
    monkeypatch.setattr(torch.hub, 'download_url_to_file', tried)
    assert TINY[:4] == ['--arch', 'unet', '--model-kw', '{"base": 8, "depth": 3}']
    status, out, err = facenb('train', '--arch', 'resnet34', '--pretrained', *TINY[4:], '--epochs', '1', '--out', 'runs/r',
                              env={'FACENB_DOWNLOAD': '0', 'TORCH_HOME': str(tmp_path/'torch')})
    assert status == 1 and one_line(err) and 'downloads are off (FACENB_DOWNLOAD=0)' in err and '--no-pretrained' in err, err
    assert not (tmp_path/'runs').exists()

def _shipped_onnx(): return Path(__file__).resolve().parent.parent/'facenb'/'weights'/'people.onnx'

@pytest.mark.parametrize('name,content,says', [
    ('x.json', '{"a": 1}', 'is not a checkpoint: it is a JSON file'),
    ('config.pt', '{"arch": "unet", "size": [64, 48]}', "is not a checkpoint: it is a JSON file (a run's config.json?)"),
    ('notes.pt', 'epoch 1: loss 0.5\n', 'is not a checkpoint: it is a text file'),   # main: "KeyError: 101"
    ('people.onnx', None, 'is not a checkpoint: it is an ONNX model (facenb export)'),
    ('people.pt', None, 'is not a checkpoint: it is an ONNX model (facenb export)')])   # an ONNX model renamed
def test_a_file_that_is_not_a_checkpoint_is_named_for_what_it_is(facenb, tmp_path, name, content, says):
    if content is None: (tmp_path/name).write_bytes(_shipped_onnx().read_bytes())
    else: (tmp_path/name).write_text(content)
    for args in (['evaluate', '--checkpoint', name, '--no-progress'], ['export', '--checkpoint', name, '--out', 'w.pt']):
        status, out, err = facenb(*args)
        assert status == 1 and one_line(err) and f'{name} {says}' in err and 'pickled' not in err, err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != 'cache') == [name]

@pytest.fixture(scope='module')
def fasseg_archive(tmp_path_factory):
    "A folder holding fasseg.zip, laid out as its public archive (16 MB, from the shared copy)."
    from facenb.data import data_root
    from mirror import build_archive
    if not os.environ.get('FACENB_DATA'): pytest.skip('needs the shared datasets (FACENB_DATA) to build the archive from')
    folder = tmp_path_factory.mktemp('mirror')
    build_archive('fasseg', data_root(), folder)
    return folder

@pytest.fixture
def held_mirror(fasseg_archive):
    "Serve the archive over HTTP; the first download's body is held back until `release()`: a download under way."
    import functools, http.server, threading
    asked, go = threading.Event(), threading.Event()
    class Held(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
        def copyfile(self, src, dst):
            if not asked.is_set(): asked.set(); go.wait(60)
            super().copyfile(src, dst)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Held, directory=str(fasseg_archive)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try: yield f'http://127.0.0.1:{server.server_address[1]}', asked, go.set
    finally: go.set(); server.shutdown(); server.server_close()

def test_two_downloads_into_one_dest_the_second_is_refused(tmp_path, facenb, held_mirror):
    url, asked, release = held_mirror
    env = {**os.environ, **data_env(), 'FACENB_CACHE': str(tmp_path/'cache'), 'FACENB_MIRROR': url}
    first = subprocess.Popen([str(Path(sys.executable).with_name('facenb')), 'download', 'fasseg', '--dest', 'd'], cwd=tmp_path,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert asked.wait(120), 'the first download never asked for the archive'
        status, out, err = facenb('download', 'fasseg', '--dest', 'd', env={'FACENB_MIRROR': url})
    finally: release()
    out1, err1 = first.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert status == 1 and one_line(err) and f'd is being written by `facenb download fasseg` (process {first.pid}' in err, err
    assert sorted(p.name for p in (tmp_path/'d').iterdir()) == ['fasseg-v2']   # no lock, no work folder left
    from facenb.download import validate_layout
    assert validate_layout('fasseg', tmp_path/'d') == {'trainval': 20, 'test': 50}

def test_the_download_bar_is_drawn_on_a_terminal_only_and_obeys_no_progress(facenb, held_mirror, monkeypatch, tmp_path):
    url, asked, release = held_mirror
    release()
    env = {'FACENB_MIRROR': url}
    status, out, err = facenb('download', 'fasseg', '--dest', 'log', env=env)   # stdout is not a terminal here: a log
    assert status == 0 and '\r' not in out + err and out.strip() == f'fasseg: ready in log/fasseg-v2', (out, err)
    monkeypatch.setattr(sys.stdout, 'isatty', lambda: True)   # a terminal
    status, out, err = facenb('download', 'fasseg', '--dest', 'tty', env=env)
    assert status == 0 and '\r' in out, out   # the bar (so the next check can see one)
    status, out, err = facenb('download', 'fasseg', '--dest', 'quiet', '--no-progress', env=env)
    assert status == 0 and '\r' not in out + err, out
    assert TINY[-4:] == ['--data', 'synthetic', '--n-samples', '16']   # a dataset downloaded on first use, under --no-progress
    status, out, err = facenb('train', *TINY[:-4], '--data', 'fasseg', '--n-classes', '6', '--loss', 'ce', '--epochs', '1',
                              '--max-steps-per-epoch', '1', '--max-valid-steps', '1', '--out', 'runs/r',
                              env={**env, 'FACENB_DATA': str(tmp_path/'first-use'), 'FACENB_DOWNLOAD': '1'})
    assert status == 0 and 'fasseg: downloaded' in out and '\r' not in out + err, (out, err)
