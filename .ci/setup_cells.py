"""The first code cell of every chapter, written from settings.ini: it sets a fresh runtime (Colab, or any Python)
up for the chapter. `python .ci/setup_cells.py` writes the cells; `--check` exits 1 when one is out of date.

The repository to install from and its branch come from settings.ini (`git_url`, `branch`): one place to change.
"""
import json, sys
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = {  # notebook: the published datasets it reads (in any cell, slow ones included); lessons, then the library
    '00_start': [], '01_data': ['portraits', 'human-segmentation', 'fasseg', 'ccp'],
    '02_sources': ['portraits', 'human-segmentation', 'fasseg', 'ccp'], '03_loaders': ['portraits', 'human-segmentation', 'fasseg'],
    '04_unet': [], '05_encoders': ['portraits'], '06_metrics': ['portraits'], '07_losses': ['portraits'],
    '08_training': [], '09_runs': ['portraits'],
    '10_augmentation': ['portraits', 'human-segmentation'], '11_finetuning': ['human-segmentation'], '12_compare': ['portraits', 'human-segmentation'],
    '13_inference': ['portraits', 'human-segmentation'], '14_multiclass': ['fasseg', 'ccp'], '15_deploy': [],
    '16_people': ['portraits', 'human-segmentation', 'ccp'], '17_error_analysis': ['portraits', 'human-segmentation', 'ccp'], '18_video': ['portraits'],
    '90_core': [], '91_download': ['fasseg'], '92_plots': ['portraits', 'human-segmentation', 'fasseg'], '93_learner': [],
    '94_distributed': [], '95_cli': [], '96_data_checks': ['portraits', 'fasseg', 'ccp'],
}
MARK = '# Set this runtime up for the chapter'

SIZES_MB = {'portraits': 86, 'human-segmentation': 16, 'fasseg': 16, 'ccp': 135}  # each dataset unpacked (CCP's archive is the
# whole repository: 2098 photos, 1004 of them annotated); a chapter downloads only what it reads, once per runtime

TEMPLATE = '''#| hide
{mark}: install facenb if it is missing (Colab), download the data it reads{size}, show the device.
import importlib.util, subprocess, sys
if not importlib.util.find_spec('facenb'): subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', 'facenb[course] @ git+{git_url}@{branch}'], check=True)
from facenb.download import prepare_runtime; prepare_runtime({datasets})  # stops, saying so, if pip replaced a module already loaded'''
# Hidden on the site (`#| hide`), as fastbook's one-line `setup_book()`: a reader of the site has nothing to set up. It
# cannot be one call of facenb's, since facenb is not installed yet on Colab; `prepare_runtime` checks what pip replaced.

def size_note(datasets:list) -> str:
    "What the first run downloads, in words: ' (portraits, about 86 MB)'."
    if not datasets: return ''
    return f" ({', '.join(datasets)}: about {sum(SIZES_MB[d] for d in datasets)} MB the first time)"

def setup_source(datasets:list) -> str:
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini', encoding='utf-8'); d = cfg['DEFAULT']
    return TEMPLATE.format(mark=MARK, git_url=d['git_url'], branch=d['branch'], datasets=repr(datasets), size=size_note(datasets))

def first_code_cell(nb:dict) -> int:
    "The index of the setup cell: the code cell whose first or second line (after `#| hide`) starts with MARK."
    for i, c in enumerate(nb['cells']):
        s = ''.join(c['source'])
        if c['cell_type'] == 'code' and any(l.startswith(MARK) for l in s.split('\n', 2)[:2]): return i  # under `#| hide`, or not
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
