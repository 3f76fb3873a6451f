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
