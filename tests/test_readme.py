"README.md shows exactly the commands that CI runs, and is rendered from nbs/index.ipynb."
import json, re
from conftest import ROOT

def readme_commands():
    text = (ROOT/'README.md').read_text(encoding='utf-8')
    blocks = re.findall(r'```(?:bash|sh)\n(.*?)```', text, flags=re.S)
    return [line.strip() for b in blocks for line in b.splitlines() if line.strip()]

def test_ci_runs_the_readme_install_and_test_commands():
    cmds, ci = readme_commands(), (ROOT/'.ci'/'run').read_text(encoding='utf-8')
    install = [c for c in cmds if c.startswith('pip install') and 'docs/build.py' not in c]
    tests = [c for c in cmds if 'nbdev_test' in c]
    assert install == ['pip install -e ".[dev]"'], install
    assert len(tests) == 1 and tests[0] in ci.splitlines(), tests
    assert 'pip install -q -e ".[dev]"' in ci

def test_readme_names_a_main_job_command():
    assert any(c.startswith('facenb ') for c in readme_commands())

def test_ci_builds_the_site_with_the_readme_docs_command():
    cmds, ci = readme_commands(), (ROOT/'.ci'/'run').read_text(encoding='utf-8')
    docs = [c for c in cmds if 'docs/build.py' in c]
    assert docs == ['pip install -e ".[docs]" && python docs/build.py'], docs
    assert docs[0] in ci.splitlines()
    assert 'FACENB_SITE=required' in ci          # the test of the built site must not skip in CI

LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')

def _relative_targets(markdown:str) -> list:
    "The link and image targets that are files of the project (not URLs, not anchors), without their anchors."
    return [t.partition('#')[0] for t in LINK.findall(markdown) if not re.match(r'^[a-z][a-z0-9+.-]*:', t) and not t.startswith('#')]

def test_home_page_links_resolve_where_it_is_opened():
    "nbs/index.ipynb's links and images work from nbs/ (JupyterLab, Colab), README.md's from the root (GitHub)."
    nb = json.loads((ROOT/'nbs'/'index.ipynb').read_text(encoding='utf-8'))
    md = '\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown')
    targets = _relative_targets(md)
    assert len(targets) >= 10 and any(t.startswith('../images/') for t in targets), targets
    assert not [t for t in targets if not (ROOT/'nbs'/t).exists()], 'nbs/index.ipynb: broken from nbs/'
    readme = _relative_targets((ROOT/'README.md').read_text(encoding='utf-8'))
    assert not [t for t in readme if not (ROOT/t).exists()], 'README.md: broken from the project root'
    assert any(t.startswith('images/') and 'start' in t for t in readme)       # the home page shows a segmentation
