"""The first code cell of every chapter, written from settings.ini: it sets a fresh runtime (Colab, or any Python)
up for the chapter. `python .ci/setup_cells.py` writes the cells; `--check` exits 1 when one is out of date.

The repository to install from and its branch come from settings.ini (`git_url`, `branch`): one place to change.
"""
import json, sys
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = {  # notebook: the published datasets it reads (in any cell, slow ones included)
    '00_core': [], '00_data': ['portraits', 'human-segmentation', 'fasseg', 'ccp'], '00a_download': ['fasseg'],
    '00b_sources': ['portraits', 'human-segmentation', 'fasseg', 'ccp'], '00c_plots': ['portraits', 'human-segmentation', 'fasseg'],
    '00d_loaders': ['portraits', 'human-segmentation', 'fasseg'],
    '01_unet': [], '02_encoders': ['portraits'], '03_metrics': ['portraits'], '03a_losses': ['portraits'],
    '04_training': [], '04a_learner': [], '04b_distributed': [], '04c_runs': ['portraits'], '05_compare': ['portraits', 'human-segmentation'],
    '06_inference': ['portraits', 'human-segmentation'], '07_multiclass': ['fasseg', 'ccp'], '08_deploy': [], '09_people': ['portraits', 'human-segmentation', 'ccp'], '90_cli': [],
    '10_augmentation': ['portraits', 'human-segmentation'], '11_finetuning': ['human-segmentation'],
    '17_error_analysis': ['portraits', 'human-segmentation', 'ccp'],
    '95_data_checks': ['portraits', 'fasseg', 'ccp'],
}
MARK = '# Set this runtime up for the chapter'

SIZES_MB = {'portraits': 86, 'human-segmentation': 16, 'fasseg': 16, 'ccp': 135}  # each dataset unpacked (CCP's archive is the
# whole repository: 2098 photos, 1004 of them annotated); a chapter downloads only what it reads, once per runtime

TEMPLATE = '''{mark}: install facenb if it is missing (Colab), download the data it reads{size}, show the device.
import importlib.util, subprocess, sys
if importlib.util.find_spec('facenb') is None:
    from importlib.metadata import distributions, packages_distributions
    before = {{d.metadata['Name']: d.version for d in distributions()}}
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', 'facenb[course] @ git+{git_url}@{branch}'], check=True)
    changed = {{d.metadata['Name'] for d in distributions() if before.get(d.metadata['Name'], d.version) != d.version}}
    loaded = sorted({{d for m, ds in packages_distributions().items() if m in sys.modules for d in ds if d in changed}})
    if loaded: raise RuntimeError(f"pip replaced {{', '.join(loaded)}}, already loaded here: restart the runtime (Colab: Runtime > Restart session), then run this cell again")
from facenb.download import prepare_runtime
prepare_runtime({datasets});'''

def size_note(datasets:list) -> str:
    "What the first run downloads, in words: ' (portraits, about 86 MB)'."
    if not datasets: return ''
    return f" ({', '.join(datasets)}: about {sum(SIZES_MB[d] for d in datasets)} MB the first time)"

def setup_source(datasets:list) -> str:
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini', encoding='utf-8'); d = cfg['DEFAULT']
    return TEMPLATE.format(mark=MARK, git_url=d['git_url'], branch=d['branch'], datasets=repr(datasets), size=size_note(datasets))

def first_code_cell(nb:dict) -> int:
    "The index of the setup cell (the old hidden Colab cell, or the cell this script wrote)."
    for i, c in enumerate(nb['cells']):
        s = ''.join(c['source'])
        if c['cell_type'] == 'code' and (s.startswith(MARK) or "'google.colab' in sys.modules" in s or 'google.colab" in sys.modules' in s): return i
    raise ValueError('no setup cell')

def main(check:bool) -> int:
    stale = []
    for name, datasets in CHAPTERS.items():
        path = ROOT/'nbs'/f'{name}.ipynb'
        nb = json.loads(path.read_text(encoding='utf-8'))
        i, want = first_code_cell(nb), setup_source(datasets)
        if ''.join(nb['cells'][i]['source']) == want: continue
        stale.append(name)
        if not check:
            nb['cells'][i].update(source=want.splitlines(keepends=True), outputs=[], execution_count=None)
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    if stale and check:
        print(f"setup cells out of date with settings.ini in {', '.join(stale)}: run `python .ci/setup_cells.py` and commit", file=sys.stderr)
        return 1
    print(('rewrote ' if stale else 'up to date: ') + ', '.join(stale or CHAPTERS))
    return 0

if __name__ == '__main__': sys.exit(main('--check' in sys.argv))
