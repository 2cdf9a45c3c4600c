"""The web front when S3 (LocalStack) refuses the file: the school head reads the catalogue's
French message with its code, and the import still waits for its file. The page declares the
file's size; here the request is altered on its way to the API (a file changed after it was
chosen), so the form allows fewer bytes than the browser sends."""
from __future__ import annotations

import json

from chalicelib.domain import catalogue
from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel

SPEC = SchoolSpec(uai="0830002B", divisions_par_niveau=1, eleves_par_division=2)


def test_the_page_tells_s3s_refusal_in_french_with_its_code(page, stack, api_for, rt, tmp_path):
    api = api_for(SPEC.uai)
    api.put_referentiel(generate_referentiel(SPEC))
    data = generate_lsu_xml(SPEC)
    xml = tmp_path / "export-lsu.xml"
    xml.write_bytes(data)
    created = []

    def smaller(route):
        body = json.loads(route.request.post_data)
        assert body["taille"] == len(data), "the page declares the file's own size"
        route.continue_(post_data=json.dumps({**body, "taille": len(data) - 10}))

    page.route(stack.api_url + "/imports", lambda route: smaller(route) if route.request.method == "POST"
               else route.continue_())
    page.on("response", lambda r: created.append(r.json()) if r.url == stack.api_url + "/imports"
            and r.request.method == "POST" else None)
    page.goto(stack.api_url + "/")
    page.select_option("#etablissement", SPEC.uai)
    page.select_option("#role", "CE")
    page.click("#se-connecter")
    page.wait_for_selector("#menu:not([hidden])")
    page.set_input_files("#fichier", str(xml))
    page.click("#importer")
    page.wait_for_selector("#etat.erreur")
    text = page.inner_text("#etat")
    m = catalogue.message("DEPOT_TROP_VOLUMINEUX")
    assert text == (f"[DEPOT_TROP_VOLUMINEUX] {m['message']} (HTTP 400, S3 : EntityTooLarge) "
                    f"Que faire ? {m['conseil']}"), text
    assert page.is_enabled("#importer"), "the school head can try again"
    [import_] = created
    assert api.call("GET", f"/imports/{import_['import_id']}").json()["statut"] == "EN_ATTENTE_FICHIER"
    key = import_["upload"]["fields"]["key"]
    assert rt.s3.list_objects_v2(Bucket=rt.settings.bucket, Prefix=key)["KeyCount"] == 0
