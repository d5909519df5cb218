"""What ``import foreplan`` promises: ``__all__`` lists exactly the public names the
package defines (submodules aside), each one importable, and the version is the
installed one."""

from __future__ import annotations

import types
from importlib import metadata

import foreplan


def test_all_lists_every_public_name_and_nothing_else():
    public = {name for name, value in vars(foreplan).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    assert set(foreplan.__all__) == public
    assert len(foreplan.__all__) == len(set(foreplan.__all__))


def test_every_exported_name_comes_from_foreplan():
    for name in foreplan.__all__:
        member = getattr(foreplan, name)
        assert member.__module__.startswith("foreplan."), (name, member.__module__)


def test_the_version_is_the_installed_distributions():
    assert foreplan.__version__ == metadata.version("foreplan")
