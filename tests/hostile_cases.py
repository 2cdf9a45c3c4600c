"""Hostile and malformed files, built from a valid file of the school under test. Used by the unit
tier (the splitter's streamed pass, network blocked) and by the end-to-end tier (the same files
uploaded through the API: a code, a French message, nothing written).

Each case: name → (bytes, the codes it may end with; None for a harmless file that imports)."""
from __future__ import annotations

import gzip
import re

NS = b"urn:fr:edu:scolarite:lsun:bilans:import"
ROOT_OPEN = b'<lsun-bilans xmlns="urn:fr:edu:scolarite:lsun:bilans:import" schemaVersion="7.0">'
AC = b"<acquis-conseils>"
DOCTYPE_LOL = ('<?xml version="1.0" encoding="{enc}"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
               '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>')


def nested(depth: int) -> bytes:
    return b'<?xml version="1.0"?>' + ROOT_OPEN + b"<a>" * depth + b"</a>" * depth + b"</lsun-bilans>"


def _first_eleve(valid: bytes) -> bytes:
    return re.search(rb"<eleve [^>]*/>", valid).group(0)


def hostile_cases(valid: bytes) -> dict[str, tuple[bytes, set[str] | None]]:
    eleve = _first_eleve(valid)
    return {
        # --- not an LSU XML file at all
        "vide": (b"", {"EMPTY_FILE"}),
        "blancs seuls": (b"  \n\t\r\n   ", {"BLANK_FILE"}),
        "octets nuls": (b"\x00" * 1000, {"BLANK_FILE", "NOT_XML"}),
        "PDF": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", {"NOT_XML"}),
        "CSV": ("nom;prénom;classe\nDupont;Léa;3A\n".encode(), {"NOT_XML"}),
        "JSON": (b'{"eleves": []}', {"NOT_XML"}),
        "ZIP": (b"PK\x03\x04\x14\x00\x00\x00", {"NOT_XML"}),
        "export compressé gzip": (gzip.compress(valid), {"NOT_XML"}),
        "instruction de traitement seule": (b'<?xml version="1.0"?><?php echo 1; ?>', {"NOT_WELL_FORMED"}),
        # --- DTD, entities, external resources
        "entité interne": (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', {"DOCTYPE_FORBIDDEN"}),
        "billion laughs": (DOCTYPE_LOL.format(enc="UTF-8").encode(), {"DOCTYPE_FORBIDDEN"}),
        "billion laughs en UTF-16": (DOCTYPE_LOL.format(enc="UTF-16").encode("utf-16"), {"DOCTYPE_FORBIDDEN"}),
        "billion laughs en UTF-32": (DOCTYPE_LOL.format(enc="UTF-32").encode("utf-32"), {"DOCTYPE_FORBIDDEN"}),
        "XXE fichier local": (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
                              {"DOCTYPE_FORBIDDEN"}),
        "XXE vers le réseau": (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><r>&x;</r>',
                               {"DOCTYPE_FORBIDDEN"}),
        "DTD externe": (b'<?xml version="1.0"?><!DOCTYPE lsun-bilans SYSTEM "http://127.0.0.1:9/lsun.dtd"><lsun-bilans/>',
                        {"DOCTYPE_FORBIDDEN"}),
        "entité externe non déclarée": (valid.replace(AC, AC + b"&xxe;", 1), {"NOT_WELL_FORMED"}),
        "CDATA cachant un DOCTYPE": (valid.replace(AC, AC + b"<![CDATA[<!DOCTYPE x>]]>", 1), {"DOCTYPE_FORBIDDEN"}),
        "XInclude vers /etc/passwd": (valid.replace(AC, AC + b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                                                    b'href="file:///etc/passwd" parse="text"/>', 1), {"XSD_INVALID"}),
        # harmless: the hint is never followed, the file imports
        "schemaLocation vers le réseau": (valid.replace(ROOT_OPEN, ROOT_OPEN[:-1] + (
            b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x http://127.0.0.1:9/x.xsd">'), 1),
            None),
        # --- sizes and shapes
        "profondeur 300": (nested(300), {"NOT_WELL_FORMED", "XSD_INVALID"}),
        "profondeur 100 000": (nested(100_000), {"NOT_WELL_FORMED", "XSD_INVALID"}),
        "attribut de 5 Mo": (valid.replace(b'schemaVersion="7.0"', b'schemaVersion="7.0" x="' + b"A" * 5_000_000 + b'"', 1),
                             {"XSD_INVALID"}),
        "texte de 12 Mo": (valid.replace(AC, AC + b"B" * 12_000_000, 1), {"XSD_INVALID", "NOT_WELL_FORMED"}),
        "10 000 attributs sur un élève": (valid.replace(eleve, eleve[:-2] + b"".join(
            b' a%d="x"' % n for n in range(10_000)) + b"/>", 1), {"XSD_INVALID"}),
        "nom d'élève de 10 000 caractères": (valid.replace(eleve, re.sub(rb'nom="[^"]*"', b'nom="' + b"N" * 10_000 + b'"',
                                                                          eleve, count=1), 1), {"XSD_INVALID"}),
        # --- characters and encodings
        "caractère de contrôle": (valid.replace(AC, AC + b"\x01", 1), {"NOT_WELL_FORMED"}),
        "UTF-8 invalide": (valid.replace(AC, AC + b"\xc3\x28", 1), {"NOT_WELL_FORMED"}),
        "déclaré ISO-8859-1, écrit en UTF-8": (valid.replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'"),
                                               {"ENCODING_MISMATCH"}),
        "déclaré UTF-8, écrit en ISO-8859-1": (valid.decode("utf-8").encode("latin-1", "replace"), {"NOT_WELL_FORMED"}),
        "déclaré UTF-16, écrit en UTF-8": (valid.replace(b"encoding='UTF-8'", b"encoding='UTF-16'"), {"NOT_WELL_FORMED"}),
        # libxml2 follows the byte-order mark: this one decodes right, so it imports.
        "déclaré ISO-8859-1, écrit en UTF-16 avec BOM": (
            valid.replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'").decode("utf-8").encode("utf-16"), None),
        "vrai ISO-8859-1": (valid.replace(b"encoding='UTF-8'", b"encoding='ISO-8859-1'").decode("utf-8")
                            .encode("latin-1", "replace"), None),
        "retour chariot &#13;": (valid.replace(AC, AC + b"&#13;", 1), {"XSD_INVALID"}),
        # --- structure and references
        "deux racines": (valid + b"<autre/>", {"NOT_WELL_FORMED"}),
        "tronqué": (valid[: len(valid) // 2], {"NOT_WELL_FORMED"}),
        "autre espace de noms": (valid.replace(NS, b"urn:exemple:autre"), {"WRONG_NAMESPACE"}),
        "sans espace de noms": (valid.replace(b' xmlns="' + NS + b'"', b""), {"WRONG_NAMESPACE"}),
        # No installed schema accepts 8.0 (issue 15: the version selects the schema).
        "version de schéma 8.0": (valid.replace(b'schemaVersion="7.0"', b'schemaVersion="8.0"'),
                                  {"SCHEMA_VERSION_NON_PRISE_EN_CHARGE"}),
        "racine sans données": (b'<?xml version="1.0"?>' + ROOT_OPEN + b"</lsun-bilans>", {"XSD_INVALID"}),
        "le même élève deux fois": (valid.replace(eleve, eleve + eleve.replace(b'id="EL', b'id="ELX', 1), 1),
                                    {"XSD_INVALID"}),
        "IDREF vers un élément absent": (valid.replace(b'eleve-ref="EL', b'eleve-ref="ABSENT" data-x="EL', 1),
                                         {"XSD_INVALID", "REFERENCE_INVALIDE"}),
        "enseignant-refs vers un élève": (valid.replace(b'enseignant-refs="', b'enseignant-refs="' +
                                                        re.search(rb'id="(EL\d+)"', valid).group(1) + b" ", 1),
                                          {"REFERENCE_INVALIDE", "XSD_INVALID"}),
    }


def other_school(valid: bytes, uai: str) -> bytes:
    """The valid file, declared as another school's."""
    return re.sub(rb"<etablissement>[0-9A-Z]{8}</etablissement>", f"<etablissement>{uai}</etablissement>".encode(),
                  valid, count=1)
