"""The built website (`python docs/build.py` writes `_docs/`): every notebook has its page, no nbdev directive
shows, every internal link and image resolves, the API entries and the lesson code are on their pages.

Skipped when the site has not been built, unless FACENB_SITE=required (as in CI), where a missing site fails."""
import ast, json, os, re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import ROOT

SITE, NBS = ROOT/'_docs', ROOT/'nbs'
if not (SITE/'index.html').exists():
    if os.environ.get('FACENB_SITE') == 'required': raise FileNotFoundError(f'no site in {SITE}: run `python docs/build.py`')
    pytest.skip('the site is not built (python docs/build.py)', allow_module_level=True)

DIRECTIVE = re.compile(r'^\s*#\s*\|', re.M)

class Page(HTMLParser):
    "What the tests look at in one HTML page: ids, links, images, headings and the text of code blocks."
    def __init__(self, path:Path):
        super().__init__()
        self.ids, self.refs, self.headings, self.code, self.cells = set(), [], [], [], []
        self._heading, self._pre, self._cell = None, 0, False
        self.feed(path.read_text(encoding='utf-8'))
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a: self.ids.add(a['id'])
        for k in ('href', 'src'):
            if a.get(k) and tag in ('a', 'img', 'link', 'script') and a.get('rel') not in ('canonical', 'preconnect'):
                self.refs.append((tag, a[k]))
        if re.fullmatch(r'h[1-6]', tag): self._heading = []
        if tag == 'div' and 'highlight-' in a.get('class', ''):    # a cell's source is ipython3, a signature python
            self._cell = 'highlight-ipython3' in a['class']
        if tag == 'pre': self._pre += 1; self.code.append(''); self.cells.append(self._cell)
    def handle_endtag(self, tag):
        if re.fullmatch(r'h[1-6]', tag) and self._heading is not None:
            self.headings.append(''.join(self._heading).replace('#', '').strip()); self._heading = None
        if tag == 'pre': self._pre -= 1
    def handle_data(self, data):
        if self._heading is not None: self._heading.append(data)
        if self._pre: self.code[-1] += data

def page_of(nb:Path) -> str:
    "nbdev's page name for a notebook: `04_unet.ipynb` -> `unet.html`."
    return re.sub(r'^\d+[a-zA-Z0-9]*_', '', nb.name.lower()).replace('.ipynb', '.html')

NOTEBOOKS = sorted(NBS.glob('*.ipynb'))
PAGES = {p.name: Page(p) for p in sorted(SITE.glob('*.html'))}

def test_a_page_for_every_notebook():
    missing = [nb.name for nb in NOTEBOOKS if page_of(nb) not in PAGES]
    assert not missing, f'notebooks without a page: {missing}'
    assert len(NOTEBOOKS) >= 10

def test_no_directive_is_shown():
    "nbdev's `#|` lines are instructions to nbdev, never part of a code block on the site."
    shown = {name: [c for c in p.code if DIRECTIVE.search(c)] for name, p in PAGES.items()}
    assert not {k: v for k, v in shown.items() if v}, shown
    for name in PAGES:
        text = (SITE/name).read_text(encoding='utf-8')
        assert not re.search(r'#\|\s*(export|exports|exporti|hide|default_exp)\b', re.sub(r'<[^>]+>', '', text)), name

def test_internal_links_and_images_resolve():
    broken = []
    for name, page in PAGES.items():
        for tag, ref in page.refs:
            url = urlsplit(ref)
            if url.scheme or ref.startswith('//'):
                assert url.scheme in ('http', 'https', 'mailto'), (name, ref)   # no file:// or data the site can't serve
                if tag in ('img', 'script', 'link'): broken.append((name, ref, 'loaded from the internet'))
                continue
            target = (SITE/name).parent/unquote(url.path) if url.path else SITE/name
            if not target.exists(): broken.append((name, ref, 'missing')); continue
            if url.fragment and target.suffix == '.html' and target.name in PAGES:
                if url.fragment not in PAGES[target.name].ids: broken.append((name, ref, 'no such anchor'))
    assert not broken, broken

def _def_name(node) -> str:
    "`fit`, or `Learner.fit` for a function that `@patch` adds to `Learner` (as nbdev names it)."
    patched = any(getattr(d, 'id', None) == 'patch' for d in getattr(node, 'decorator_list', []))
    anno = node.args.args[0].annotation if patched and node.args.args else None
    return f'{anno.id}.{node.name}' if isinstance(anno, ast.Name) else node.name

def _show_doc_names(nb:Path) -> set:
    "The names a chapter documents: its `show_doc(...)` calls and the public names its exported cells define."
    names = set()
    for cell in json.loads(nb.read_text(encoding='utf-8'))['cells']:
        src = ''.join(cell['source'])
        if cell['cell_type'] != 'code' or re.search(r'^#\|\s*hide\b', src, re.M): continue
        names.update(re.findall(r'^show_doc\(([\w.]+)\)', src, re.M))
        if re.search(r'^#\|\s*exports?\s*$', src, re.M):
            try: tree = ast.parse(DIRECTIVE.sub('#', src))
            except SyntaxError: continue
            names.update(_def_name(n) for n in tree.body
                         if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith('_'))
    return names

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.stem)
def test_show_doc_entries_are_on_the_page(nb):
    page = PAGES[page_of(nb)]
    missing = sorted(n for n in _show_doc_names(nb) if not {n, n.rpartition('.')[2]} & set(page.headings))
    assert not missing, f'{page_of(nb)} lacks the entries {missing}'

def _sidebar(page:str) -> dict:
    "The sidebar of `page`: {caption: [(page name, link text), ...]}, in the order shown."
    html = (SITE/page).read_text(encoding='utf-8')
    nav = html[html.index('bd-docs-nav'):]
    nav = nav[:nav.index('</nav>')]
    parts, cur = {}, None
    for cap, href, text in re.findall(r'caption-text">([^<]+)<|<a class="[^"]*reference internal[^"]*" href="([\w-]+\.html|#)">([^<]+)</a>', nav):
        if cap: cur = parts.setdefault(cap.strip(), [])
        elif cur is not None: cur.append(((page if href == '#' else href).removesuffix('.html'), text.strip()))  # '#': the page itself
    return parts

def test_sidebar_lists_the_lessons_then_the_library():
    "Two captioned parts: the lessons (prefix < 90) in reading order, 00_start first; then the library (90-99)."
    for page in ('index.html', 'start.html', 'core.html'):
        parts = _sidebar(page)
        assert list(parts) == ['Lessons', 'Library'], (page, list(parts))
        num = lambda entries: [int(text.split(' · ')[0]) for _, text in entries]
        lessons, library = num(parts['Lessons']), num(parts['Library'])
        assert parts['Lessons'][0][0] == 'start' and lessons[0] == 0, parts['Lessons'][:2]
        assert lessons == sorted(lessons) and max(lessons) < 90 and library == sorted(library) and min(library) >= 90
        assert len(set(lessons + library)) == len(lessons + library), 'a number shown twice'
        want = {nb.stem for nb in NOTEBOOKS if nb.name != 'index.ipynb'}
        shown = {f'{n:02d}_{href}' for (href, _), n in zip(parts['Lessons'] + parts['Library'], lessons + library)}
        assert shown == want, (sorted(want - shown), sorted(shown - want))

def _code(page:str) -> str:
    "The code of the cells shown on `page` (not the signatures of `show_doc`)."
    return '\n'.join(c for c, cell in zip(PAGES[page].code, PAGES[page].cells) if cell)

def test_the_lesson_code_is_on_its_page():
    "`#| exports` cells are shown: the U-Net's blocks, Dice and Jaccard; `#| export` plumbing is not."
    unet, metrics = _code('unet.html'), _code('metrics.html')
    assert 'class DoubleConv(nn.Sequential):' in unet
    assert 'class UNet(nn.Module):' in unet
    assert 'def dice_score(' in metrics and 'def jaccard_score(' in metrics
    assert 'def nearest_valid_sizes(' not in unet          # plumbing: only its documentation is on the page
    assert 'nearest_valid_sizes' in PAGES['unet.html'].headings

def test_pages_show_math_plots_and_colab_badges():
    unet = (SITE/'unet.html').read_text(encoding='utf-8')
    assert 'class="math' in unet and '_static/mathjax/tex-chtml.js' in unet       # MathJax served with the site
    assert re.search(r'<img[^>]+src="_images/[^"]+\.png"', unet)                     # the saved plots
    for nb in NOTEBOOKS:
        if nb.name != 'index.ipynb': assert 'colab.research.google.com/github/' in (SITE/page_of(nb)).read_text(encoding='utf-8'), nb.name

def test_demo_page_is_built_and_linked():
    "The demo page (docs/demo/), its vendored onnxruntime-web and its model settings; chapter 15 (deploy) links to it."
    demo = SITE/'demo'
    for f in ('index.html', 'demo.js', 'demo.css', 'sw.js', 'model.json', 'ort/ort.wasm.min.mjs', 'ort/ort-wasm-simd-threaded.wasm'):
        assert (demo/f).is_file(), f'{f} missing from {demo}'
    meta = json.loads((demo/'model.json').read_text())
    assert meta['ort'] == json.loads((ROOT/'docs'/'demo'/'package-lock.json').read_text())['packages']['node_modules/onnxruntime-web']['version']
    assert (demo/'model.onnx').is_file() if meta['model'] else meta['notice']
    assert ('demo/index.html' in {ref for _, ref in PAGES['deploy.html'].refs}
            and 'the-model-in-the-browser' in PAGES['deploy.html'].ids)
