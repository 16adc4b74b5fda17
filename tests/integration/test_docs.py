"""The man pages `make` built are what rst2man makes from doc/*.rst now, and
the documents the README points to exist."""
import os
import re
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.environ.get("MS_SRCDIR") or os.path.join(HERE, "..", ".."))
BUILDDIR = os.environ.get("MS_BUILDDIR")
PAGES = {"doc/man/mod-multisigner.7": "doc/man/mod-multisigner.7.rst",
         "doc/man/knot-multisigner-status.8": "doc/knot-multisigner-status.rst"}


@pytest.mark.skipif(not BUILDDIR, reason="run through `make check`")
@pytest.mark.parametrize("page", sorted(PAGES))
def test_man_page_is_built_and_current(page):
    rst2man = shutil.which("rst2man")
    if rst2man is None:
        pytest.skip("rst2man (python3-docutils) is not installed")
    built = os.path.join(BUILDDIR, page)
    if not os.path.exists(built):
        built = os.path.join(SRCDIR, page)   # a release tarball ships them
    assert os.path.exists(built), f"{page} was not built: is configure's RST2MAN set?"
    r = subprocess.run([rst2man, "--halt=warning", os.path.join(SRCDIR, PAGES[page])],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(built) as f:
        assert f.read() == r.stdout, f"{page} is out of date: run `make`"


def test_readme_points_at_files_that_exist():
    with open(os.path.join(SRCDIR, "README")) as f:
        readme = f.read()
    named = set(re.findall(r"\b((?:doc|samples|tools)/[\w./-]+\w)", readme))
    assert named
    missing = [p for p in sorted(named) if not os.path.exists(os.path.join(SRCDIR, p))]
    assert not missing, f"the README names files that do not exist: {missing}"


def test_every_module_option_is_documented_with_a_default():
    """Knot's module-page layout: each option in the synopsis and in its own
    entry that ends with its default."""
    with open(os.path.join(SRCDIR, "module", "multisigner.c")) as f:
        options = set(re.findall(r'#define MOD_\w+\s+"\\x[0-9a-fA-F]{2}""([a-z-]+)"', f.read()))
    assert len(options) >= 10, options
    with open(os.path.join(SRCDIR, "doc", "mod-multisigner.rst")) as f:
        rst = f.read()
    synopsis = rst.split("Module reference", 1)[1].split(".. NOTE::", 1)[0]
    for opt in sorted(options):
        assert re.search(rf"^\s+{re.escape(opt)}: ", synopsis, re.M), f"{opt} not in the synopsis"
        entry = re.search(rf"^\.\. _mod-multisigner_{re.escape(opt)}:\n\n{re.escape(opt)}\n\.+\n"
                          r"(.*?)(?=^\.\. _mod-multisigner_|^\S[^\n]*\n-{3,}$)", rst, re.M | re.S)
        assert entry, f"{opt} has no reference entry"
        assert "*Default:*" in entry.group(1), f"{opt}: no *Default:* line"
