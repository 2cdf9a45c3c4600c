"""The packaging step: files the Lambda package needs that the repository does not hold.

The schema folder (chalicelib/pipeline/split/schemas.py: XSD files and an optional manifest.json)
is `../shared/lsun/` by default, LSU_SCHEMA_DIR when set, or — as before — the one file LSU_XSD_PATH
points at (a folder holding just that file). Its `*.xsd` files and its `manifest.json` are copied
into `chalicelib/schema/` (git-ignored) just before `chalice package` zips the app, and removed
after, so that a later local run reads `../shared` again. chalicelib/config.py looks there first
(the functions get LSU_SCHEMA_DIR, infra/lsu_infra/stack.py). The PDFs use ReportLab's core fonts
(built into reportlab): there is no font file to copy."""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Iterator

XSD_NAME = "import-complet-strict.xsd"
MANIFEST = "manifest.json"


def schema_sources(project_dir: Path) -> list[Path]:
    """The files of the schema folder the package carries: every `*.xsd`, and the manifest if any."""
    folder, single = os.environ.get("LSU_SCHEMA_DIR"), os.environ.get("LSU_XSD_PATH")
    if not folder and single:
        path = Path(single)
        if not path.is_file():
            raise SystemExit(f"schéma LSU introuvable : {path} (régler LSU_SCHEMA_DIR ou LSU_XSD_PATH)")
        return [path]
    path = Path(folder) if folder else project_dir.parent / "shared" / "lsun"
    files = sorted(path.glob("*.xsd")) if path.is_dir() else []
    if not files:
        raise SystemExit(f"aucun schéma LSU dans {path} (le placer dans ../shared/lsun/ ou régler LSU_SCHEMA_DIR)")
    return files + ([path / MANIFEST] if (path / MANIFEST).is_file() else [])


def xsd_source(project_dir: Path) -> Path:
    """The official XSD among them (kept for callers of the one-file packaging)."""
    sources = schema_sources(project_dir)
    return next((p for p in sources if p.name == XSD_NAME), sources[0])


@contextlib.contextmanager
def packaged_schema(project_dir: Path) -> Iterator[Path]:
    """chalicelib/schema/ holding the schema folder, for the duration of the packaging."""
    target_dir = project_dir / "chalicelib" / "schema"
    sources = schema_sources(project_dir)
    created_dir = not target_dir.exists()
    target_dir.mkdir(exist_ok=True)
    copied = []
    try:
        for source in sources:
            target = target_dir / source.name
            shutil.copyfile(source, target)
            copied.append(target)
        yield target_dir
    finally:
        for target in copied:
            target.unlink(missing_ok=True)
        if created_dir:
            shutil.rmtree(target_dir, ignore_errors=True)
