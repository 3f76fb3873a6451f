"""What must line up does: every U-Net decoder uses every skip it is given (the from-scratch U-Net and the
registry's models), and the training augmentation moves the mask exactly as it moves the image."""
import numpy as np
import pytest
import torch

SMALL = {'unet': dict(base=8, depth=3), 'resnet34': dict(decoder_channels=(16, 8, 8, 8)),
         'unet11': dict(num_filters=4), 'unet16': dict(num_filters=4)}   # narrow decoders: the wiring is the same

def skip_effects(model, x):
    """For each encoder map but the deepest (the decoder's input): how far the logits move, relative to their own
    spread, when that map alone is replaced by noise of its mean and spread. In float64: a decoder that drops a skip
    scores exactly 0 there, any real dependence far above rounding."""
    model = model.double().eval()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        feats = model.encoder(x.double())
        base = model.head(model.decoder(feats))
        effects = []
        for k in range(len(feats) - 1):
            noise = torch.randn(feats[k].shape, generator=gen, dtype=torch.float64)
            other = list(feats); other[k] = noise * feats[k].std() + feats[k].mean()
            effects.append(((model.head(model.decoder(other)) - base).abs().max() / base.std()).item())
    return effects

def test_the_unet_from_scratch_uses_every_skip():
    from facenb.unet import UNet
    torch.manual_seed(0)
    effects = skip_effects(UNet(3, 1, base=8, depth=3), torch.rand(2, 3, 32, 32))
    assert len(effects) == 3 and min(effects) > 1e-6, effects
    paper = UNet(3, 1, base=4, depth=2, padding=False, batchnorm=False)   # copy and crop: the cropped skips count too
    effects = skip_effects(paper, torch.rand(1, 3, 44, 44))
    assert len(effects) == 2 and min(effects) > 1e-6, effects

SAME_AS = {'unet16': 'unet11'}   # the same decoder class and wiring, twice as slow to build: tested once

def registry_models():
    from facenb.models import list_models
    return [n for n in list_models() if n not in SAME_AS]

@pytest.mark.parametrize('name', registry_models())
def test_every_registry_model_uses_every_skip(name):
    from facenb.models import get_model
    torch.manual_seed(0)
    m = get_model(name, **SMALL.get(name, {}))
    x = (torch.rand(2, 3, 64, 64) - m.mean) / m.std       # what the model's forward gives its encoder
    effects = skip_effects(m, x)
    assert len(effects) == len(m.encoder.out_channels) - 1 and min(effects) > 1e-6, (name, effects)

def derived_pair(h=64, w=64):
    "An asymmetric bright 'L' and disc on black, and its mask read off the image itself (bright = person)."
    yy, xx = np.mgrid[0:h, 0:w]
    shape = ((yy > 8) & (yy < 50) & (xx > 6) & (xx < 14)) | ((yy > 40) & (yy < 50) & (xx > 6) & (xx < 30)) \
            | ((yy - 16)**2 + (xx - 34)**2 < 36)
    image = np.where(shape[..., None], np.array([210, 190, 150]), np.array([20, 25, 35])).astype(np.uint8)
    return image, (image.mean(-1) > 100).astype(np.uint8)

def mask_from_image(x):
    "The mask the augmented image shows: bright pixels; pixels half-way (a linear interpolation's edge) are unknown (-1)."
    b = x.mean(0)
    t, spread = (b.max() + b.min()) / 2, (b.max() - b.min()) / 4
    return torch.where(b > t + spread, 1, torch.where(b < t - spread, 0, -1))

def near_an_edge(m):
    "Pixels within one pixel of the mask's outline; beyond the frame is the affine's fill, background."
    f = torch.nn.functional.pad(m[None, None].float(), (1, 1, 1, 1))
    grown, shrunk = torch.nn.functional.max_pool2d(f, 3, 1), -torch.nn.functional.max_pool2d(-f, 3, 1)
    return (grown != shrunk)[0, 0]

@pytest.mark.parametrize('every_transform', [True, False])
def test_augmentation_moves_the_mask_with_the_image(every_transform):
    "Pixel for pixel, the augmented mask is the mask of the augmented image: with each transform forced on, and as trained."
    from facenb.sources import ArraySource
    from facenb.loaders import SegmentationDataset
    image, mask = derived_pair()
    src = ArraySource('derived', 'train', image[None].repeat(12, 0), mask[None].repeat(12, 0))
    ds = SegmentationDataset(src, size=(64, 64), augment=True, seed=0, progress=False)
    if every_transform:
        for t in ds.augment.transforms: t.p = 1.0
    moved = 0
    for i in range(len(ds)):
        x, m = ds[i]
        seen, m = mask_from_image(x), m[0].long()
        known = seen >= 0
        assert (seen[known] == m[known]).all(), f'draw {i}: {(seen[known] != m[known]).sum().item()} pixels disagree'
        assert (~known).float().mean() < 0.1 and not (~known & ~near_an_edge(m)).any(), f'draw {i}: unknown pixels off the outline'
        moved += int((m.numpy() != mask).any())
    assert moved >= (len(ds) if every_transform else len(ds) // 2)   # the augmentation did move the pairs
