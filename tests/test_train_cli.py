"`facenb train` / `facenb evaluate` end to end on tiny data: runs, resumes, scores, and fails in one line."
import json, os
import numpy as np
import pytest
from PIL import Image
from conftest import listing

TINY = ['--arch', 'unet', '--model-kw', '{"base": 8, "depth": 3}', '--size', '64x48', '--bs', '4', '--threads', '1',
        '--no-progress']

def history(run): return json.loads((run/'history.json').read_text())

def test_train_then_evaluate_synthetic(run_facenb, tmp_path):
    r = run_facenb('train', '--data', 'synthetic', '--n-samples', '24', '--epochs', '2', '--out', 'runs/tiny', *TINY)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count('train_loss: ') == 2 and 'val_jaccard: ' in r.stdout
    run = tmp_path/'runs'/'tiny'
    assert {'best.pt', 'last.pt', 'config.json', 'history.json', 'history.csv'} <= {p.name for p in run.iterdir()}
    assert json.loads((run/'config.json').read_text())['size'] == [64, 48]
    r = run_facenb('evaluate', '--checkpoint', 'runs/tiny', '--no-progress')
    assert r.returncode == 0, r.stderr
    res = json.loads((run/'eval-synthetic-valid.json').read_text())
    best = max(history(run), key=lambda h: h['val_jaccard'])
    assert res['n_images'] == 4 and abs(res['jaccard'] - best['val_jaccard']) < 1e-6
    # boundary IoU (Cheng et al. 2021) beside Jaccard: printed, and saved in the evaluation's JSON
    assert f"boundary_iou: {res['boundary_iou']:.3f}" in r.stdout, r.stdout
    assert 0 <= res['boundary_iou'] <= 1

def test_resume_continues_a_run(run_facenb, tmp_path):
    args = ['--data', 'synthetic', '--n-samples', '16', '--out', 'runs/r', *TINY]
    assert run_facenb('train', '--epochs', '1', *args).returncode == 0
    r = run_facenb('train', '--epochs', '1', *args)           # the folder holds a run: refused, one line
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and '--resume' in r.stderr
    r = run_facenb('train', '--resume', 'runs/r', '--epochs', '2', '--no-progress')
    assert r.returncode == 0, r.stderr
    assert [h['epoch'] for h in history(tmp_path/'runs'/'r')] == [1, 2]

def test_own_folder_of_images_and_masks(run_facenb, tmp_path):
    from facenb.sources import synthetic_people
    images, masks = synthetic_people(12, size=(80, 60), seed=3)
    for sub in ('images', 'masks'): (tmp_path/'mine'/sub).mkdir(parents=True)
    for i, (im, m) in enumerate(zip(images, masks)):
        Image.fromarray(im).save(tmp_path/'mine'/'images'/f'p{i}.jpg')
        Image.fromarray(m*255).save(tmp_path/'mine'/'masks'/f'p{i}.png')
    r = run_facenb('train', '--data', str(tmp_path/'mine'), '--epochs', '1', '--out', 'runs/mine', *TINY)
    assert r.returncode == 0, r.stderr
    r = run_facenb('evaluate', '--checkpoint', 'runs/mine/best.pt', '--split', 'trainval', '--no-progress')
    assert r.returncode == 0 and '(12 images)' in r.stdout, r.stdout + r.stderr

@pytest.mark.skipif(not os.environ.get('FACENB_DATA'), reason='needs the real portraits (FACENB_DATA)')
def test_resnet34_on_a_few_real_portraits(run_facenb, tmp_path):
    r = run_facenb('train', '--data', 'portraits', '--arch', 'resnet34', '--n-samples', '12', '--size', '64x48',
                   '--bs', '4', '--epochs', '1', '--threads', '2', '--no-progress', '--out', 'runs/p')
    assert r.returncode == 0, r.stderr
    h = history(tmp_path/'runs'/'p')
    assert len(h) == 1 and h[0]['n_train'] == 8 and 0 <= h[0]['val_jaccard'] <= 1

@pytest.mark.parametrize('args, message', [
    (['train', '--arch', 'unet99', '--data', 'synthetic'], "arch='unet99' (--arch): unknown model"),
    (['train', '--data', 'no-such-data'], "unknown dataset 'no-such-data'"),
    (['train', '--loss', 'l2', '--data', 'synthetic'], "'l2'"),
    (['evaluate', '--checkpoint', 'missing/best.pt'], 'not found'),
])
def test_errors_are_one_line(run_facenb, args, message):
    r = run_facenb(*args, '--no-progress')
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and 'Traceback' not in r.stderr, r.stderr

def test_predict_writes_results_and_skips_unreadable_files(run_facenb, tmp_path):
    from facenb.sources import synthetic_people
    assert run_facenb('train', '--data', 'synthetic', '--n-samples', '16', '--epochs', '1', '--out', 'runs/m', *TINY).returncode == 0
    (tmp_path/'photos').mkdir()
    for i, im in enumerate(synthetic_people(2, size=(100, 75), seed=7)[0]): Image.fromarray(im).save(tmp_path/'photos'/f'p{i}.jpg')
    (tmp_path/'photos'/'broken.jpg').write_bytes(b'not a jpeg')
    Image.fromarray(np.full((50, 50, 3), 90, np.uint8)).save(tmp_path/'bg.png')
    r = run_facenb('predict', '--checkpoint', 'runs/m', 'photos', '--out', 'out', '--mode', 'replace', '--bg', 'bg.png', '--no-progress')
    assert r.returncode == 1, r.stderr   # written what it could, and said that one photo failed
    assert 'broken.jpg' in r.stdout + r.stderr and '2 of 3 photos written' in r.stdout, r.stdout + r.stderr
    outs = listing(tmp_path/'out')
    assert len(outs) == 2 and all(Image.open(tmp_path/'out'/n).size == (75, 100) for n in outs)
    r = run_facenb('predict', '--checkpoint', 'runs/m', 'photos', '--out', 'out2', '--mode', 'replace', '--no-progress')
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr   # replace without --bg
