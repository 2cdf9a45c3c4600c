"""The installed LSU schemas, as data: a folder of XSD files and the `schemaVersion` values each one
validates. A file's own `schemaVersion` (read from its root before validation) selects the schema
it is checked against; a version no installed schema accepts is refused with
SCHEMA_VERSION_NON_PRISE_EN_CHARGE, naming the version found and the versions installed.

The folder (Settings.schema_dir, LSU_SCHEMA_DIR) holds `*.xsd` files and, optionally, a
`manifest.json`:

    {"schemas": [{"file": "import-complet-strict.xsd",
                  "versions": ["2.0", "3.0", "4.0", "5.0", "6.0", "7.0"],
                  "note": "optional free text"}]}

With a manifest, the manifest is authoritative (its shape is checked at load; each version it
lists must also be one the XSD's own `schemaVersion` enumeration accepts, when it declares one).
Without one (the official folder, read-only, holds none), it is derived from each `*.xsd` file's
own `schemaVersion` enumeration. A path to one XSD file (LSU_XSD_PATH, as before) is read as a
folder holding just that file. Anything wrong is a `SchemaFolderError` (French, naming the problem)
at load: the process cannot check any file without its schemas.

Each schema is loaded once per process and per folder, with its Sconet Notes partial profile
(file_checks.partial_profile) derived from it at load. Pure: files in, compiled schemas out."""
from __future__ import annotations

import functools
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from chalicelib.domain.catalogue import message
from chalicelib.pipeline.split.file_checks import ROOT_TAG, XS, partial_profile, safe_parser

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 64 * 1024
MAX_XSD_BYTES = 8 * 1024 * 1024
# How much of a file may be read to find its root's start tag (a start tag is a few hundred bytes).
VERSION_PROBE_BYTES = 256 * 1024
_PROBE_CHUNK = 16 * 1024
_MAX_VERSION_SHOWN = 40
_VERSION = re.compile(r"[0-9A-Za-z._-]{1,20}")


class SchemaFolderError(ValueError):
    """The schema folder cannot be used (French, for the operator: logs, load time)."""


@dataclass(frozen=True)
class InstalledSchema:
    file: str
    versions: tuple[str, ...]
    strict: etree.XMLSchema
    partial: etree.XMLSchema


class SchemaSet:
    """version → (strict schema, Sconet Notes partial profile). `select` gives the schema a file
    of a given version is checked against (the partial profile: what the splitter validates)."""

    def __init__(self, folder: str, schemas: list[InstalledSchema]):
        self.folder = folder
        self.schemas = tuple(schemas)
        self._by_version = {v: s for s in schemas for v in s.versions}
        self.versions = tuple(sorted(self._by_version, key=_version_key))
        # No usable version (absent attribute, or a root that is not LSU's): the schema of the
        # newest version, whose own verdict explains the file (today's behaviour).
        self.default = self._by_version[self.versions[-1]]

    def installed(self, version: str | None) -> InstalledSchema | None:
        return self._by_version.get(version) if version else None

    def strict_for(self, version: str) -> etree.XMLSchema | None:
        found = self.installed(version)
        return found.strict if found else None

    def partial_for(self, version: str) -> etree.XMLSchema | None:
        found = self.installed(version)
        return found.partial if found else None

    def select(self, version: str | None, partial: bool = True) -> tuple[etree.XMLSchema | None, dict | None]:
        """The schema for a file declaring `version` (None or blank: no declaration, the default
        schema's verdict), or the refusal SCHEMA_VERSION_NON_PRISE_EN_CHARGE."""
        if version is None or not version.strip():
            chosen = self.default
        else:
            chosen = self._by_version.get(version)
            if chosen is None:
                return None, unsupported_version(version, self.versions)
        return (chosen.partial if partial else chosen.strict), None


def unsupported_version(version: str, installed: tuple[str, ...]) -> dict:
    shown = version if len(version) <= _MAX_VERSION_SHOWN else version[:_MAX_VERSION_SHOWN] + "…"
    return message("SCHEMA_VERSION_NON_PRISE_EN_CHARGE",
                   f"Version du fichier : {shown} ; versions installées : {', '.join(installed)}.",
                   version=shown)


def read_schema_version(data: bytes) -> tuple[str | None, str | None]:
    """(root tag, its schemaVersion) of a document, from the start event of its root only: at most
    VERSION_PROBE_BYTES are read, with the hostile-XML options of every parse (no DTD, no entity,
    no network). Call after the byte pre-checks (file_checks.PRECHECKS). (None, None) when the
    root's start tag cannot be read: the full parse will explain why."""
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True, load_dtd=False,
                                 dtd_validation=False, huge_tree=False, remove_comments=True, remove_pis=True)
    stream = io.BytesIO(memoryview(data)[:VERSION_PROBE_BYTES])
    try:
        while chunk := stream.read(_PROBE_CHUNK):
            parser.feed(chunk)
            for _event, el in parser.read_events():
                return el.tag, el.get("schemaVersion")
    except etree.XMLSyntaxError:
        pass
    return None, None


def select_for_data(schemas: "SchemaSet | etree.XMLSchema", data: bytes) -> tuple[etree.XMLSchema | None, dict | None]:
    """The schema a file is checked against: a plain XMLSchema is used as it is (one schema);
    a SchemaSet selects by the file's schemaVersion (a root that is not LSU's: the default schema,
    whose checks then report the namespace)."""
    if isinstance(schemas, etree.XMLSchema):
        return schemas, None
    tag, version = read_schema_version(data)
    return schemas.select(version if tag == ROOT_TAG else None)


def load_schemas(folder: str | Path) -> SchemaSet:
    """The schemas of a folder (or of one XSD file), loaded once per process and per folder."""
    return _load(str(Path(folder).resolve()))


@functools.lru_cache(maxsize=8)
def _load(folder: str) -> SchemaSet:
    path = Path(folder)
    if path.is_file():
        files, entries = {path.name: path}, [(path.name, None)]
    elif path.is_dir():
        files = {p.name: p for p in sorted(path.glob("*.xsd")) if p.is_file()}
        manifest = path / MANIFEST
        entries = read_manifest(manifest, files) if manifest.is_file() else [(name, None) for name in files]
        if not entries:
            raise SchemaFolderError(f"dossier des schémas LSU {folder} : aucun fichier .xsd")
    else:
        raise SchemaFolderError(f"dossier des schémas LSU introuvable : {folder}")
    installed, owner = [], {}
    for name, listed in entries:
        tree = _parse_xsd(files[name])
        declared = declared_versions(tree)
        if listed is None:
            if not declared:
                raise SchemaFolderError(
                    f"schéma LSU {name} : aucune énumération de schemaVersion ; déclarer ses versions dans {MANIFEST}")
            versions = declared
        else:
            extra = [v for v in listed if declared and v not in declared]
            if extra:
                raise SchemaFolderError(f"{MANIFEST} : {name} n'accepte pas la version {extra[0]} "
                                        f"(versions du schéma : {', '.join(declared)})")
            versions = tuple(listed)
        for v in versions:
            if v in owner:
                raise SchemaFolderError(f"schémas LSU : la version {v} est déclarée par {owner[v]} et par {name}"
                                        f" ; préciser dans {MANIFEST} quel fichier la valide")
            owner[v] = name
        try:
            strict = etree.XMLSchema(tree)
            partial = etree.XMLSchema(partial_profile(tree))
        except etree.XMLSchemaParseError as exc:
            raise SchemaFolderError(f"schéma LSU {name} illisible : {exc}") from None
        except ValueError as exc:      # partial_profile: a schema without the expected bilan périodique
            raise SchemaFolderError(f"schéma LSU {name} : {exc}") from None
        installed.append(InstalledSchema(name, versions, strict, partial))
    return SchemaSet(folder, installed)


def read_manifest(path: Path, files: dict[str, Path]) -> list[tuple[str, tuple[str, ...]]]:
    """The (file, versions) of a manifest.json, its shape checked; a SchemaFolderError names the problem."""
    def fail(problem: str) -> SchemaFolderError:
        return SchemaFolderError(f"{MANIFEST} invalide ({path}) : {problem}")

    raw = path.read_bytes()
    if len(raw) > MAX_MANIFEST_BYTES:
        raise fail(f"plus de {MAX_MANIFEST_BYTES // 1024} Kio")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise fail(f"JSON illisible ({exc})") from None
    if not isinstance(doc, dict) or set(doc) - {"schemas", "note"}:
        raise fail("un objet attendu, avec la clé « schemas » (et « note », facultative) seulement")
    items = doc.get("schemas")
    if not isinstance(items, list) or not items:
        raise fail("« schemas » doit être une liste non vide")
    out, seen = [], set()
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or set(item) - {"file", "versions", "note"}:
            raise fail(f"schéma n° {n} : un objet attendu, avec les clés « file », « versions » (et « note »)")
        name, versions = item.get("file"), item.get("versions")
        if not isinstance(name, str) or "/" in name or "\\" in name or not name.endswith(".xsd"):
            raise fail(f"schéma n° {n} : « file » doit être le nom d'un fichier .xsd du dossier")
        if name not in files:
            raise fail(f"schéma n° {n} : fichier {name} absent du dossier")
        if name in seen:
            raise fail(f"schéma n° {n} : fichier {name} déjà décrit")
        if (not isinstance(versions, list) or not versions
                or not all(isinstance(v, str) and _VERSION.fullmatch(v) for v in versions)):
            raise fail(f"schéma n° {n} ({name}) : « versions » doit être une liste non vide de versions (ex. \"7.0\")")
        if len(set(versions)) != len(versions):
            raise fail(f"schéma n° {n} ({name}) : version répétée")
        seen.add(name)
        out.append((name, tuple(versions)))
    return out


def declared_versions(xsd: etree._ElementTree) -> tuple[str, ...]:
    """The values of the schemaVersion enumeration the XSD declares on its root's type (empty: none)."""
    root_type = _root_type(xsd)
    for attr in (root_type.iter(f"{{{XS}}}attribute") if root_type is not None else ()):
        if attr.get("name") == "schemaVersion":
            return tuple(e.get("value") for e in attr.iter(f"{{{XS}}}enumeration") if e.get("value"))
    return ()


def _root_type(xsd: etree._ElementTree) -> etree._Element | None:
    schema = xsd.getroot()
    el = schema.find(f"{{{XS}}}element[@name='lsun-bilans']")
    if el is None:
        return None
    inline = el.find(f"{{{XS}}}complexType")
    if inline is not None:
        return inline
    type_name = (el.get("type") or "").rpartition(":")[2]
    return next((t for t in schema.iterfind(f"{{{XS}}}complexType") if t.get("name") == type_name), None)


def _parse_xsd(path: Path) -> etree._ElementTree:
    if path.stat().st_size > MAX_XSD_BYTES:
        raise SchemaFolderError(f"schéma LSU {path.name} : plus de {MAX_XSD_BYTES // (1024 * 1024)} Mio")
    try:
        return etree.parse(str(path), safe_parser())
    except etree.XMLSyntaxError as exc:
        raise SchemaFolderError(f"schéma LSU {path.name} illisible : {exc}") from None


def _version_key(v: str) -> tuple:
    parts = v.split(".")
    if all(p.isdigit() for p in parts):
        return (0, tuple(int(p) for p in parts), v)
    return (1, (), v)
