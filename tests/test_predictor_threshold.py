"""The exported predictor honours its threshold: the ONNX graph's own mask is `probability >= t` at the threshold it
was exported with, `OnnxPredictor.predict_batch(threshold=)` too, and a lower threshold marks strictly more pixels."""
import numpy as np
import pytest
import torch

pytest.importorskip('onnxruntime')
SIZE = (64, 48)

@pytest.fixture(scope='module')
def model():
    "A small U-Net whose head is rescaled so its probabilities spread over (0, 1) (an untrained one stays near 0.5)."
    from facenb.models import get_model
    from facenb.sources import synthetic_people
    torch.manual_seed(0)
    m = get_model('unet', base=8, depth=2).eval()
    x = torch.from_numpy(synthetic_people(4, size=(64, 64), seed=3)[0]).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        z = m(x)
        s = 3 / z.std()
        m.head.weight.mul_(s); m.head.bias.sub_(z.median()).mul_(s)
    m.train_size = SIZE
    return m

@pytest.fixture(scope='module')
def photos():
    from facenb.sources import synthetic_people
    return list(synthetic_people(3, size=(90, 70), seed=4)[0])

def export(model, path, t):
    from facenb.deploy import export_predictor
    return export_predictor(model, path, size=SIZE, threshold=t)

def test_the_graphs_own_mask_is_probability_at_least_the_exported_threshold(model, photos, tmp_path):
    import onnxruntime as ort
    from facenb.loaders import eval_transform
    tfm = eval_transform(SIZE)
    x = np.stack([tfm(image=p)['image'] for p in photos]).transpose(0, 3, 1, 2).astype(np.float32) / 255
    marked = {}
    for t in (0.3, 0.5, 0.7):
        session = ort.InferenceSession(str(export(model, tmp_path/f'm{t}.onnx', t)), providers=['CPUExecutionProvider'])
        prob, mask = session.run(['probabilities', 'mask'], {'image': x})
        assert ((prob[:, 0] > 0.3) & (prob[:, 0] < 0.7)).mean() > 0.05   # pixels on both sides of every threshold tried
        np.testing.assert_array_equal(mask, (prob[:, 0] >= t).astype(np.uint8))
        marked[t] = int(mask.sum())
    assert marked[0.3] > marked[0.5] > marked[0.7] > 0, marked

def test_predict_batch_marks_probability_at_least_its_threshold(model, photos, tmp_path):
    from facenb.deploy import OnnxPredictor
    pred = OnnxPredictor(export(model, tmp_path/'m.onnx', 0.6))
    marked = []
    for t in (0.2, 0.4, 0.6, 0.8):
        out = pred.predict_batch(photos, threshold=t)
        for (prob, mask), photo in zip(out, photos):
            assert mask.shape == prob.shape == photo.shape[:2]
            np.testing.assert_array_equal(mask, (prob >= t).astype(np.uint8))
        marked.append(sum(int(m.sum()) for _, m in out))
    assert all(a > b for a, b in zip(marked, marked[1:])) and marked[-1] > 0, marked
    for (prob, mask) in pred.predict_batch(photos):                  # no threshold given: the exported one
        np.testing.assert_array_equal(mask, (prob >= 0.6).astype(np.uint8))
