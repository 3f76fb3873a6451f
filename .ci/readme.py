"""Render README.md from nbs/index.ipynb without Quarto (unavailable on the build machines).

`python .ci/readme.py` writes README.md; `python .ci/readme.py --check` exits 1 when README.md is stale.
Cells marked `#| hide` are dropped and `#|` directive lines are removed, as nbdev does for its docs.
Links and images in nbs/index.ipynb are relative to nbs/ (where JupyterLab and Colab open it: `01_data.ipynb`,
`../images/x.png`); README.md sits one folder up, so each relative target is rewritten (`nbs/01_data.ipynb`, `images/x.png`).
"""
import posixpath, re, sys
from pathlib import Path

import nbformat
from nbconvert import MarkdownExporter
from nbconvert.preprocessors import Preprocessor

ROOT = Path(__file__).resolve().parent.parent
directive = re.compile(r'^\s*#\s*\|\s*(.*)$')

class NbdevDirectives(Preprocessor):
    "Drop `#| hide` cells and strip directive lines, like nbdev's doc processors."
    def preprocess(self, nb, resources):
        cells = []
        for cell in nb.cells:
            lines = cell.source.splitlines()
            flags = [m.group(1).strip() for m in map(directive.match, lines) if m]
            if cell.cell_type == 'code' and any(f.split()[0] in ('hide', 'export', 'exporti') for f in flags if f): continue
            if cell.cell_type == 'code': cell.source = '\n'.join(l for l in lines if not directive.match(l)).strip()
            if cell.cell_type == 'code' and not cell.source and not cell.get('outputs'): continue
            cells.append(cell)
        nb.cells = cells
        return nb, resources

LINK = re.compile(r'(!?\[[^\]]*\]\()([^)\s]+)(\))')

def from_root(target:str) -> str:
    "A link target relative to nbs/, as seen from the project root; URLs, anchors and absolute paths unchanged."
    if re.match(r'^[a-z][a-z0-9+.-]*:', target) or target.startswith(('#', '/')): return target
    return posixpath.normpath(posixpath.join('nbs', target))

def render() -> str:
    nb = nbformat.read(ROOT/'nbs'/'index.ipynb', as_version=4)
    exporter = MarkdownExporter()
    exporter.register_preprocessor(NbdevDirectives(), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    body = LINK.sub(lambda m: m.group(1) + from_root(m.group(2)) + m.group(3), body)
    note = '<!-- Generated from nbs/index.ipynb by `python .ci/readme.py`: edit the notebook, not this file. -->\n\n'
    return note + re.sub(r'\n{3,}', '\n\n', body).strip() + '\n'

if __name__ == '__main__':
    text, out = render(), ROOT/'README.md'
    if '--check' in sys.argv:
        if not out.exists() or out.read_text(encoding='utf-8') != text:
            sys.exit('README.md is out of date with nbs/index.ipynb: run `python .ci/readme.py` and commit it.')
        print('README.md is up to date.')
    else:
        out.write_text(text, encoding='utf-8')
        print(f'wrote {out.name}')
