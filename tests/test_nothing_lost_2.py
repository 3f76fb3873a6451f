"""Nothing lost, nothing silently wrong, round two (issue 26): downloads never delete a folder facenb did not make,
archives cannot write outside their folder, `evaluate --out` never replaces what it did not write, `train --overwrite`
keeps the old run until the new one has an epoch, the image cache notices edited files, outputs follow the umask,
and the errors name the file or option. The commands run in this process (`facenb.cli.main`) where they can: fast."""
import io, json, os, resource, signal, subprocess, sys, textwrap, zipfile
from pathlib import Path
import numpy as np
import pytest
import torch
from PIL import Image

from facenb.core import atomic_write, atomic_write_text, remove_partial_writes
from facenb.data import DATASETS, data_root
from facenb.download import _extract
from facenb.sources import synthetic_people, get_source
from facenb.loaders import SegmentationDataset
from conftest import TINY, snapshot, one_line, listing

# --- atomic writes -------------------------------------------------------------------------------------------------

def test_an_interrupted_atomic_write_keeps_the_old_file(tmp_path):
    "The writer raises half-way, or the process is killed with SIGKILL: the old file is whole, no partial file stays."
    f = tmp_path/'w'/'ckpt.pt'
    atomic_write_text(f, 'old and whole')
    def half(p): Path(p).write_text('half'); raise RuntimeError('the writer stopped half-way')
    with pytest.raises(RuntimeError, match='half-way'): atomic_write(f, half)
    assert f.read_text() == 'old and whole' and [p.name for p in f.parent.iterdir()] == ['ckpt.pt']
    code = f"""
        import os, signal
        from pathlib import Path
        from facenb.core import atomic_write
        def killed(p): Path(p).write_text('half'); os.kill(os.getpid(), signal.SIGKILL)
        atomic_write({str(f)!r}, killed)"""
    r = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert f.read_text() == 'old and whole'
    left = [p.name for p in f.parent.iterdir() if p.name != 'ckpt.pt']
    assert len(left) == 1 and remove_partial_writes(f.parent) == left      # the kill's leftover is swept ...
    assert [p.name for p in f.parent.iterdir()] == ['ckpt.pt']             # ... and only it

@pytest.mark.parametrize('umask', [0o022, 0o077, 0o002])
def test_outputs_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        f = atomic_write_text(tmp_path/'new.json', '{}')
        assert f.stat().st_mode & 0o777 == 0o666 & ~umask
        g = tmp_path/'there.json'; g.write_text('x'); g.chmod(0o644)
        atomic_write_text(g, '{}')                                          # replaced: the umask's mode, not 0600
        assert g.stat().st_mode & 0o777 == 0o666 & ~umask
    finally: os.umask(old)

def test_a_run_follows_the_umask(run):
    mask = os.umask(0); os.umask(mask)
    from facenb.core import MANIFEST   # the record of what facenb wrote there follows it too
    assert {p.name: p.stat().st_mode & 0o777 for p in run.iterdir()} == {n: 0o666 & ~mask for n in
                                                                       ['best.pt', 'config.json', 'history.csv', 'history.json', 'last.pt', MANIFEST]}

def test_a_failed_write_names_the_file_and_the_cause(tmp_path):
    import errno
    def full(p): Path(p).write_bytes(b'x'); raise OSError(errno.ENOSPC, 'No space left on device')
    with pytest.raises(OSError, match=r"could not write '.*preds/p0.png': the disk is full.*No space left") as e:
        atomic_write(tmp_path/'preds'/'p0.png', full)
    assert e.value.errno == errno.ENOSPC and '\n' not in str(e.value)
    dev = open('/dev/full', 'wb')          # torch's own words for a full disk: "enforce fail at inline_container.cc"
    try:
        with pytest.raises(OSError, match=r"could not write '.*last.pt': the disk is full.*inline_container"):
            atomic_write(tmp_path/'last.pt', lambda p: torch.save({'w': torch.zeros(100_000)}, dev))
    finally:
        try: dev.close()
        except OSError: pass               # what is still buffered cannot go to /dev/full either
    assert sorted(p.name for p in tmp_path.iterdir()) == ['preds']          # nothing half-written left
    with pytest.raises(RuntimeError, match='not about writing'):           # other errors pass as they are
        atomic_write(tmp_path/'x', lambda p: (_ for _ in ()).throw(RuntimeError('not about writing')))

def test_a_full_disk_while_training_is_one_line_naming_the_checkpoint(tmp_path):
    "A file-size limit (as a full disk would): `facenb train` says which file it could not write, and leaves no --out."
    from conftest import data_env
    env = {**os.environ, **data_env(), 'FACENB_CACHE': str(tmp_path/'cache')}
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, resource.RLIM_INFINITY))  # a checkpoint is 1.5 MB
    exe = Path(sys.executable).with_name('facenb')
    r = subprocess.run([str(exe), 'train', *TINY, '--epochs', '1', '--out', 'runs/f'], cwd=tmp_path, env=env, preexec_fn=limit,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 1 and one_line(r.stderr), r.stderr
    assert "could not write 'runs/f/last.pt': the disk is full, or a quota or file-size limit is reached" in r.stderr, r.stderr
    assert not (tmp_path/'runs').exists()                                  # nothing left behind: no empty --out

# --- archives and downloads ----------------------------------------------------------------------------------------

def encode(a):
    b = io.BytesIO(); Image.fromarray(a).save(b, format='PNG'); return b.getvalue()

def human_archive(path, extra=()):
    "A 3-pair human-segmentation archive shaped like GitHub's, with `extra` (name, bytes) members."
    path.parent.mkdir(parents=True, exist_ok=True)
    imgs, msks = synthetic_people(3, (40, 30))
    with zipfile.ZipFile(path, 'w') as z:
        for i in range(3):
            z.writestr(f'Top/Training_Images/{i}.png', encode(imgs[i])); z.writestr(f'Top/Ground_Truth/{i}.png', encode(msks[i]*255))
        z.writestr('Top/Training_Images/JPEG/0.png', encode(imgs[0]))      # nested: not taken
        for name, data in extra: z.writestr(name, data)
    return path

@pytest.mark.parametrize('evil', ['../escaped.png', 'Top/Training_Images/../../../escaped.png', 'ABS',
                                  'Top/Training_Images/..\\..\\escaped.png', 'C:/escaped.png'])
def test_no_archive_member_lands_outside_the_target(tmp_path, evil):
    evil = str(tmp_path/'outside'/'Training_Images'/'9.png') if evil == 'ABS' else evil
    arch = human_archive(tmp_path/'a'/'h.zip', [(evil, b'evil')])
    out = tmp_path/'a'/'x'/'y'/'human-segmentation'
    with pytest.raises(ValueError, match=r"holds the member '.*escaped.png|holds the member '.*9.png'") as e:
        _extract(arch, DATASETS['human-segmentation'], out)
    assert 'nothing was extracted' in str(e.value)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob('*') if p.is_file()) == ['a/h.zip']

def test_an_archive_extracts_the_direct_children_only(tmp_path):
    arch = human_archive(tmp_path/'h.zip', [('Top/README.md', b'not taken')])
    _extract(arch, DATASETS['human-segmentation'], tmp_path/'root'/'human-segmentation')
    got = sorted(p.relative_to(tmp_path/'root').as_posix() for p in (tmp_path/'root').rglob('*') if p.is_file())
    assert got == [f'human-segmentation/{d}/{i}.png' for d in ('Ground_Truth', 'Training_Images') for i in range(3)]

def test_the_extractor_checks_every_write_whatever_chose_it(tmp_path):
    "The write itself refuses a path that leaves the folder: a change in how members are chosen cannot write outside."
    from facenb.download import _extract_member
    arch = human_archive(tmp_path/'h.zip')
    with zipfile.ZipFile(arch) as z:
        for rel in ('../escaped.png', '/tmp/escaped.png', 'a/../../escaped.png'):
            with pytest.raises(ValueError, match='outside the folder'): _extract_member(z, 'Top/Ground_Truth/0.png', rel, tmp_path/'out', arch)
        (tmp_path/'out').mkdir(); (tmp_path/'elsewhere').mkdir(); (tmp_path/'out'/'link').symlink_to(tmp_path/'elsewhere')
        with pytest.raises(ValueError, match='outside the folder'): _extract_member(z, 'Top/Ground_Truth/0.png', 'link/0.png', tmp_path/'out', arch)
    assert list((tmp_path/'elsewhere').iterdir()) == []

@pytest.fixture
def fasseg_mirror(tmp_path_factory):
    "A folder mirror (FACENB_MIRROR) holding fasseg.zip, built from the shared data as the public archive lays it out."
    from mirror import build_archive
    if not os.environ.get('FACENB_DATA'): pytest.skip('needs the shared datasets (FACENB_DATA) to build the archive from')
    folder = tmp_path_factory.mktemp('mirror')
    from conftest import ROOT
    build_archive('fasseg', ROOT/os.environ['FACENB_DATA'], folder)   # a relative FACENB_DATA is meant from the project root
    return folder

def test_download_never_deletes_a_folder_it_did_not_make(facenb, tmp_path, fasseg_mirror):
    env = {'FACENB_MIRROR': str(fasseg_mirror), 'FACENB_DOWNLOAD': '1'}
    (tmp_path/'proj'/'fasseg-v2'/'src').mkdir(parents=True); (tmp_path/'proj'/'fasseg-v2'/'src'/'main.py').write_text('x')
    status, out, err = facenb('download', 'fasseg', '--dest', 'proj', env=env)
    assert status == 1 and one_line(err) and "'proj/fasseg-v2' is there but it does not read as a complete fasseg" in err, err
    assert 'src/main.py' in err and 'nothing was changed' in err, err
    assert snapshot(tmp_path/'proj') == {'fasseg-v2/src/main.py': b'x'}
    # a copy facenb downloaded, then damaged (a file gone): replaced; then a file of the user's in it: refused
    status, out, err = facenb('download', 'fasseg', '--dest', 'data', env=env)
    assert status == 0, err
    labels = tmp_path/'data'/'fasseg-v2'/'Train_Labels'
    first = sorted(labels.iterdir())[0]; first.unlink()
    status, out, err = facenb('download', 'fasseg', '--dest', 'data', env=env)
    assert status == 0 and first.exists(), err
    (labels/'notes.txt').write_text('mine')
    first.unlink()
    status, out, err = facenb('download', 'fasseg', '--dest', 'data', env=env)
    assert status == 1 and one_line(err) and 'Train_Labels/notes.txt' in err, err
    assert (labels/'notes.txt').read_text() == 'mine' and not first.exists()

def test_a_missing_mirror_archive_is_one_line_and_leaves_no_dest(facenb, tmp_path):
    (tmp_path/'empty-mirror').mkdir()
    status, out, err = facenb('download', 'fasseg', '--dest', 'new/data', env={'FACENB_MIRROR': str(tmp_path/'empty-mirror')})
    assert status == 1 and one_line(err), err
    assert f"no archive 'fasseg.zip' in the mirror folder '{tmp_path/'empty-mirror'}' (FACENB_MIRROR)" in err and 'URLError' not in err, err
    assert not (tmp_path/'new').exists()                                  # no empty --dest left behind

def test_facenb_data_naming_a_file_says_so(facenb, tmp_path):
    (tmp_path/'datafile').write_text('not a folder')
    status, out, err = facenb('data', 'fasseg', env={'FACENB_DATA': str(tmp_path/'datafile'), 'FACENB_DOWNLOAD': '1'})
    assert status == 1 and one_line(err) and f"FACENB_DATA='{tmp_path/'datafile'}' is a file" in err, err
    assert 'could not download' not in err and 'FileExistsError' not in err, err

# --- the image cache -----------------------------------------------------------------------------------------------

def test_the_cache_is_rebuilt_when_a_mask_or_photo_changes(tmp_path, capsys):
    d = tmp_path/'mine'; (d/'images').mkdir(parents=True); (d/'masks').mkdir()
    imgs, msks = synthetic_people(4, (64, 48))
    for i in range(4):
        Image.fromarray(imgs[i]).save(d/'images'/f'p{i}.png'); Image.fromarray(msks[i]*255).save(d/'masks'/f'p{i}.png')
    build = lambda: SegmentationDataset(get_source(d, 'trainval'), (64, 48), cache_dir=tmp_path/'cache', progress=False)
    first = np.array(build().masks)
    assert 'rebuilding' not in capsys.readouterr().out
    Image.fromarray((1 - msks[2])*255).save(d/'masks'/'p2.png')            # the mask of p2 edited, same name
    os.utime(d/'masks'/'p2.png', ns=(1, 1))                                 # even with an old time: the size or time differs
    second = build()
    assert 'photos and masks changed since it was built; rebuilding it' in capsys.readouterr().out
    assert (np.array(second.masks[2]) != first[2]).any() and (np.array(second.masks[1]) == first[1]).all()
    third = build()                                                         # unchanged since: read from the cache
    assert 'rebuilding' not in capsys.readouterr().out and (np.array(third.masks) == np.array(second.masks)).all()

# --- train --overwrite, and options that fail at the first step ---------------------------------------------------

@pytest.mark.parametrize('bad', [['--lr', '1e30'], ['--model-kw', 'base=0'], ['--loss-kw', 'pos_weight=nan'],
                                 ['--loss-kw', 'pos_weight=NaN'], ['--device', 'meta']])
def test_overwrite_that_fails_at_the_first_step_keeps_the_old_run(facenb, run, bad):
    before = snapshot(run)
    status, out, err = facenb('train', *TINY, '--epochs', '1', '--out', 'runs/r', '--overwrite', *bad)
    assert status == 1 and one_line(err), err
    assert snapshot(run) == before
    assert 'invalid option' in err or 'the loss is not finite' in err, err  # refused as an option, or stopped at step 1
    if bad[0] != '--lr': assert f'({bad[0]})' in err, err

def test_a_fresh_run_that_fails_leaves_no_out(facenb, tmp_path):
    status, out, err = facenb('train', *TINY, '--epochs', '1', '--out', 'runs/new/r', '--lr', '1e30')
    assert status == 1 and one_line(err) and 'not finite' in err, err
    assert not (tmp_path/'runs').exists()

def test_overwrite_replaces_the_old_run_once_the_new_one_has_an_epoch(facenb, run):
    (run/'notes.txt').write_text('mine')
    status, out, err = facenb('train', *TINY, '--epochs', '2', '--out', 'runs/r', '--overwrite', '--seed', '3')
    assert status == 0, err
    assert listing(run) == ['best.pt', 'config.json', 'history.csv', 'history.json', 'last.pt', 'notes.txt']
    assert json.loads((run/'config.json').read_text())['seed'] == 3 and len(json.loads((run/'history.json').read_text())) == 2

# --- evaluate --------------------------------------------------------------------------------------------------------

def test_evaluate_never_writes_over_the_checkpoint_or_a_file_it_did_not_write(run, tmp_path):
    from facenb.train import evaluate
    before = snapshot(run)
    (tmp_path/'notes.json').write_text('{"mine": 1}')
    for out in (run/'best.pt', tmp_path/'notes.json', run):
        with pytest.raises(OSError, match=r'--out .* (is the checkpoint being evaluated|is not an evaluation facenb wrote|is a folder)'):
            evaluate(run, out=out)
    assert snapshot(run) == before and (tmp_path/'notes.json').read_text() == '{"mine": 1}'
    res = evaluate(run, out=tmp_path/'eval.json')                           # its own file: written, then replaced
    assert json.loads((tmp_path/'eval.json').read_text())['n_images'] == res['n_images']
    evaluate(run, out=tmp_path/'eval.json', threshold=0.3)

def test_facenb_evaluate_out_never_writes_over_the_checkpoint(facenb, run):
    before = snapshot(run)
    status, out, err = facenb('evaluate', '--checkpoint', 'runs/r', '--out', 'runs/r/best.pt', '--no-progress')
    assert status == 1 and one_line(err) and 'is the checkpoint being evaluated' in err, err
    assert snapshot(run) == before

def test_evaluate_compares_the_class_names(facenb, run, tmp_path):
    ck = torch.load(run/'last.pt', weights_only=True)
    ck['classes'] = ['background', 'cat']
    torch.save(ck, tmp_path/'cat.pt')
    status, out, err = facenb('evaluate', '--checkpoint', 'cat.pt', '--no-progress')
    assert status == 1 and one_line(err), err
    assert "cat.pt was trained on the classes ['background', 'cat'] but 'synthetic' has ['background', 'person']" in err, err

# --- errors that name the file or option ----------------------------------------------------------------------------

def test_resume_of_a_weights_only_file_says_what_it_is(facenb, run):
    status, out, err = facenb('export', '--checkpoint', 'runs/r', '--out', 'w.pt')
    assert status == 0, err
    status, out, err = facenb('train', '--resume', 'w.pt', '--no-progress')
    assert status == 1 and one_line(err) and 'w.pt is not a run\'s checkpoint' in err and 'weights-only' in err, err

def test_a_config_that_is_not_json_is_named(facenb, tmp_path):
    (tmp_path/'bad.json').write_text('{"arch": "unet",\n "lr": }')
    status, out, err = facenb('train', '--config', 'bad.json', '--no-progress')
    assert status == 1 and one_line(err) and 'config file bad.json is not valid JSON (Expecting value: line 2' in err, err
    (tmp_path/'bad.json').write_text('{"archh": "unet"}')
    status, out, err = facenb('train', '--config', 'bad.json', '--no-progress')
    assert status == 1 and one_line(err) and "config file bad.json: unknown TrainConfig option(s) ['archh']" in err, err

def test_a_relative_data_folder_resumed_from_elsewhere_says_so(facenb, tmp_path, monkeypatch):
    d = tmp_path/'mydata'; (d/'images').mkdir(parents=True); (d/'masks').mkdir()
    imgs, msks = synthetic_people(12, (64, 48))
    for i in range(12):
        Image.fromarray(imgs[i]).save(d/'images'/f'p{i}.png'); Image.fromarray(msks[i]*255).save(d/'masks'/f'p{i}.png')
    status, out, err = facenb('train', *TINY[:-4], '--data', 'mydata', '--epochs', '1', '--out', 'runs/m')
    assert status == 0, err
    (tmp_path/'elsewhere').mkdir(); monkeypatch.chdir(tmp_path/'elsewhere')
    status, out, err = facenb('train', '--resume', '../runs/m', '--epochs', '2', '--no-progress')
    assert status == 1 and one_line(err) and "trains on the data folder 'mydata', a path relative to the folder" in err, err
    assert 'unknown dataset' not in err
