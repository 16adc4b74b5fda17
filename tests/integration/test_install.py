"""`make install` puts multisigner.so where knotd looks for modules (or where
--with-module-dir says), and `make uninstall` takes it away again."""
import os
import subprocess

import pytest

BUILDDIR = os.environ.get("MS_BUILDDIR")


def make(*args):
    return subprocess.run(["make", "--no-print-directory", "-C", BUILDDIR, *args],
                          capture_output=True, text=True, timeout=300)


def make_var(name):
    """A variable as the configured Makefile expands it (e.g. sbindir)."""
    r = subprocess.run(["make", "--no-print-directory", "-s", "-C", BUILDDIR, "-f", "Makefile",
                        "-f", "-", "ms-print-var"],
                       input=f"ms-print-var:\n\t@echo $({name})\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.skipif(not BUILDDIR, reason="run through `make check`")
def test_install_and_uninstall(tmp_path):
    module_dir = subprocess.run(["pkg-config", "--variable=module_instdir", "knotd"],
                                capture_output=True, text=True, check=True).stdout.strip()
    configured = open(os.path.join(BUILDDIR, "Makefile")).read()
    if f"module_dir = {module_dir}\n" not in configured:
        pytest.skip("configured with --with-module-dir")
    dest = tmp_path / "root"
    r = make("install", f"DESTDIR={dest}")
    assert r.returncode == 0, r.stdout + r.stderr
    installed = dest / module_dir.lstrip("/") / "multisigner.so"
    assert installed.is_file()
    assert sorted(p.name for p in installed.parent.iterdir()) == ["multisigner.so"]
    sbindir = make_var("sbindir")
    cli = dest / sbindir.lstrip("/") / "knot-multisigner-status"
    assert os.access(cli, os.X_OK)
    r = subprocess.run([str(cli), "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "--json" in r.stdout, r.stdout + r.stderr
    mandir = dest / make_var("mandir").lstrip("/")
    pages = [mandir / "man7" / "mod-multisigner.7", mandir / "man8" / "knot-multisigner-status.8"]
    if not make_var("RST2MAN"):
        pages = []            # configured without rst2man: no man pages
    for page in pages:
        assert page.is_file() and page.read_text().startswith('.\\" Man page'), page
    r = make("uninstall", f"DESTDIR={dest}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not installed.exists()
    assert not cli.exists()
    assert not any(p.exists() for p in pages)
