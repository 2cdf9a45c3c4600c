"""Routes of the imports: create one (and its presigned upload), read it, its synthèse, the list."""
from __future__ import annotations

from chalice import Response

from chalicelib.api.auth import Identity
from chalicelib.api.errors import ApiError, current_school, endpoint, json_response, pdf_response, validated_body
from chalicelib.api.render import csv as csv_render
from chalicelib.api.render import pdf
from chalicelib.domain import synthese as synthese_view
from chalicelib.pipeline import report, upload


@endpoint("import:create")
def create_import(request, rt, who: Identity) -> Response:
    body = validated_body(request, "create_import")
    nom = body.get("nom_fichier")
    taille = body.get("taille")
    pre_controle = body.get("pre_controle", body.get("dry_run", False))
    if not isinstance(nom, str) or not nom.strip() or len(nom) > 255:
        raise ApiError("BAD_REQUEST", "« nom_fichier » est obligatoire (255 caractères au plus).")
    if not isinstance(taille, int) or isinstance(taille, bool) or taille < 0:
        raise ApiError("BAD_REQUEST", "« taille » doit être un nombre entier d'octets.")
    if not isinstance(pre_controle, bool):
        raise ApiError("BAD_REQUEST", "« pre_controle » doit valoir true ou false.")
    if taille == 0:
        raise ApiError("EMPTY_FILE")
    if taille > rt.settings.max_file_bytes:
        raise ApiError("FILE_TOO_LARGE", f"Maximum : {rt.settings.max_file_bytes} octets.", status=413)
    if current_school(rt, who.uai) is None:
        raise ApiError("REFERENTIEL_ABSENT")
    return json_response(upload.start_upload(rt, who.uai, nom.strip(), taille, pre_controle, f"{who.role}:{who.sub}"),
                         201)


def _get_import(rt, uai: str, import_id: str):
    if import_id.split("-", 1)[0] != uai:
        raise ApiError("FORBIDDEN", "Cet import n'appartient pas à votre établissement.")
    record = rt.repos.imports.get(uai, import_id)
    if record is None:
        raise ApiError("NOT_FOUND", "Import introuvable pour votre établissement.")
    return record


@endpoint("import:read")
def get_import(request, rt, who: Identity, import_id: str) -> Response:
    return json_response(synthese_view.import_summary(_get_import(rt, who.uai, import_id)))


@endpoint("import:read")
def get_synthese(request, rt, who: Identity, import_id: str) -> Response:
    """The synthèse as JSON, `?format=csv` for a spreadsheet (UTF-8 with BOM, `;`) or `?format=pdf`."""
    synthese = report.read_synthese(rt, _get_import(rt, who.uai, import_id))
    if (request.query_params or {}).get("format") == "pdf":
        return pdf_response(pdf.render_synthese(synthese), pdf.file_name("synthese-import", import_id))
    if (request.query_params or {}).get("format") == "csv":
        return Response(body=csv_render.synthese_csv(synthese), status_code=200, headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="synthese-import-{import_id}.csv"'})
    return json_response(synthese)


@endpoint("import:read")
def list_imports(request, rt, who: Identity) -> Response:
    return json_response({"imports": [synthese_view.import_summary(r) for r in rt.repos.imports.recent(who.uai, 50)]})
