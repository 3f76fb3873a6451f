"The peer benchmark (`bench/peer.py`) end to end on a tiny model: a PyTorch checkpoint and its ONNX predictor scored on the same validation photos; MediaPipe too where its environment is given (FACENB_MEDIAPIPE_PYTHON)."
import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

def test_peer_bench_scores_every_model_on_the_same_photos(run_facenb, tmp_path):
    if not os.environ.get('FACENB_DATA'): pytest.skip('needs the shared datasets (FACENB_DATA)')
    r = run_facenb('train', '--data', 'synthetic', '--arch', 'unet', '--model-kw', 'base=8,depth=3', '--size', '64x48', '--bs', '4',
                   '--epochs', '1', '--max-steps-per-epoch', '3', '--threads', '1', '--no-progress', '--out', 'runs/tiny')
    assert r.returncode == 0, r.stderr
    r = run_facenb('export', '--checkpoint', 'runs/tiny', '--out', 'tiny.onnx')
    assert r.returncode == 0, r.stderr
    from conftest import data_env
    env = {**os.environ, **data_env(), 'FACENB_CACHE': str(tmp_path/'cache')}
    r = subprocess.run([sys.executable, str(ROOT/'bench/peer.py'), '--models', 'tiny=runs/tiny', '--onnx', 'tiny-onnx=tiny.onnx', f"people={ROOT/'facenb/weights/people.onnx'}",
                        '--data', 'human-segmentation', 'ccp', '--limit', '2', '--threads', '1', '--cpus', '0', '--refine', 'both',
                        '--out', 'peer.json', '--figure', 'worst.jpg'],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert '| model | human-segmentation J / BIoU | ccp J / BIoU | ms per photo (median / mean) |' in r.stdout
    rec = json.loads((tmp_path/'peer.json').read_text())
    assert rec['datasets'] == {'human-segmentation': 2, 'ccp': 2} and len(rec['photos']) == 4
    expected = {'tiny', 'tiny-onnx', 'tiny-onnx+refine', 'people', 'people+refine'} | ({'mediapipe-general', 'mediapipe-landscape'} if os.environ.get('FACENB_MEDIAPIPE_PYTHON') else set())
    assert set(rec['models']) == expected
    pt, ox = rec['models']['tiny'], rec['models']['tiny-onnx']
    for d in rec['datasets']:   # the ONNX predictor is the same model: the same masks, up to float rounding at the threshold
        assert abs(pt['per_dataset'][d]['jaccard'] - ox['per_dataset'][d]['jaccard']) < 0.01
    assert len(pt['jaccard']) == 4 and all(0 <= j <= 1 for j in pt['jaccard']) and pt['ms_median'] > 0
    from facenb.inference import REFINE
    assert ox['refine'] is None and rec['models']['tiny-onnx+refine']['refine'] == REFINE and rec['cpus'] == '0'
    plain, ref = rec['models']['people'], rec['models']['people+refine']   # the shipped model, its edges refined or not
    assert plain['refine'] is None and ref['refine'] == REFINE
    assert len(ref['boundary_iou']) == 4 and all(0 <= b <= 1 for b in ref['boundary_iou'])
    assert all(0 <= ref['per_dataset'][d]['boundary_iou'] <= 1 for d in rec['datasets'])
    assert ref['boundary_iou'] != plain['boundary_iou']   # (a one-epoch tiny model's probabilities are too flat to tell)
    assert (tmp_path/'worst.jpg').stat().st_size > 1000
