"README.md shows exactly the commands that CI runs, and is rendered from nbs/index.ipynb."
import re
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
