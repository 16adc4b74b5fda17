"""`make install` puts multisigner.so where knotd looks for modules (or where
--with-module-dir says), and `make uninstall` takes it away again."""
import os
import subprocess

import pytest

BUILDDIR = os.environ.get("MS_BUILDDIR")


def make(*args):
    return subprocess.run(["make", "--no-print-directory", "-C", BUILDDIR, *args],
                          capture_output=True, text=True, timeout=300)


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
    r = make("uninstall", f"DESTDIR={dest}")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not installed.exists()
