"""Every sample configuration passes `knotc conf-check` with the module built
here, once its machine-specific paths point at this test's files."""
import glob
import os
import re
import subprocess

import pytest

from knot_instance import KNOTC, knot_env

SAMPLES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "samples", "*.conf")))


@pytest.mark.parametrize("sample", SAMPLES, ids=[os.path.basename(s) for s in SAMPLES])
def test_sample_passes_conf_check(sample, tmp_path, module_so):
    token = tmp_path / "cloudflare.token"
    token.write_text("sample-token\n")
    token.chmod(0o600)
    text = open(sample).read()
    text = re.sub(r'file: "[^"]*multisigner\.so"', f'file: "{module_so}"', text)
    text = text.replace('"/etc/knot/cloudflare.token"', f'"{token}"')
    text = text.replace("user: knot:knot", "user: root:root")
    conf = tmp_path / "knot.conf"
    conf.write_text(text)
    r = subprocess.run([KNOTC, "-c", str(conf), "conf-check"], capture_output=True,
                       text=True, timeout=30, env=knot_env())
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Configuration is valid" in r.stdout


def test_there_are_samples():
    assert SAMPLES
