"""File-level checks of an LSU import file: hostile-XML guards, well-formedness, namespace,
official XSD, school. Pure functions: bytes in, a result out; nothing is written here."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from lxml import etree

from chalicelib.domain.catalogue import message

NS = "urn:fr:edu:scolarite:lsun:bilans:import"
ROOT_TAG = f"{{{NS}}}lsun-bilans"
MAX_XSD_ERRORS = 20

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_FORBIDDEN_MARKUP = ("<!DOCTYPE", "<!ENTITY")
_FORBIDDEN_PATTERNS = tuple(dict.fromkeys(   # (UTF-7 writes these as ASCII does: once each)
    m.encode(enc) for m in _FORBIDDEN_MARKUP
    for enc in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-7", "cp500")
))

_ASCII_FORMS = tuple(m.encode("ascii") for m in _FORBIDDEN_MARKUP)


@dataclass
class FileCheck:
    """Outcome of the file-level checks: either `root` (valid document) or `erreurs`."""
    root: etree._Element | None = None
    entete: dict = field(default_factory=dict)
    erreurs: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.erreurs and self.root is not None


def safe_parser() -> etree.XMLParser:
    """A parser that never reads a DTD, never expands an entity and never touches the network."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )


XS = "http://www.w3.org/2001/XMLSchema"
# What Sconet Notes may leave out of a bilan périodique (to be completed in LSU).
PARTIAL_OPTIONAL = ("acquis-conseils", "vie-scolaire")


def partial_profile(xsd: etree._ElementTree) -> etree._ElementTree:
    """The Sconet Notes partial profile, derived from the official schema: in `BilanPeriodique`,
    the appréciation générale and the vie scolaire become optional. Nothing else changes; the
    file in shared/ is not touched (this works on a copy)."""
    tree = etree.ElementTree(etree.fromstring(etree.tostring(xsd)))
    bilan = tree.find(f"{{{XS}}}complexType[@name='BilanPeriodique']")
    relaxed = set()
    for el in (bilan.iter(f"{{{XS}}}element") if bilan is not None else ()):
        if el.get("name") in PARTIAL_OPTIONAL:
            el.set("minOccurs", "0")
            relaxed.add(el.get("name"))
    if relaxed != set(PARTIAL_OPTIONAL):
        raise ValueError("schéma LSU inattendu : profil partiel Sconet Notes impossible à dériver")
    return tree


@functools.lru_cache(maxsize=4)
def load_schema(path: str, partial: bool = False) -> etree.XMLSchema:
    """The official LSU XSD (or its Sconet Notes partial profile), parsed once per process."""
    xsd = etree.parse(path, safe_parser())
    return etree.XMLSchema(partial_profile(xsd) if partial else xsd)


def check_empty(data: bytes) -> dict | None:
    if len(data) == 0:
        return message("EMPTY_FILE")
    body = _strip_bom(data)
    if not body.strip(b" \t\r\n\x00"):
        return message("BLANK_FILE")
    return None


def check_doctype(data: bytes) -> dict | None:
    """Any DOCTYPE or ENTITY declaration is refused before parsing (billion laughs, XXE, external
    DTD): libxml2 would report some of them as merely « not well-formed ». The forms looked for
    are those libxml2 could read: a file it reads in an ASCII-compatible encoding can only hold
    the ASCII ones; any other file, every form (UTF-16, UTF-32, EBCDIC…)."""
    patterns = _ASCII_FORMS if _ascii_compatible(data) else _FORBIDDEN_PATTERNS
    if any(p in data for p in patterns):
        return message("DOCTYPE_FORBIDDEN")
    return None


_ENCODING_IN_DECLARATION = re.compile(rb"""\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _ascii_compatible(data: bytes) -> bool:
    """Whether libxml2 reads the whole file in an ASCII-compatible encoding: it starts (after a
    UTF-8 byte-order mark) with an XML declaration, closed within its first kilobyte, that names
    UTF-8, a single-byte Latin encoding, or none (UTF-8)."""
    head = data[3:1027] if data.startswith(b"\xef\xbb\xbf") else data[:1024]
    end = head.find(b"?>")
    if not head.startswith(b"<?xml") or end < 0:
        return False
    m = _ENCODING_IN_DECLARATION.search(head, 0, end)
    return m is None or m.group(1).decode().lower() in _ASCII_COMPATIBLE


def check_no_dtd(root: etree._Element) -> dict | None:
    """Second line of defence: a DOCTYPE the byte scan could not see (UTF-32, UTF-7…) is found
    once parsed — without having been loaded or expanded (see `safe_parser`)."""
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        return message("DOCTYPE_FORBIDDEN")
    return None


_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_SINGLE_BYTE = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "iso-8859-15", "windows-1252", "cp1252", "us-ascii", "ascii"}
_ASCII_COMPATIBLE = {"utf-8", "utf8"} | _SINGLE_BYTE


def check_encoding(data: bytes) -> dict | None:
    """A file declared ISO-8859-1 (or another single-byte encoding) but written in UTF-8 parses
    « fine » with every accent garbled (« Ã© » for « é »): refuse it rather than import mojibake."""
    m = _DECLARED_ENCODING.match(_strip_bom(data)[:200])
    if not m or m.group(1).decode().lower() not in _SINGLE_BYTE:
        return None
    body = _strip_bom(data)
    if max(body, default=0) < 0x80:
        return None                     # pure ASCII: the declaration is harmless
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None                     # really single-byte
    return message("ENCODING_MISMATCH", f"Encodage déclaré : {m.group(1).decode()} ; encodage réel : UTF-8.")


def check_looks_like_xml(data: bytes) -> dict | None:
    body = _strip_bom(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        body = body.replace(b"\x00", b"")
    if not body.lstrip(b" \t\r\n").startswith(b"<"):
        return message("NOT_XML")
    return None


def parse_document(data: bytes) -> tuple[etree._Element | None, dict | None]:
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno and exc.lineno > 0 else None
        return None, message("NOT_WELL_FORMED", f"Détail : {exc.msg}", ligne=line)
    return root, None


def check_namespace(root: etree._Element) -> dict | None:
    if root.tag != ROOT_TAG:
        qname = etree.QName(root)
        found = f"« {qname.localname} »" + (f" de l'espace de noms « {qname.namespace} »" if qname.namespace
                                             else " sans espace de noms")
        return message("WRONG_NAMESPACE", f"Élément racine trouvé : {found}.", ligne=root.sourceline)
    return None


def check_schema(root: etree._Element, schema: etree.XMLSchema) -> list[dict]:
    try:
        if schema.validate(root):
            return []
    except etree.XMLSchemaValidateError as exc:  # e.g. an unresolved entity reference
        return [message("XSD_INVALID", f"Détail : {exc}")]
    errors = []
    tree = root.getroottree()
    for err in list(schema.error_log)[:MAX_XSD_ERRORS]:
        element = _element_name(tree, err.path)
        detail = err.message.replace(f"{{{NS}}}", "")
        errors.append(message(
            "XSD_INVALID",
            f"Ligne {err.line}, élément « {element} » : {detail}",
            ligne=err.line, element=element,
        ))
    return errors


def read_entete(root: etree._Element) -> dict:
    entete = root.find(f"{{{NS}}}entete")
    out = {"schema_version": root.get("schemaVersion")}
    if entete is not None:
        for name in ("editeur", "application", "appliVersion", "etablissement"):
            el = entete.find(f"{{{NS}}}{name}")
            if el is not None and el.text is not None:
                out[name if name != "appliVersion" else "application_version"] = el.text.strip()
    return out


def check_uai(entete: dict, expected_uai: str) -> dict | None:
    found = entete.get("etablissement")
    if found != expected_uai:
        return message("UAI_MISMATCH", f"UAI du fichier : {found} ; UAI de l'import : {expected_uai}.")
    return None


def check_size(size: int, max_bytes: int) -> dict | None:
    if size > max_bytes:
        return message("FILE_TOO_LARGE",
                       f"Taille : {_mb(size)} ; maximum : {_mb(max_bytes)}.", taille=size)
    return None


# Checks on the bytes, before any parsing.
PRECHECKS = (check_empty, check_doctype, check_looks_like_xml, check_encoding)


def parse_guarded(data: bytes) -> tuple[etree._Element | None, dict | None]:
    """The hostile-XML guards of every file we read (LSU imports, SIECLE/STS exports): the byte
    checks, the parse (no DTD, no entities, no network), then no DTD once parsed. The root, or
    the first error."""
    for check in PRECHECKS:
        err = check(data)
        if err:
            return None, err
    root, err = parse_document(data)
    if err:
        return None, err
    err = check_no_dtd(root)
    return (None, err) if err else (root, None)


def check_file(data: bytes, schema, expected_uai: str) -> FileCheck:
    """All file-level checks in order; the first failing stage stops the chain. `schema`: one
    etree.XMLSchema, or a schemas.SchemaSet that the root's schemaVersion selects from (a version
    no installed schema accepts: SCHEMA_VERSION_NON_PRISE_EN_CHARGE)."""
    root, err = parse_guarded(data)
    if err:
        return FileCheck(erreurs=[err])
    err = check_namespace(root)
    if err:
        return FileCheck(erreurs=[err])
    if not isinstance(schema, etree.XMLSchema):
        schema, err = schema.select(root.get("schemaVersion"))
        if err:                      # the root's attribute: its line, as the other file errors give theirs
            located = {**err, "message": f"{err['message']} (ligne {root.sourceline})", "ligne": root.sourceline,
                       "element": "lsun-bilans"} if root.sourceline else err
            return FileCheck(entete=read_entete(root), erreurs=[located])
    errors = check_schema(root, schema)
    entete = read_entete(root)
    if errors:
        return FileCheck(entete=entete, erreurs=errors)
    err = check_uai(entete, expected_uai)
    if err:
        return FileCheck(entete=entete, erreurs=[err])
    return FileCheck(root=root, entete=entete)


def _strip_bom(data: bytes) -> bytes:
    for bom in _BOMS:
        if data.startswith(bom):
            return data[len(bom):]
    return data


def _element_name(tree: etree._ElementTree, path: str | None) -> str:
    """The local name of the element an XSD error points at (lxml gives an XPath like /*/*[2])."""
    try:
        found = tree.xpath(path) if path else []
    except etree.XPathError:
        found = []
    if found and isinstance(found[0], etree._Element):
        return etree.QName(found[0]).localname
    return "?"


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} Mo".replace(".", ",")
