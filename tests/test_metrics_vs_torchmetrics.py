"""facenb.metrics against torchmetrics, an independent implementation, on random masks: binary and multi-class,
per image and pooled (micro), through the functions and through the streaming `SegmentationMeter` the trainer uses.
Random masks here are never empty, where the conventions differ (tested apart, side by side)."""
import warnings
import pytest
import torch

tmc = pytest.importorskip('torchmetrics.functional.classification')
tms = pytest.importorskip('torchmetrics.functional.segmentation')
warnings.filterwarnings('ignore', module='torchmetrics')

def binary_batch(seed, n=8, h=24, w=16):
    "Logits and 0/1 masks whose foreground share varies from image to image (never empty, never full)."
    gen = torch.Generator().manual_seed(seed)
    target = (torch.rand(n, 1, h, w, generator=gen) < torch.rand(n, 1, 1, 1, generator=gen) * 0.8 + 0.1).long()
    target[:, :, 0, 0], target[:, :, 0, 1] = 0, 1
    logits = torch.randn(n, 1, h, w, generator=gen) * 2 + (target - 0.5) * 2
    return logits, target

PAIRS = [('dice', 'dice_score', tmc.binary_f1_score), ('jaccard', 'jaccard_score', tmc.binary_jaccard_index),
         ('accuracy', 'pixel_accuracy', tmc.binary_accuracy), ('precision', 'precision_score', tmc.binary_precision),
         ('recall', 'recall_score', tmc.binary_recall)]

@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('key, ours, theirs', PAIRS, ids=[p[0] for p in PAIRS])
def test_binary_scores_per_image_and_micro(seed, key, ours, theirs):
    from facenb import metrics
    logits, target = binary_batch(seed)
    pred, f = logits.sigmoid() > 0.5, getattr(metrics, ours)
    per_image = torch.stack([theirs(l, t) for l, t in zip(logits, target)]).double()
    torch.testing.assert_close(f(pred, target, 'none'), per_image, atol=1e-6, rtol=0)
    torch.testing.assert_close(f(pred, target).item(), per_image.mean().item(), atol=1e-6, rtol=0)          # 'image'
    torch.testing.assert_close(f(pred, target, 'micro').item(), theirs(logits, target).item(), atol=1e-6, rtol=0)
    meter = metrics.SegmentationMeter()                                 # what the training log reports, in uneven batches
    for i in range(0, len(logits), 3): meter.update(logits[i:i + 3], target[i:i + 3].float())
    s = meter.compute()
    torch.testing.assert_close(s[key], per_image.mean().item(), atol=1e-6, rtol=0)
    torch.testing.assert_close(s[f'{key}_micro'], theirs(logits, target).item(), atol=1e-6, rtol=0)

def test_binary_threshold_is_the_meters():
    from facenb.metrics import SegmentationMeter
    logits, target = binary_batch(3)
    for t in (0.3, 0.7):
        s = SegmentationMeter(threshold=t).update(logits, target.float()).compute()
        torch.testing.assert_close(s['jaccard_micro'], tmc.binary_jaccard_index(logits.sigmoid(), target, threshold=t).item(),
                                   atol=1e-6, rtol=0)

def test_the_empty_convention_side_by_side():
    "Prediction and mask both empty: facenb scores 1, as torchmetrics does with zero_division=1 (its default is 0)."
    from facenb.metrics import dice_score, jaccard_score
    z, one = torch.zeros(2, 1, 4, 4, dtype=torch.long), torch.zeros(2, 1, 4, 4, dtype=torch.long)
    one[1, 0, 0, 0] = 1                                                 # image 1: one pixel of person, missed
    assert jaccard_score(z, one, 'none').tolist() == [1.0, 0.0]
    assert [tmc.binary_jaccard_index(p.float(), t, zero_division=1).item() for p, t in zip(z, one)] == [1.0, 0.0]
    assert dice_score(z, one, 'none').tolist() == [tmc.binary_f1_score(p.float(), t, zero_division=1).item() for p, t in zip(z, one)]

def multiclass_batch(seed, C=5, n=9, h=20, w=16):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, C, h, w, generator=gen)
    target = torch.randint(0, C, (n, h, w), generator=gen)
    return logits, target

@pytest.mark.parametrize('seed', [0, 1])
def test_multiclass_scores_per_class_micro_and_per_image(seed):
    from facenb.metrics import SegmentationMeter
    C = 5
    logits, target = multiclass_batch(seed, C)
    target[2] = torch.where(target[2] == 3, 0, target[2])             # class 3 absent from image 2's mask ...
    logits[2, 3] = -10                                                 # ... and from its prediction: skipped there
    pred = logits.argmax(1)
    meter = SegmentationMeter(n_classes=C)
    for i in range(0, len(logits), 4): meter.update(logits[i:i + 4], target[i:i + 4])
    s = meter.compute()
    close = lambda a, b: torch.testing.assert_close(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64), atol=1e-6, rtol=0)
    close([s[f'iou_{c}'] for c in range(C)], tmc.multiclass_jaccard_index(logits, target, C, average='none'))
    close([s[f'dice_{c}'] for c in range(C)], tmc.multiclass_f1_score(logits, target, C, average='none'))
    close(s['miou'], tmc.multiclass_jaccard_index(logits, target, C, average='macro'))
    close(s['jaccard_micro'], s['miou'])
    close(s['accuracy_micro'], tmc.multiclass_accuracy(logits, target, C, average='micro'))
    iou = tms.mean_iou(pred, target, C, input_format='index', per_class=True)    # per image and class; -1: absent from both
    assert (iou[2, 3] == -1) and (iou >= 0).sum() == iou.numel() - 1
    close(s['jaccard'], torch.where(iou >= 0, iou, torch.nan).nanmean(1).mean())
    dice = tms.dice_score(pred, target, C, average='none', input_format='index')   # nan: absent from both
    close(s['dice'], dice.nanmean(1).mean())
    close(s['accuracy'], torch.stack([tmc.multiclass_accuracy(l[None], t[None], C, average='micro') for l, t in zip(logits, target)]).mean())

def test_multiclass_ignore_index_leaves_the_same_pixels_out():
    from facenb.metrics import SegmentationMeter
    C = 4
    logits, target = multiclass_batch(5, C)
    target[:, :3] = 255
    s = SegmentationMeter(n_classes=C, ignore_index=255).update(logits, target).compute()
    torch.testing.assert_close(torch.tensor([s[f'iou_{c}'] for c in range(C)], dtype=torch.float64),
                               tmc.multiclass_jaccard_index(logits, target, C, average='none', ignore_index=255).double(), atol=1e-6, rtol=0)
    torch.testing.assert_close(s['accuracy_micro'], tmc.multiclass_accuracy(logits, target, C, average='micro', ignore_index=255).item(),
                               atol=1e-6, rtol=0)
