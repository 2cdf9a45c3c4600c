"""The splitter's file pass, streamed: one parse that validates against the schema while it reads
(`iterparse(schema=…)`) and turns each bilan into its JSON as soon as its element is complete
(bilans.bilan_periodique / bilan_cycle, then bilans.encode_bilan), then frees it. Memory stays
proportional to one bilan plus the shared definitions (which precede the bilans in the schema's
order), not to the file. Only what the builders find wrong in the file (bilans.InvalidFile) and
lxml's own errors make a refusal; any other exception is a bug and propagates.

A refusal is explained by the tree-based checks of `validation.check_file` (lines, elements, up to
20 XSD errors): streaming validation reports no line numbers for schema errors. Those checks read
the whole tree, so above EXPLAIN_MAX_BYTES the first error is reported as the stream saw it."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from lxml import etree

from chalicelib.pipeline.split import file_checks as validation
from chalicelib.pipeline.split import schemas
from chalicelib.domain.catalogue import message
from chalicelib.domain.liveness import bilan_identity
from chalicelib.pipeline.split.bilans import (DuplicateId, InvalidFile, InvalidReference, SchemaViolation,
                                              bilan_cycle, bilan_periodique, build_index, encode_bilan, q)

EXPLAIN_MAX_BYTES = 16 * 1024 * 1024
_BILAN_TAGS = (q("bilan-periodique"), q("bilan-cycle"))
# libxml2's error numbers by name (SCHEMAV_*: schema validity; the others: the parser).
_ERROR_NAMES = {v: k for k, v in vars(etree.ErrorTypes).items() if isinstance(v, int)}


@dataclass
class StreamedFile:
    """A checked file: its entête and its bilans as JSON strings (with each one's identity, for the
    import's manifest), or its errors."""
    entete: dict = field(default_factory=dict)
    bilans: list[str] = field(default_factory=list)
    identites: list[dict] = field(default_factory=list)
    erreurs: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.erreurs


def _iterparse(data: bytes, schema: etree.XMLSchema):
    # resolve_entities stays lxml's "internal": with `schema`, resolve_entities=False makes
    # libxml2 2.14 accept a truncated document silently (seen here). No external entity is ever
    # loaded, DOCTYPE/ENTITY declarations are refused before parsing (in every encoding libxml2
    # sniffs) and again after, and libxml2 bounds entity amplification.
    return etree.iterparse(io.BytesIO(data), events=("end",), tag=_BILAN_TAGS, schema=schema,
                           resolve_entities="internal", no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def _release(el: etree._Element) -> None:
    """Free a processed bilan and the ones before it (their parent keeps no reference)."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    while el.getprevious() is not None:
        del parent[0]


def too_many_bilans(limit: int) -> dict:
    return message("TOO_MANY_BILANS", f"Maximum : {limit} bilans par fichier ; le fichier en contient davantage.")


def check_and_split(data: bytes, schema, expected_uai: str,
                    max_bilans: int | None = None) -> StreamedFile:
    """Checks and split in one pass; the split stops as soon as `max_bilans` is passed. `schema`:
    one etree.XMLSchema, or a schemas.SchemaSet: the root's schemaVersion, read first (its start
    tag only), selects the schema the pass validates against."""
    for check in validation.PRECHECKS:
        err = check(data)
        if err:
            return StreamedFile(erreurs=[err])
    chosen, err = schemas.select_for_data(schema, data)
    if err:
        return unsupported(data, schema, expected_uai, err)
    schema = chosen
    out = StreamedFile()
    context = _iterparse(data, schema)
    idx = None
    try:
        for _event, el in context:
            if idx is None:
                root = el.getroottree().getroot()
                if validation.check_no_dtd(root) or validation.check_namespace(root):
                    break                       # explained below by the tree-based checks
                idx = build_index(_donnees(root))
            bilan = bilan_periodique(el, idx) if el.tag == _BILAN_TAGS[0] else bilan_cycle(el, idx)
            out.bilans.append(encode_bilan(bilan))
            out.identites.append(bilan_identity(bilan))
            _release(el)
            if max_bilans is not None and len(out.bilans) > max_bilans:
                return StreamedFile(erreurs=[too_many_bilans(max_bilans)])
        else:
            root = context.root
            err = validation.check_no_dtd(root) or validation.check_namespace(root)
            if err is None:
                out.entete = validation.read_entete(root)
                err = validation.check_uai(out.entete, expected_uai)
                if idx is None and err is None:
                    build_index(_donnees(root))   # no bilan: references still checked
            if err:
                return StreamedFile(entete=out.entete, erreurs=[err])
            return out
    except InvalidReference as exc:
        # The schema's verdict first, as the tree-based checks give it: read on to get it.
        first = _validation_error(context)
        if first is None:
            return StreamedFile(erreurs=[exc.message()])
    except DuplicateId as exc:       # the streamed validation misses it: the tree's, or ours if too large
        return explain(data, schema, expected_uai, None, exc.message())
    except InvalidFile:
        # Something the schema requires is missing (bilans.SchemaViolation): its verdict on an element
        # may come after the element's "end" event, so read on to get it. No verdict: our builders
        # require more than the schema does, a bug.
        first = _validation_error(context)
        if first is None:
            raise
    except (etree.XMLSyntaxError, etree.XMLSchemaError) as exc:
        first = exc
    else:
        first = None
    return explain(data, schema, expected_uai, first)


def unsupported(data: bytes, schema_set, expected_uai: str, refusal: dict) -> StreamedFile:
    """A version no installed schema accepts. Up to EXPLAIN_MAX_BYTES, what the tree-based checks
    say (the same refusal with the entête, or an earlier one: a file not well-formed); above, the
    refusal alone."""
    if len(data) <= EXPLAIN_MAX_BYTES:
        result = validation.check_file(data, schema_set, expected_uai)
        if result.erreurs:
            return StreamedFile(entete=result.entete, erreurs=result.erreurs)
    return StreamedFile(erreurs=[refusal])


def _donnees(root: etree._Element) -> etree._Element:
    donnees = root.find(q("donnees"))
    if donnees is None:             # a bilan elsewhere: the schema's verdict will say where
        raise SchemaViolation(root, "élément donnees absent")
    return donnees


def _validation_error(context) -> etree.LxmlError | None:
    try:
        for _ in context:
            pass
    except (etree.XMLSyntaxError, etree.XMLSchemaError) as exc:
        return exc
    return None


def explain(data: bytes, schema: etree.XMLSchema, expected_uai: str, first: etree.LxmlError | None,
            found: dict | None = None) -> StreamedFile:
    """Why a file was refused, with lines where the tree-based checks can give them; above
    EXPLAIN_MAX_BYTES, the first error as the stream saw it (`first`, or `found`: ours)."""
    if len(data) <= EXPLAIN_MAX_BYTES or (first is None and found is None):
        result = validation.check_file(data, schema, expected_uai)
        if result.erreurs:
            return StreamedFile(entete=result.entete, erreurs=result.erreurs)
    if found is not None:
        return StreamedFile(erreurs=[found])
    name = _ERROR_NAMES.get(getattr(first, "code", None), "")
    code = "XSD_INVALID" if name.startswith("SCHEMAV_") else "NOT_WELL_FORMED"
    line = getattr(first, "lineno", 0) or None
    detail = str(getattr(first, "msg", first)).replace(f"{{{validation.NS}}}", "")
    where = f"ligne {line}" if line else "ligne non disponible pour un fichier de cette taille"
    return StreamedFile(erreurs=[message(code, f"Détail ({where}) : {detail}", ligne=line)])
