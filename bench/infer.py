"""Inference latency on the CPU: PyTorch against onnxruntime, for the same model at the same size.

One image (batch 1, float in [0,1]) through the model in eval mode: PyTorch (`torch.inference_mode`) and the
graph exported by `facenb.inference.export_onnx`, run by onnxruntime's CPU provider with the same number of
threads. The two are interleaved (torch, ort, torch, ort, ...) so that a change in the machine's load hits both
alike; after a warm-up we report the median milliseconds per image of each, the ratio torch / onnxruntime
(> 1: onnxruntime is faster), and the median of the per-round ratios (`paired`, robust to a shared machine).
The weights are random: latency does not depend on them.

    python bench/infer.py                          # resnet34 at 256x192, 2 threads
    python bench/infer.py --models resnet34 unet11 unet16 unet --repeats 10
    python bench/infer.py --predictor              # the whole prediction of a 600x800 photo: PyTorch vs the ONNX predictor

With `--predictor` each round predicts one photo end to end (fit into the frame, network, probabilities, back to the
photo's size): `facenb.inference.predict_batch` on the PyTorch model against `facenb.deploy.OnnxPredictor` on the file
`export_predictor` wrote, the latter without PyTorch in the loop.
"""
import argparse, statistics, tempfile, time
from pathlib import Path
import numpy as np
import torch
import onnxruntime as ort
from facenb.cli import parse_size
from facenb.models import get_model, list_models
from facenb.inference import export_onnx, predict_batch
from facenb.deploy import export_predictor, OnnxPredictor

def bench(name, size, threads, repeats, warmup):
    "Interleaved latencies of PyTorch and onnxruntime for `name`: dict of median ms, paired ratio, max |diff|."
    torch.manual_seed(0)
    model = get_model(name).eval()
    with tempfile.TemporaryDirectory() as d:
        path = export_onnx(model, Path(d)/f'{name}.onnx', size=size)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
        sess = ort.InferenceSession(str(path), opts, providers=['CPUExecutionProvider'])
    x = torch.rand(1, 3, *size)
    xn = x.numpy()
    pt, ox = [], []
    with torch.inference_mode():
        for i in range(warmup + repeats):
            t0 = time.perf_counter(); ref = model(x); t1 = time.perf_counter()
            got = sess.run(None, {'image': xn})[0]; t2 = time.perf_counter()
            if i >= warmup: pt.append(t1 - t0); ox.append(t2 - t1)
    return dict(torch=1e3*statistics.median(pt), onnx=1e3*statistics.median(ox),
                paired=statistics.median(a/b for a, b in zip(pt, ox)), diff=float(np.abs(got - ref.numpy()).max()))

def bench_predictor(name, size, threads, repeats, warmup):
    "Interleaved end-to-end latencies of one 600x800 photo: PyTorch `predict_batch` against `OnnxPredictor`."
    torch.manual_seed(0)
    model = get_model(name).eval()
    model.train_size = size
    photo = (np.random.default_rng(0).random((800, 600, 3))*255).astype(np.uint8)
    with tempfile.TemporaryDirectory() as d:
        pred = OnnxPredictor(export_predictor(model, Path(d)/f'{name}.onnx', size=size), threads=threads)
    pt, ox = [], []
    for i in range(warmup + repeats):
        t0 = time.perf_counter(); ref = predict_batch(model, [photo])[0][0]; t1 = time.perf_counter()
        got = pred.predict_batch([photo])[0][0]; t2 = time.perf_counter()
        if i >= warmup: pt.append(t1 - t0); ox.append(t2 - t1)
    return dict(torch=1e3*statistics.median(pt), onnx=1e3*statistics.median(ox),
                paired=statistics.median(a/b for a, b in zip(pt, ox)), diff=float(np.abs(got - ref).max()))

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--models', nargs='+', default=['resnet34'], choices=list_models())
    p.add_argument('--size', type=parse_size, default=(256, 192), metavar='HxW')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--repeats', type=int, default=20)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--predictor', action='store_true', help='time whole predictions (photo in, mask out) instead of the network alone')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    what = 'whole prediction of a 600x800 photo' if a.predictor else 'the network alone'
    print(f'CPU inference ({what}), batch 1, {a.size[0]}x{a.size[1]}, {a.threads} threads, median of {a.repeats} '
          f'(torch {torch.__version__}, onnxruntime {ort.__version__})')
    print(f"{'model':9s} {'torch ms':>9s} {'onnx ms':>9s} {'torch/onnx':>10s} {'paired':>7s} {'max|diff|':>10s}")
    for name in a.models:
        r = (bench_predictor if a.predictor else bench)(name, a.size, a.threads, a.repeats, a.warmup)
        print(f"{name:9s} {r['torch']:9.1f} {r['onnx']:9.1f} {r['torch']/r['onnx']:10.2f} {r['paired']:7.2f} {r['diff']:10.1e}")

if __name__ == '__main__':
    main()
