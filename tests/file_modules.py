"""A module of the project that is not a package (bench/soak.py, infra/capacite.py,
infra/lsu_infra/access.py), loaded from its file for a test."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load(name: str, path: Path) -> ModuleType:
    """The module at `path`, registered as `name` (dataclasses look their module up there)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
