"""Shared pytest fixtures: the module under test, real knotd instances and the
Cloudflare API simulator. Everything runs on loopback."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for the cfsim package

from knot_instance import KnotInstance  # noqa: E402

try:
    from fixtures_cfsim import *  # noqa: F401,F403,E402
except ImportError as e:  # the simulator is optional for the foundation tests
    if "fixtures_cfsim" not in str(e):
        raise


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a long rollover scenario (runs by default; -m 'not slow' skips)")


@pytest.fixture(scope="session")
def module_so():
    path = os.environ.get("MS_MODULE_SO") or os.path.join(HERE, "..", "..", "multisigner.so")
    path = os.path.abspath(path)
    if not os.path.exists(path):
        pytest.fail(f"{path} not found: run `make` first (or set MS_MODULE_SO)")
    return path


def instance_factory(cls, tmp_path, module_so):
    """A generator fixture body: make `cls` instances (KnotInstance or a
    subclass); every one made is stopped afterwards."""
    made = []

    def make(name="knot"):
        inst = cls(str(tmp_path), module_so, name=name)
        made.append(inst)
        return inst

    yield make
    for inst in made:
        inst.stop()


@pytest.fixture
def knot_factory(tmp_path, module_so):
    yield from instance_factory(KnotInstance, tmp_path, module_so)


@pytest.fixture
def knot(knot_factory):
    return knot_factory()
