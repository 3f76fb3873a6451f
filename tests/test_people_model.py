"""The people model that ships inside the package: `facenb predict` without a checkpoint, `person_mask`, and the
ONNX predictor's own threshold as the default of `facenb predict`."""
import os
from pathlib import Path
import numpy as np
import pytest
from matplotlib import cbook
from PIL import Image

from facenb.people import people_model, person_mask, PEOPLE_MODEL

HOPPER = cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)   # a person (ships with matplotlib)


def test_shipped_model_is_in_the_package_and_small():
    from importlib.resources import files
    path = files('facenb').joinpath(PEOPLE_MODEL)
    assert path.is_file()
    assert os.path.getsize(str(path)) <= 10 * 2**20
    model = people_model()
    assert model.classes == ['background', 'person'] and 0 < model.threshold < 1


def test_predict_cuts_out_a_person_without_a_checkpoint(run_facenb, tmp_path):
    (tmp_path/'photos').mkdir()
    Image.open(HOPPER).save(tmp_path/'photos'/'hopper.jpg')
    r = run_facenb('predict', 'photos', '--out', 'cut', '--mode', 'cutout', '--no-progress')
    assert r.returncode == 0, r.stderr
    assert 'shipped with facenb' in r.stdout and '1 of 1 photos written' in r.stdout, r.stdout
    cut = np.asarray(Image.open(tmp_path/'cut'/'hopper.png'))
    assert cut.shape == (600, 512, 4)                      # RGBA at the photo's own size
    alpha = cut[..., 3] > 127
    assert (alpha == (person_mask(HOPPER) > 0)).mean() > 0.99   # the command line and the Python call agree
    # a portrait: the person fills the lower middle of the frame, the top corners are background
    assert alpha[300:, 150:360].mean() > 0.9 and alpha[:80, :80].mean() < 0.05 and alpha[:80, -80:].mean() < 0.05


def test_cutouts_take_the_refined_probability_as_alpha_and_the_mask_stays_binary(run_facenb, tmp_path):
    "The cut-out's alpha and the blur's blend are the probability refined with the photo (guided filter), not the stretched one."
    from facenb.inference import OnnxPredictor, as_rgb, blur_background
    (tmp_path/'photos').mkdir()
    Image.open(HOPPER).save(tmp_path/'photos'/'hopper.png')   # lossless: the command reads the very pixels used below
    for mode in ('cutout', 'blur', 'mask'):
        r = run_facenb('predict', 'photos', '--out', mode, '--mode', mode, '--no-progress')
        assert r.returncode == 0, r.stderr
    model = people_model()
    assert model.refine, 'the shipped model carries its refinement settings'
    photo = as_rgb(str(tmp_path/'photos'/'hopper.png'))
    refined = model.predict_batch([photo])[0][0]
    stretched = OnnxPredictor(model.path, refine=False).predict_batch([photo])[0][0]
    alpha = np.asarray(Image.open(tmp_path/'cutout'/'hopper.png'))[..., 3].astype(int)
    band = (stretched > 0.02) & (stretched < 0.98)   # the soft band around the person, where the two differ
    assert np.abs(alpha - np.round(refined*255)).max() <= 1
    assert np.abs(alpha - np.round(stretched*255))[band].mean() > 10   # not the stretched probability
    blur = np.asarray(Image.open(tmp_path/'blur'/'hopper.jpg')).astype(int)
    assert np.abs(blur - blur_background(photo, refined).astype(int)).mean() < 2     # JPEG's error only
    assert np.abs(blur - blur_background(photo, stretched).astype(int))[band].mean() > 2 * np.abs(blur - blur_background(photo, refined).astype(int))[band].mean()
    mask = np.asarray(Image.open(tmp_path/'mask'/'hopper.png'))
    assert set(np.unique(mask)) == {0, 255} and ((mask > 0) == (refined >= model.threshold)).all()


@pytest.mark.skipif(not os.environ.get('FACENB_DATA'), reason='needs the datasets (FACENB_DATA)')
def test_shipped_model_finds_people_in_validation_photos():
    "On validation photos of each dataset (never trained on), the shipped model's masks overlap the published ones."
    from facenb.sources import get_source
    for name, bar in (('portraits', 0.9), ('human-segmentation', 0.75), ('ccp', 0.8)):
        src = get_source(name, 'valid')
        js = []
        for i in range(0, len(src), max(1, len(src) // 8)):
            photo, truth = src[i]
            m, t = person_mask(photo) > 0, truth > 0
            js.append((m & t).sum() / max(1, (m | t).sum()))
        assert np.mean(js) > bar, (name, np.mean(js))


def test_predict_uses_the_threshold_the_predictor_was_exported_with(tmp_path, monkeypatch, capsys, torch_threads):
    "In this process (faster than four console scripts): export at threshold 0.1, then predict with and without --threshold."
    from facenb.cli import main
    from facenb.sources import synthetic_people
    from facenb.deploy import OnnxPredictor
    monkeypatch.chdir(tmp_path)
    tiny = ['--arch', 'unet', '--model-kw', '{"base": 8, "depth": 2}', '--size', '64x48', '--bs', '4', '--threads', '1',
            '--no-progress', '--data', 'synthetic', '--n-samples', '16', '--epochs', '1', '--out', 'runs/t']
    assert not main(['train', *tiny])
    (tmp_path/'photos').mkdir()
    Image.fromarray(synthetic_people(1, size=(120, 90), seed=4)[0][0]).save(tmp_path/'photos'/'p.png')
    assert not main(['export', '--checkpoint', 'runs/t', '--out', 'low.onnx', '--threshold', '0.1'])
    capsys.readouterr()
    assert not main(['predict', '--checkpoint', 'low.onnx', 'photos', '--out', 'own', '--no-progress'])
    assert 'not the' not in capsys.readouterr().out
    assert not main(['predict', '--checkpoint', 'low.onnx', 'photos', '--out', 'given', '--threshold', '0.5', '--no-progress'])
    assert 'threshold 0.5 (given), not the 0.1' in capsys.readouterr().out
    prob = OnnxPredictor(tmp_path/'low.onnx').predict_batch([str(tmp_path/'photos'/'p.png')])[0][0]
    own, given = (np.asarray(Image.open(tmp_path/d/'p.png')) > 0 for d in ('own', 'given'))
    assert (own == (prob >= 0.1)).all() and (given == (prob >= 0.5)).all()
    assert own.sum() > given.sum()
    # --half: float16 weights, about half the file, the same probabilities to float16's precision
    assert not main(['export', '--checkpoint', 'runs/t', '--out', 'half.onnx', '--half', '--threshold', '0.1'])
    assert (tmp_path/'half.onnx').stat().st_size < 0.6 * (tmp_path/'low.onnx').stat().st_size
    half = OnnxPredictor(tmp_path/'half.onnx').predict_batch([str(tmp_path/'photos'/'p.png')])[0][0]
    assert np.abs(half - prob).max() < 1e-2


def test_predict_says_which_files_of_a_folder_it_skips(tmp_path, capsys):
    "Every photo of a folder PIL reads is segmented (a GIF too); the files that are not images are named, not skipped without a word."
    from facenb.inference import predict_folder
    (tmp_path/'photos').mkdir()
    Image.open(HOPPER).save(tmp_path/'photos'/'hopper.jpg')
    Image.open(HOPPER).save(tmp_path/'photos'/'hopper.gif')
    (tmp_path/'photos'/'notes').write_text('not a photo')
    res = predict_folder(people_model(), tmp_path/'photos', tmp_path/'out', progress=False)
    out = capsys.readouterr().out
    assert res['n_written'] == 2 and 'skipped 1 file of' in out and 'that is not an image (notes)' in out, out
    assert sorted(Path(p).name for p in res['written']) == ['hopper-1.png', 'hopper.png']


def test_shipped_model_takes_other_sizes_and_a_fixed_file_says_it_does_not(tmp_path):
    "The shipped file's input has free height and width: `OnnxPredictor(size=)`, `predict_batch(size=)` and `FrameSegmenter(size=)` fit photos into another size; a file fixed to one size names itself and its size."
    import onnx
    from facenb.inference import OnnxPredictor, as_rgb
    from facenb.video import FrameSegmenter
    model, photo = people_model(), as_rgb(HOPPER)
    assert model.free_size and model.train_size == model.exported_size
    small = OnnxPredictor(model.path, size=(96, 72))
    p_small, p_default = small.predict_batch([photo])[0][0], model.predict_batch([photo])[0][0]
    assert p_small.shape == photo.shape[:2] and np.array_equal(p_small, model.predict_batch([photo], size=(96, 72))[0][0])
    m_small, m_default = p_small >= 0.5, p_default >= 0.5
    assert 0.8 < (m_small & m_default).sum() / (m_small | m_default).sum() < 1   # another size: close, not the same masks
    seg = FrameSegmenter(model, size=(96, 72))
    assert seg.size == (96, 72) and seg.low_res(photo).shape == (84, 72)      # 600x512 fitted into 96x72
    fixed = onnx.load(str(model.path))
    for d, v in zip(fixed.graph.input[0].type.tensor_type.shape.dim[2:], (192, 160)): d.dim_value = v
    onnx.save(fixed, tmp_path/'fixed.onnx')
    one = OnnxPredictor(tmp_path/'fixed.onnx')
    assert not one.free_size and one.predict_batch([photo])[0][1].shape == photo.shape[:2]
    for call in (lambda: OnnxPredictor(tmp_path/'fixed.onnx', size=(96, 72)), lambda: one.predict_batch([photo], size=(96, 72)),
                 lambda: FrameSegmenter(one, size=(96, 72))):
        with pytest.raises(ValueError, match=r'fixed\.onnx was exported for 192x144 only'): call()


def test_predict_size_fits_photos_into_another_size(run_facenb, tmp_path):
    "`facenb predict --size` with the shipped model: the masks of `OnnxPredictor(size=...)`, not those of its own size."
    from facenb.inference import OnnxPredictor, as_rgb
    (tmp_path/'photos').mkdir()
    Image.open(HOPPER).save(tmp_path/'photos'/'hopper.png')
    r = run_facenb('predict', 'photos', '--out', 'small', '--mode', 'mask', '--size', '96x72', '--no-progress')
    assert r.returncode == 0, r.stderr
    got = np.asarray(Image.open(tmp_path/'small'/'hopper.png')) > 0
    photo = as_rgb(str(tmp_path/'photos'/'hopper.png'))
    want = OnnxPredictor(people_model().path, size=(96, 72)).predict_batch([photo])[0][1] > 0
    assert (got == want).all() and (want != (people_model().predict_batch([photo])[0][1] > 0)).sum() > 100
