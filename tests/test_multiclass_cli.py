"Multi-class end to end through the `facenb` command line on tiny synthetic data: train, evaluate, predict, export; bad input fails in one clear line."
import json, warnings
import numpy as np
import pytest
import torch
from PIL import Image

TINY = ['--arch', 'unet', '--model-kw', '{"base": 8, "depth": 3}', '--size', '64x48', '--bs', '4', '--threads', '1', '--no-progress']
CLASSES = ['background', 'head', 'body']

def parts_folder(path, n=24, seed=0):
    "A folder of synthetic figures with masks of three classes (background, head, body) and its classes.txt."
    from facenb.sources import synthetic_people
    (path/'images').mkdir(parents=True); (path/'masks').mkdir()
    (path/'classes.txt').write_text('\n'.join(CLASSES) + '\n')
    images, masks = synthetic_people(n, size=(64, 48), seed=seed, parts=True)
    for i, (im, m) in enumerate(zip(images, masks)):
        Image.fromarray(im).save(path/'images'/f'p{i}.png'); Image.fromarray(m).save(path/'masks'/f'p{i}.png')
    return images, masks

def one_line(r): return r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and 'Traceback' not in r.stderr

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    "A 3-class model trained for 3 epochs in runs/mc (one training for all the tests of this module)."
    import os, subprocess, sys
    from pathlib import Path
    tmp = tmp_path_factory.mktemp('mc')
    images, masks = parts_folder(tmp/'parts')
    r = subprocess.run([str(Path(sys.executable).with_name('facenb')), 'train', '--data', 'parts', '--n-classes', '3', '--loss', 'ce_dice',
                        '--epochs', '3', '--lr', '0.003', '--out', 'runs/mc', *TINY], cwd=tmp, capture_output=True, text=True,
                       env={**os.environ, 'FACENB_CACHE': str(tmp/'cache')}, timeout=600)
    assert r.returncode == 0, r.stderr
    return tmp, r, images, masks

def test_train_logs_mean_scores_and_keeps_per_class_history(trained):
    tmp, r, *_ = trained
    assert r.stdout.count('train_loss: ') == 3 and 'val_dice: ' in r.stdout and 'val_jaccard: ' in r.stdout
    h = json.loads((tmp/'runs/mc/history.json').read_text())
    assert {'val_iou_0', 'val_iou_2', 'val_dice_1', 'val_miou'} <= set(h[-1])
    ck = torch.load(tmp/'runs/mc/best.pt', weights_only=True)
    assert ck['classes'] == CLASSES and ck['model_config']['n_classes'] == 3

def test_evaluate_reports_per_class_scores_and_confusion(trained, run_facenb):
    tmp, *_ = trained
    r = run_facenb('evaluate', '--checkpoint', tmp/'runs/mc', '--data', tmp/'parts', '--split', 'trainval', '--out', tmp/'eval.json', '--no-progress')
    assert r.returncode == 0, r.stderr
    assert '| head |' in r.stdout and '**mean**' in r.stdout
    res = json.loads((tmp/'eval.json').read_text())
    assert res['classes'] == CLASSES and res['n_images'] == 24
    cm = np.array(res['confusion'])
    assert cm.shape == (3, 3) and cm.sum() == 24*64*64   # every pixel of the 64x48 frames padded to 64x64
    assert abs(res['per_class']['body']['recall'] - cm[2, 2] / cm[2].sum()) < 1e-9
    assert abs(res['miou'] - np.mean([s['iou'] for s in res['per_class'].values()])) < 1e-9   # all three classes present

def test_predict_writes_label_maps_and_overlays_with_a_legend(trained, run_facenb):
    tmp, _, images, _ = trained
    (tmp/'photos').mkdir(exist_ok=True)
    for i in range(2): Image.fromarray(images[i]).resize((75, 100)).save(tmp/'photos'/f'q{i}.jpg')
    r = run_facenb('predict', '--checkpoint', tmp/'runs/mc', tmp/'photos', '--out', tmp/'maps', '--mode', 'mask', '--no-progress')
    assert r.returncode == 0, r.stderr
    m = Image.open(tmp/'maps/q0.png')
    assert m.mode == 'P' and m.size == (75, 100) and set(np.unique(np.asarray(m))) <= {0, 1, 2}
    r = run_facenb('predict', '--checkpoint', tmp/'runs/mc', tmp/'photos', '--out', tmp/'overlays', '--mode', 'overlay', '--no-progress')
    assert r.returncode == 0, r.stderr
    o = Image.open(tmp/'overlays/q1.jpg')
    assert o.size[1] == 100 and o.size[0] > 75           # the legend to the right of the photo

def test_export_parity_of_the_multiclass_model(trained):
    import onnxruntime as ort
    from facenb.inference import load_model, export_onnx, export_torchscript
    tmp, *_ = trained
    model = load_model(tmp/'runs/mc', device='cpu')
    export_onnx(model, tmp/'mc.onnx', size=(64, 48)); export_torchscript(model, tmp/'mc.ts.pt', size=(64, 48))
    x = torch.rand(2, 3, 70, 45)
    with torch.no_grad(): ref = model(x)
    got = ort.InferenceSession(str(tmp/'mc.onnx'), providers=['CPUExecutionProvider']).run(None, {'image': x.numpy()})[0]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', FutureWarning)   # torch.jit is deprecated in favour of torch.export
        ts = torch.jit.load(str(tmp/'mc.ts.pt'))(x)
    assert got.shape == (2, 3, 70, 45)
    assert np.abs(got - ref.numpy()).max() < 1e-4 and (ts - ref).abs().max() < 1e-4
    assert (got.argmax(1) == ref.argmax(1).numpy()).mean() > 0.999

def test_a_label_outside_the_classes_names_the_file(run_facenb, tmp_path):
    parts_folder(tmp_path/'parts', n=8)
    Image.fromarray(np.full((64, 48), 5, np.uint8)).save(tmp_path/'parts/masks/p3.png')
    r = run_facenb('train', '--data', 'parts', '--n-classes', '3', '--loss', 'ce', '--epochs', '1', '--out', 'runs/x', *TINY)
    assert one_line(r) and "p3.png' holds values [5] outside the 3 classes (0-2) of classes.txt" in r.stderr, r.stderr

def test_a_colour_far_from_every_class_names_the_file(run_facenb, tmp_path):
    from facenb.data import FASSEG_PALETTE
    root = tmp_path/'data'/'fasseg-v2'
    for d in ('Train_RGB', 'Train_Labels', 'Test_RGB', 'Test_Labels'): (root/d).mkdir(parents=True)
    lab = np.zeros((40, 30, 3), np.uint8); lab[:] = FASSEG_PALETTE[0]; lab[10:30, 5:25] = FASSEG_PALETTE[1]
    lab[12:16, 8:22] = (255, 255, 255)                   # white: no FASSEG class
    Image.fromarray(lab).save(root/'Train_Labels'/'1.png'); Image.fromarray(lab).save(root/'Train_RGB'/'1.png')
    r = run_facenb('data', 'fasseg', '--root', tmp_path/'data')
    # `facenb data` lists every problem (stdout), then fails in one line (stderr)
    assert one_line(r) and 'cannot be trained on' in r.stderr, r.stderr
    assert "Train_Labels/1.png': colour (255, 255, 255) covers 4.7% of the pixels" in r.stdout, r.stdout

@pytest.mark.parametrize('args, message', [
    (['--n-classes', '5', '--loss', 'ce'], "has 3 classes ['background', 'head', 'body']: set n_classes=3"),
    (['--n-classes', '3', '--loss', 'bce'], "needs a multi-class loss: 'ce' or 'ce_dice'"),
    (['--n-classes', '1'], 'has 3 classes'),
])
def test_a_class_count_that_does_not_fit_the_data(run_facenb, tmp_path, args, message):
    parts_folder(tmp_path/'parts', n=4)
    r = run_facenb('train', '--data', 'parts', '--epochs', '1', '--out', 'runs/x', *args, *TINY)
    assert one_line(r) and message in r.stderr, r.stderr
    assert not (tmp_path/'runs').exists()

def test_a_checkpoint_with_another_class_count_is_refused(trained, run_facenb):
    tmp, *_ = trained
    r = run_facenb('evaluate', '--checkpoint', tmp/'runs/mc', '--data', 'synthetic', '--no-progress')
    assert one_line(r) and "predicts 3 classes ['background', 'head', 'body'] but 'synthetic' has 2" in r.stderr, r.stderr
