"`facenb export` then `facenb predict` with the ONNX predictor: onnxruntime alone, the same masks as PyTorch."
import numpy as np
from PIL import Image

TINY = ['--arch', 'unet', '--model-kw', '{"base": 8, "depth": 3}', '--size', '64x48', '--bs', '4', '--threads', '1',
        '--no-progress', '--data', 'synthetic', '--n-samples', '32', '--epochs', '2', '--out', 'runs/t']

def test_export_then_predict_with_onnx(run_facenb, tmp_path):
    from facenb.sources import synthetic_people
    assert run_facenb('train', *TINY).returncode == 0
    (tmp_path/'photos').mkdir()
    for i, im in enumerate(synthetic_people(3, size=(120, 90), seed=4)[0]): Image.fromarray(im).save(tmp_path/'photos'/f'p{i}.png')
    r = run_facenb('export', '--checkpoint', 'runs/t', '--out', 'model.onnx')
    assert r.returncode == 0 and 'wrote model.onnx' in r.stdout, r.stderr
    r = run_facenb('export', '--checkpoint', 'runs/t', '--out', 'weights.pt')
    assert r.returncode == 0, r.stderr
    assert (tmp_path/'weights.pt').stat().st_size < (tmp_path/'runs'/'t'/'best.pt').stat().st_size / 2
    for ckpt, out in (('model.onnx', 'onnx'), ('runs/t', 'torch'), ('weights.pt', 'weights')):
        r = run_facenb('predict', '--checkpoint', ckpt, 'photos', '--out', out, '--no-progress')
        assert r.returncode == 0 and '3 of 3 photos written' in r.stdout, r.stdout + r.stderr
    for i in range(3):
        torch_mask, onnx_mask = (np.asarray(Image.open(tmp_path/d/f'p{i}.png')) for d in ('torch', 'onnx'))
        assert (torch_mask != onnx_mask).mean() < 1e-3
        assert (np.asarray(Image.open(tmp_path/'weights'/f'p{i}.png')) == torch_mask).all()
    r = run_facenb('export', '--checkpoint', 'runs/t', '--out', 'model.onnx')           # there already: refused
    assert r.returncode == 1 and '--overwrite' in r.stderr, r.stderr
    r = run_facenb('export', '--checkpoint', 'runs/t/best.pt', '--out', 'runs/t/best.pt', '--overwrite')
    assert r.returncode == 1 and 'is the checkpoint itself' in r.stderr, r.stderr
    r = run_facenb('predict', '--checkpoint', 'runs/t/best.pt', 'photos', '--out', 'x', '--no-progress')  # still a checkpoint
    assert r.returncode == 0, r.stderr
