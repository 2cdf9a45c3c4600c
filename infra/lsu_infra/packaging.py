"""The packaging step: files the Lambda package needs that the repository does not hold.

The official XSD lives in `../shared/lsun/` (or wherever LSU_XSD_PATH points); it is copied into
`chalicelib/schema/` (git-ignored) just before `chalice package` zips the app, and removed after,
so that a later local run reads `../shared` again. chalicelib/config.py looks there first. The
PDFs use ReportLab's core fonts (built into reportlab): there is no font file to copy."""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Iterator

XSD_NAME = "import-complet-strict.xsd"


def xsd_source(project_dir: Path) -> Path:
    configured = os.environ.get("LSU_XSD_PATH")
    path = Path(configured) if configured else project_dir.parent / "shared" / "lsun" / XSD_NAME
    if not path.is_file():
        raise SystemExit(f"schéma LSU introuvable : {path} (le placer dans ../shared/lsun/ ou régler LSU_XSD_PATH)")
    return path


@contextlib.contextmanager
def packaged_schema(project_dir: Path) -> Iterator[Path]:
    """chalicelib/schema/<xsd> for the duration of the packaging."""
    target_dir = project_dir / "chalicelib" / "schema"
    target = target_dir / XSD_NAME
    created_dir = not target_dir.exists()
    target_dir.mkdir(exist_ok=True)
    shutil.copyfile(xsd_source(project_dir), target)
    try:
        yield target
    finally:
        target.unlink(missing_ok=True)
        if created_dir:
            shutil.rmtree(target_dir, ignore_errors=True)
