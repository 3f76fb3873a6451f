"""Issue 32's trainer options through `facenb train`: the augmentation policy by name, and fine-tuning (the encoder frozen
for the first epochs, then trained at a fraction of the rate) — which must resume exactly across the unfreezing."""
import json
import pytest, torch
from conftest import TINY, one_line

FT = ['--freeze-epochs', '1', '--encoder-lr-mult', '0.1', '--augment', 'strong', '--lr', '0.003']

def test_the_augmentation_policy_is_chosen_by_name(facenb, tmp_path):
    for flags, want in ((['--augment', 'strong'], 'strong'), (['--no-augment'], False), (['--augment'], True)):
        status, out, err = facenb('train', *TINY, '--epochs', '1', *flags, '--out', f'runs/{want}')
        assert status == 0, err
        assert json.loads((tmp_path/'runs'/str(want)/'config.json').read_text())['augment'] == want
    status, out, err = facenb('train', *TINY, '--epochs', '1', '--augment', 'heavy', '--out', 'runs/heavy')
    assert status == 1 and one_line(err) and "unknown augmentation policy 'heavy'" in err and '--augment' in err, err
    assert not (tmp_path/'runs'/'heavy').exists()

def test_a_fine_tuning_run_resumed_at_the_unfreezing_ends_as_the_whole_run(facenb, tmp_path):
    "Frozen for epoch 1, then unfrozen: stopped after epoch 1 and resumed to 3 epochs, it ends bit for bit as the 3-epoch run."
    assert facenb('train', *TINY, *FT, '--epochs', '3', '--out', 'runs/whole')[0] == 0
    assert facenb('train', *TINY, *FT, '--epochs', '1', '--out', 'runs/part')[0] == 0
    part = torch.load(tmp_path/'runs'/'part'/'last.pt', weights_only=True)
    assert [g['lr'] for g in part['optimizer']['param_groups']] == pytest.approx([0.003, 0.003, 0.0003])   # decoder, head, encoder
    assert facenb('train', '--resume', 'runs/part', '--epochs', '3', '--no-progress')[0] == 0
    a, b = (torch.load(tmp_path/'runs'/r/'last.pt', weights_only=True) for r in ('whole', 'part'))
    assert a['epoch'] == b['epoch'] == 3
    assert a['model'].keys() == b['model'].keys() and all(torch.equal(a['model'][k], b['model'][k]) for k in a['model'])
    sa, sb = a['optimizer']['state'], b['optimizer']['state']
    assert sa.keys() == sb.keys() and all(torch.equal(sa[i][k], sb[i][k]) for i in sa for k in sa[i])

def test_the_lr_finder_stops_just_above_the_rate_where_descent_diverges_and_leaves_no_trace():
    "Least squares y = 3x + noise by SGD diverges above 1/mean(x²): the range test stops there, and puts weights and optimiser back."
    from torch import nn
    from facenb.finetune import lr_find
    g = torch.Generator().manual_seed(0)
    xs = [torch.randn(256, 1, generator=g) for _ in range(4)]
    batches = [(x, 3*x + 0.5*torch.randn(256, 1, generator=g)) for x in xs]
    lr_star = 1/float(torch.cat(xs).pow(2).mean())
    line = nn.Linear(1, 1, bias=False); w0 = line.weight.detach().clone()
    sgd = torch.optim.SGD(line.parameters(), lr=0.1)
    res = lr_find(line, batches, nn.functional.mse_loss, sgd, start_lr=1e-3, end_lr=100, num_it=100)
    assert res['diverged_at'] is not None and lr_star < res['diverged_at'] < 4*lr_star, (lr_star, res['diverged_at'])
    assert res['steepest'] < lr_star and res['min_div10'] < lr_star
    assert torch.equal(line.weight, w0) and sgd.param_groups[0]['lr'] == 0.1

def test_the_mirror_at_test_time_maps_the_mirrored_prediction_back():
    "A 'model' that marks the left half of any photo: averaged with its mirror, it is half sure everywhere; a symmetric one is unchanged."
    import numpy as np
    from facenb.augment import flip_tta
    x = np.random.default_rng(0).random((2, 3, 8, 6)).astype(np.float32)
    left = lambda b: np.broadcast_to((np.arange(b.shape[-1]) < b.shape[-1]//2).astype(np.float32), (b.shape[0], 1, *b.shape[2:]))
    assert np.allclose(flip_tta(left, x), 0.5)
    brightness = lambda b: b.mean(1, keepdims=True)            # not symmetric in the photo, but the mirror maps it back exactly
    assert np.allclose(flip_tta(brightness, x), brightness(x), atol=1e-6)
    assert torch.allclose(flip_tta(lambda b: b.mean(1, keepdim=True), torch.from_numpy(x)), torch.from_numpy(brightness(x)), atol=1e-6)
