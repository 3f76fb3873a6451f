"""Nothing lost, round three (issue 26): `compare --overwrite` keeps the old comparison until the new one is done,
`predict`, `export` and `compare` leave no empty folder behind after a total failure, every photo of a folder that PIL
reads is segmented (GIF, JFIF, PPM, no extension) and the other files named, a full disk in predict is one line naming
the file (not a truncated JPEG), and a name given twice in a dict option is refused. The commands run in this process
where they can."""
import json
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

from facenb import cli
from facenb.sources import synthetic_people
from conftest import TINY, snapshot, one_line, listing

SMALL = 'small={"arch": "unet", "model_kw": {"base": 8, "depth": 3}}'
COMPARE = ['--data', 'synthetic', '--n-samples', '24', '--size', '64x48', '--bs', '4', '--epochs', '1', '--threads', '1',
           '--max-steps-per-epoch', '2', '--max-valid-steps', '1', '--no-progress', '--out', 'cmp', '--cache-dir', 'none',
           '--generalise', 'none']

# --- compare --overwrite -------------------------------------------------------------------------------------------

@pytest.fixture
def comparison(facenb, tmp_path):
    "A finished one-model comparison in cmp, with a file of the user's beside it and inside the model's folder."
    status, out, err = facenb('compare', *COMPARE, '--models', SMALL)
    assert status == 0, err
    cmp = tmp_path/'cmp'
    (cmp/'notes.txt').write_text('mine'); (cmp/'small'/'notes.txt').write_text('mine too')
    return cmp

@pytest.mark.parametrize('bad', [['--lr', '1e30'], ['--models', SMALL, 'resnet34', '--lr', '1e30'],
                                 ['--models', 'small={"arch": "unet", "model_kw": {"base": 0}}'], ['--loss-kw', 'pos_weight=nan']])
def test_compare_overwrite_that_fails_keeps_the_old_comparison(facenb, comparison, bad):
    before = snapshot(comparison)
    status, out, err = facenb('compare', *COMPARE, '--models', SMALL, '--overwrite', *bad)
    assert status == 1 and one_line(err), err
    assert 'is back as it was' in out or 'invalid option' in err, out + err  # put back, or refused before anything moved
    if '--lr' in bad: assert 'is back as it was' in out and 'not finite' in err, out + err
    assert snapshot(comparison) == before                               # byte for byte, the user's files included
    assert listing(comparison) == ['notes.txt', 'plan.json', 'results.csv', 'results.json', 'small']

def test_compare_overwrite_interrupted_after_training_puts_everything_back(facenb, comparison, monkeypatch):
    "Ctrl-C once both models are trained (the new one, resnet34, in a folder of its own): the old comparison, and only it."
    from facenb import compare
    before = snapshot(comparison)
    def ctrl_c(*args, **kwargs): raise KeyboardInterrupt
    monkeypatch.setattr(compare, '_result_row', ctrl_c)
    status, out, err = facenb('compare', *COMPARE, '--models', SMALL, 'resnet34', '--overwrite', '--seed', '3')
    assert status == 130 and '--- resnet34' in out and 'is back as it was' in out, out + err
    assert snapshot(comparison) == before and not (comparison/'resnet34').exists()

def test_compare_overwrite_replaces_the_old_comparison_once_done(facenb, comparison):
    status, out, err = facenb('compare', *COMPARE, '--models', SMALL, '--overwrite', '--seed', '3')
    assert status == 0, err
    assert json.loads((comparison/'results.json').read_text())['config']['seed'] == 3
    assert json.loads((comparison/'small'/'config.json').read_text())['seed'] == 3
    assert (comparison/'notes.txt').read_text() == 'mine' and (comparison/'small'/'notes.txt').read_text() == 'mine too'
    assert not (comparison/'.replaced-comparison').exists()

def test_an_interrupted_overwrite_left_aside_is_named(facenb, comparison):
    (comparison/'.replaced-comparison').mkdir()                         # what a kill -9 during an overwrite leaves
    before = snapshot(comparison)
    for extra in ([], ['--overwrite']):
        status, out, err = facenb('compare', *COMPARE, '--models', SMALL, *extra)
        assert status == 1 and one_line(err) and '.replaced-comparison holds the comparison' in err, err
    assert snapshot(comparison) == before

# --- predict and export: no empty folder after a total failure; every photo PIL reads -----------------------------

def test_predict_that_writes_nothing_leaves_no_empty_out(facenb, run, tmp_path):
    (tmp_path/'bad').mkdir()
    for n in ('a.jpg', 'b.png'): (tmp_path/'bad'/n).write_bytes(b'not an image')
    status, out, err = facenb('predict', '--checkpoint', 'runs/r', 'bad', '--out', 'new/masks', '--no-progress')
    assert status == 1 and '2 of 2 images failed' in err and '0 of 2 photos written' in out, out + err
    assert not (tmp_path/'new').exists()                                # neither the folder nor the one above it
    (tmp_path/'mine').mkdir()                                           # a folder that was there: left as it was
    status, out, err = facenb('predict', '--checkpoint', 'runs/r', 'bad', '--out', 'mine', '--no-progress')
    assert status == 1 and (tmp_path/'mine').is_dir() and not any((tmp_path/'mine').iterdir())
    photo = tmp_path/'photo.jpg'
    Image.fromarray(synthetic_people(1, size=(80, 60), seed=2)[0][0]).save(photo)
    status, out, err = facenb('predict', '--checkpoint', 'runs/r', 'bad', photo, '--out', 'half/masks', '--no-progress')
    assert status == 1 and listing(tmp_path/'half'/'masks') == ['photo.png'], err  # what was done stays

def test_predict_stopped_before_a_photo_is_written_leaves_no_empty_out(facenb, run, tmp_path, monkeypatch):
    from facenb import inference
    photo = tmp_path/'photo.jpg'
    Image.fromarray(synthetic_people(1, size=(80, 60), seed=2)[0][0]).save(photo)
    def ctrl_c(*args, **kwargs): raise KeyboardInterrupt
    monkeypatch.setattr(inference, 'predict_batch', ctrl_c)
    status, out, err = facenb('predict', '--checkpoint', 'runs/r', photo, '--out', 'new/masks', '--no-progress')
    assert status == 130 and not (tmp_path/'new').exists(), out + err

def test_export_that_fails_leaves_no_empty_out_folder(facenb, run, tmp_path, monkeypatch):
    import torch
    def fails(*args, **kwargs): raise RuntimeError('the exporter failed')
    real = torch.onnx.export
    monkeypatch.setattr(torch.onnx, 'export', fails)
    for half in ([], ['--half']):
        status, out, err = facenb('export', '--checkpoint', 'runs/r', '--out', 'new/deploy/m.onnx', *half)
        assert status == 1 and one_line(err) and 'the exporter failed' in err, err
        assert not (tmp_path/'new').exists()
    monkeypatch.setattr(torch.onnx, 'export', real)
    monkeypatch.setattr(cli, 'compact_predictor', fails)                # the float32 export done, its float16 copy fails
    (tmp_path/'m.onnx').write_bytes(b'the old predictor')
    status, out, err = facenb('export', '--checkpoint', 'runs/r', '--out', 'm.onnx', '--half', '--overwrite')
    assert status == 1 and (tmp_path/'m.onnx').read_bytes() == b'the old predictor', err   # not replaced by a half-done export
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith('.')] == []         # nor anything left beside it

def test_export_half_writes_only_out(facenb, run, tmp_path):
    status, out, err = facenb('export', '--checkpoint', 'runs/r', '--out', 'deploy/m.onnx', '--half')
    assert status == 0, err
    assert listing(tmp_path/'deploy') == ['m.onnx']   # no float32 file left beside it

def test_every_photo_of_a_folder_that_pil_reads_is_segmented(facenb, run, tmp_path):
    "GIF, JFIF, PPM and a file without extension are read like a JPEG; a text file is named as skipped, and not an error."
    d = tmp_path/'photos'; d.mkdir()
    imgs = synthetic_people(5, size=(80, 60), seed=3)[0]
    Image.fromarray(imgs[0]).save(d/'a.gif'); Image.fromarray(imgs[1]).save(d/'b.jfif', format='JPEG')
    Image.fromarray(imgs[2]).save(d/'c.ppm'); Image.fromarray(imgs[3]).save(d/'d', format='PNG')
    Image.fromarray(imgs[4]).save(d/'e.jpg'); (d/'notes.txt').write_text('not a photo')
    status, out, err = facenb('predict', '--checkpoint', 'runs/r', 'photos', '--out', 'masks', '--no-progress')
    assert status == 0, err
    assert listing(tmp_path/'masks') == ['a.png', 'b.png', 'c.png', 'd.png', 'e.png']
    assert 'skipped 1 file of photos that is not an image (notes.txt)' in out and '5 of 5 photos written' in out, out
    assert out.count('photos written') == 1                             # the summary, once
    by_name = {}
    for n in ('a.gif', 'd'):                                            # the same mask as the file given by name
        status, o, err = facenb('predict', '--checkpoint', 'runs/r', d/n, '--out', f'one-{n}', '--no-progress')
        assert status == 0, err
        by_name[n] = (tmp_path/f'one-{n}'/f'{Path(n).stem}.png').read_bytes()
    assert by_name['a.gif'] == (tmp_path/'masks'/'a.png').read_bytes() and by_name['d'] == (tmp_path/'masks'/'d.png').read_bytes()

@pytest.mark.parametrize('job', ['predict', 'evaluate', 'export'])
def test_a_full_disk_is_one_line_naming_the_file_and_leaves_no_folder(tmp_path, job):
    "A file-size limit (as a full disk would): one line naming the file, no truncated output, no empty folder left behind."
    import os, resource, subprocess, sys
    from conftest import data_env
    env = {**os.environ, **data_env(), 'FACENB_CACHE': str(tmp_path/'cache')}
    exe = Path(sys.executable).with_name('facenb')
    r = subprocess.run([str(exe), 'train', *TINY, '--epochs', '1', '--out', 'runs/r'], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    Image.fromarray(synthetic_people(1, size=(300, 400), seed=1)[0][0]).save(tmp_path/'big.jpg')
    args, dest, limit = dict(   # PIL wrote a truncated 1 KB JPEG of a 3 KB overlay without a word; the JSON is 0.5 KB
        predict=(['predict', '--checkpoint', 'runs/r', 'big.jpg', '--out', 'new/preds', '--mode', 'overlay'], 'new/preds/big.jpg', 1024),
        evaluate=(['evaluate', '--checkpoint', 'runs/r', '--out', 'new/e.json'], 'new/e.json', 100),
        export=(['export', '--checkpoint', 'runs/r', '--out', 'new/w.pt'], 'new/w.pt', 100))[job]
    r = subprocess.run([str(exe), *args, *(['--no-progress'] if job != 'export' else [])], cwd=tmp_path, env=env,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY)),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 1 and one_line(r.stderr), r.stdout + r.stderr
    assert f"could not write '{dest}': the disk is full" in r.stderr, r.stderr
    assert not (tmp_path/'new').exists()                                # no truncated file, no empty folder

def test_a_name_given_twice_in_data_weights_is_refused(facenb, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(['train', '--data', 'portraits+fasseg', '--data-weights', 'portraits=1,portraits=3', '--out', 'x'])
    assert e.value.code == 2 and "'portraits' is given twice (portraits=1 and portraits=3)" in capsys.readouterr().err

def test_a_fresh_comparison_that_fails_at_once_leaves_no_out(facenb, tmp_path, monkeypatch):
    from facenb import compare
    def fails(*args, **kwargs): raise RuntimeError('the model could not be measured')
    monkeypatch.setattr(compare, 'model_cost', fails)
    status, out, err = facenb('compare', *['new/cmp' if a == 'cmp' else a for a in COMPARE], '--models', SMALL)
    assert status == 1 and one_line(err) and 'could not be measured' in err, err
    assert not (tmp_path/'new').exists()
