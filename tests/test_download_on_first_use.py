"A published dataset that is not in the data folder is downloaded on first use, unless downloads are off."
import os
from pathlib import Path

TINY = ['--arch', 'unet', '--model-kw', '{"base": 8, "depth": 3}', '--size', '64x48', '--bs', '4', '--n-samples', '8',
        '--epochs', '1', '--threads', '1', '--no-progress', '--out', 'runs/h']

def test_train_downloads_the_dataset_then_trains(run_facenb, mirror, tmp_path):
    env = {'FACENB_DATA': str(tmp_path/'data'), 'FACENB_MIRROR': mirror, 'FACENB_DOWNLOAD': '1'}
    r = run_facenb('train', '--data', 'human-segmentation', *TINY, env=env)
    assert r.returncode == 0, r.stderr
    folder = tmp_path/'data'/'human-segmentation'
    assert f'human-segmentation: downloaded {mirror}/human-segmentation.zip into {folder}' in r.stdout, r.stdout
    assert len(list((folder/'Ground_Truth').iterdir())) == 290 and 'train_loss: ' in r.stdout
    r = run_facenb('data', 'human-segmentation', env=env)    # there now: not downloaded again
    assert r.returncode == 0 and 'downloading' not in r.stdout, r.stdout + r.stderr

def test_downloads_off_is_one_line_naming_the_command(run_facenb, mirror, tmp_path):
    env = {'FACENB_DATA': str(tmp_path/'data'), 'FACENB_MIRROR': mirror, 'FACENB_DOWNLOAD': '0'}
    r = run_facenb('train', '--data', 'fasseg', '--n-classes', '6', '--loss', 'ce', *TINY, env=env)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert 'run `facenb download fasseg`' in r.stderr and 'facenb.data' not in r.stderr, r.stderr
    assert not (tmp_path/'data'/'fasseg-v2').exists() and not (tmp_path/'runs').exists()

def test_no_network_is_one_line_naming_what_to_do(run_facenb, tmp_path):
    env = {'FACENB_DATA': str(tmp_path/'data'), 'FACENB_MIRROR': 'http://127.0.0.1:9', 'FACENB_DOWNLOAD': '1'}   # nothing listens there
    r = run_facenb('data', 'fasseg', env=env)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "could not download 'fasseg'" in r.stderr and 'facenb download fasseg' in r.stderr and 'FACENB_MIRROR' in r.stderr
    assert not list((tmp_path/'data').glob('.fasseg-v2-download-*'))                      # nothing half-made left
