"""Nothing lost, round three (issue 26): `compare --overwrite` keeps the old comparison until the new one is done,
`predict` and `export` leave no empty folder behind after a total failure, and every photo of a folder that PIL reads
is segmented (GIF, JFIF, PPM, no extension), the files that are not photos named. The commands run in this process."""
import json
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

from facenb import cli
from facenb.data import synthetic_people

SMALL = 'small={"arch": "unet", "model_kw": {"base": 8, "depth": 3}}'
COMPARE = ['--data', 'synthetic', '--n-samples', '24', '--size', '64x48', '--bs', '4', '--epochs', '1', '--threads', '1',
           '--max-steps-per-epoch', '2', '--max-valid-steps', '1', '--no-progress', '--out', 'cmp', '--cache-dir', 'none',
           '--generalise', 'none']
TINY = ['--arch', 'unet', '--model-kw', '{"base": 8, "depth": 3}', '--size', '64x48', '--bs', '4', '--threads', '1',
        '--no-progress', '--data', 'synthetic', '--n-samples', '16']

def snapshot(folder): return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob('*')) if p.is_file()}
def one_line(err): return len(err.strip().splitlines()) == 1 and 'Traceback' not in err

@pytest.fixture
def facenb(tmp_path, monkeypatch, capsys, torch_threads):
    "Run `facenb ARGS` in this process, in `tmp_path`: returns (exit status, stdout, stderr)."
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('FACENB_CACHE', str(tmp_path/'cache'))
    monkeypatch.delenv('FACENB_DEBUG', raising=False)
    def run(*args):
        capsys.readouterr()
        status = cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        return status, out, err
    return run

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
    assert sorted(p.name for p in comparison.iterdir()) == ['notes.txt', 'plan.json', 'results.csv', 'results.json', 'small']

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
