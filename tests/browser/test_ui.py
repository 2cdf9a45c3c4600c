"""The web front as its users use it, in a real browser against the local stack."""
from __future__ import annotations

import io
import os
from pathlib import Path

from lxml import etree
from pypdf import PdfReader

from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
from chalicelib.pipeline.split.file_checks import NS

WHOLE = SchoolSpec(uai="0794001A")                   # 24 divisions, 600 élèves
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "ecran-import.png"


def test_ce_imports_a_whole_school_reads_filters_downloads_and_opens_a_pdf(login, page, api_for, tmp_path):
    api_for(WHOLE.uai).put_referentiel(generate_referentiel(WHOLE))
    xml = tmp_path / "export-lsu.xml"
    xml.write_bytes(generate_lsu_xml(WHOLE))
    login(WHOLE.uai, "CE")
    assert "chef d'établissement" in page.inner_text("#identite")

    page.set_input_files("#fichier", str(xml))
    page.click("#importer")
    page.wait_for_function("() => document.getElementById('barre-depot').value === 100")
    page.wait_for_function("() => document.getElementById('barre-traitement').value > 0", timeout=120_000)
    page.wait_for_selector("#bloc-synthese:not([hidden])", timeout=180_000)
    assert "TERMINE" in page.inner_text("#etat")
    assert "Bilans : 900" in page.inner_text("#totaux") and "Rejetés : 0" in page.inner_text("#totaux")

    page.select_option("#filtre-division", "3A")
    rows = page.locator("#bilans tr")
    assert rows.count() == 25 * 2 and all(t == "3A" for t in rows.locator("td:first-child").all_inner_texts())
    page.select_option("#filtre-niveau", "6")
    assert rows.count() == 0, "3A is not in 6e"
    page.select_option("#filtre-division", "")
    assert rows.count() == 6 * 25 * 2
    if os.environ.get("LSU_SCREENSHOT"):     # docs/ecran-import.png (make screenshot)
        page.select_option("#filtre-niveau", "")
        page.select_option("#filtre-division", "3A")
        page.evaluate("() => document.getElementById('suivi').scrollIntoView()")
        page.screenshot(path=str(SCREENSHOT), full_page=False)
        page.select_option("#filtre-division", "")

    with page.expect_download() as dl:
        page.click("#csv")
    csv = Path(dl.value.path()).read_bytes().decode("utf-8")
    assert csv.startswith("\ufeffdivision;id_be;nom;prenom") and csv.count("\n") == 900 + 1

    with page.expect_download() as dl:
        page.click("#synthese-pdf")
    assert Path(dl.value.path()).read_bytes().startswith(b"%PDF")

    page.click("#menu button[data-page=page-historique]")
    assert "export-lsu.xml" in page.inner_text("#historique")

    page.click("#menu button[data-page=page-recherche]")
    page.select_option("#r-division", "4B")
    page.click("#rechercher")
    page.wait_for_selector("#resultats tr td")
    first = page.locator("#resultats tr").first
    student = first.locator("td").nth(1).inner_text()
    with page.expect_download() as dl:
        first.locator("button", has_text="PDF").click()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(Path(dl.value.path()).read_bytes())).pages)
    assert student.split()[0] in text and "Bilan périodique" in text


def _partial(xml: bytes) -> bytes:
    """A Sconet Notes export: no appréciation générale, no éléments de programme."""
    root = etree.fromstring(xml)
    for el in list(root.iter(f"{{{NS}}}acquis-conseils")):
        el.getparent().remove(el)
    for el in root.iter(f"{{{NS}}}acquis"):
        el.attrib.pop("element-programme-refs", None)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_pp_completes_a_sconet_bilan_and_locks_it(login, page, api_for):
    spec = SchoolSpec(uai="0794002B", divisions_par_niveau=1, eleves_par_division=1)
    ref = generate_referentiel(spec)
    for d in ref["divisions"]:
        d["mode_import"] = "SCONET_NOTES" if d["code"] == "5A" else "EDITEUR"
    ce = api_for(spec.uai)
    ce.put_referentiel(ref)
    s = ce.import_bytes(_partial(generate_lsu_xml(spec, periodes=[1])))
    assert {b["statut"] for b in s["bilans"] if b["division"] == "5A"} == {"IMPORTE"}
    pp_id = next(d for d in ref["divisions"] if d["code"] == "5A")["profs_principaux"][0]

    login(spec.uai, "PP", pp_id)
    assert page.is_hidden("#menu button[data-page=page-import]"), "no import for a PP"
    page.select_option("#r-division", "5A")
    page.click("#rechercher")
    page.locator("#resultats tr").first.locator("button", has_text="Ouvrir").click()
    page.wait_for_selector("#bilan-titre:has-text('5A')")
    assert "appréciation générale" in page.inner_text("#bilan-manquants")
    page.fill("#b-ag", "Trimestre sérieux, des progrès à poursuivre.")
    for field in page.locator("#b-disciplines input:not([disabled])").all():
        field.fill("Comprendre un texte ; S'exprimer à l'oral")
    page.click("#enregistrer")
    page.wait_for_selector("#bilan-etat:has-text('enregistré')")
    assert "complet" in page.inner_text("#bilan-etat") and page.inner_text("#bilan-manquants") == ""
    page.click("#verrouiller")
    page.wait_for_function("() => document.getElementById('bilan-etat').textContent.startsWith('Verrouillé')")
    assert page.is_disabled("#b-ag")


def test_a_ce_of_another_school_gets_403_on_the_synthese(login, page, api_for):
    first = SchoolSpec(uai="0794003C", divisions_par_niveau=1, eleves_par_division=1)
    other = SchoolSpec(uai="0794004D", divisions_par_niveau=1, eleves_par_division=1)
    a = api_for(first.uai)
    a.put_referentiel(generate_referentiel(first))
    api_for(other.uai).put_referentiel(generate_referentiel(other))
    s = a.import_bytes(generate_lsu_xml(first))
    login(other.uai, "CE")
    page.goto(page.url.split("#")[0] + "#synthese=" + s["import_id"])
    page.reload()
    page.wait_for_selector("#etat.erreur")
    assert "[FORBIDDEN]" in page.inner_text("#etat")
    assert page.is_hidden("#bloc-synthese")


def test_ce_updates_the_referentiel_from_siecle_and_sts_exports(login, page, api_for, tmp_path):
    import base64

    from exports_school import EDT, ELEVES, FIXTURES, NOMENCLATURE, STS, UAI
    first = api_for(UAI).call("POST", "/referentiel/exports", json={"fichiers": [
        {"nom": "eleves.xml", "contenu": base64.b64encode((FIXTURES / f"{ELEVES}.latin1.xml").read_bytes()).decode()}]})
    assert first.status_code == 200, first.text              # the school exists: it can log in
    login(UAI, "CE")
    page.click("#menu button[data-page=page-parametrage]")
    page.set_input_files("#exports", [str(FIXTURES / f"{EDT}.xml")])
    page.click("#envoyer-exports")
    page.wait_for_selector("#exports-erreurs li")
    assert "[EXPORT_FICHIER_EDT]" in page.inner_text("#exports-erreurs") and "sts_emp" in page.inner_text("#exports-erreurs")
    assert "Référentiel inchangé" in page.inner_text("#exports-etat")

    page.set_input_files("#exports", [str(FIXTURES / f"{n}.latin1.xml") for n in (ELEVES, NOMENCLATURE, STS)])
    page.check("label[for=exports-pre-controle]")      # the DSFR checkbox: its label takes the click
    page.click("#envoyer-exports")
    page.wait_for_selector("#exports-rapport:not([hidden])")
    assert "rien n'a été enregistré" in page.inner_text("#exports-etat")
    assert "Enseignants" in page.inner_text("#exports-lignes")

    page.uncheck("label[for=exports-pre-controle]")
    page.click("#envoyer-exports")
    page.wait_for_function("() => document.getElementById('exports-etat').textContent.startsWith('Référentiel mis à jour')")
    page.wait_for_function("() => document.querySelectorAll('#classes tr').length >= 3")
    assert {"6A", "3B", "3C"} <= set(page.locator("#classes tr td:first-child").all_inner_texts())


def test_on_aws_the_page_logs_in_through_cognito_with_pkce(page, stack, api_for):
    """The page as AWS serves it (Cognito domain and client in its <meta>), against a stand-in
    for Cognito's hosted UI: authorize with a S256 challenge, token exchange with the verifier,
    then the identity token's claims make the session and go, raw, to API Gateway."""
    import base64
    import hashlib
    import json
    import re
    from dataclasses import replace
    from urllib.parse import parse_qs, urlparse

    from chalicelib.api import web

    school = SchoolSpec(uai="0794005E", divisions_par_niveau=1, eleves_par_division=1)
    api_for(school.uai).put_referentiel(generate_referentiel(school))
    domaine, client = "https://connexion.exemple.test", "client-front"
    served = web.index_page(replace(stack.settings, cognito_domain=domaine, cognito_client_id=client)).body
    seen: dict = {}

    def b64url(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = {"sub": "0f3e", "custom:uai": school.uai, "cognito:groups": ["CE"], "token_use": "id"}
    id_token = ".".join([b64url(b'{"alg":"RS256"}'), b64url(json.dumps(claims).encode()), b64url(b"signature")])

    def authorize(route):
        q = parse_qs(urlparse(route.request.url).query)
        seen["authorize"] = q
        back = f"{q['redirect_uri'][0]}?code=CODE42&state={q['state'][0]}"      # (a 302 would not be routed)
        route.fulfill(status=200, content_type="text/html", body=f"<script>location.replace({json.dumps(back)})</script>")

    def token(route):
        seen["token"] = parse_qs(route.request.post_data)
        route.fulfill(status=200, content_type="application/json", body=json.dumps({"id_token": id_token}),
                      headers={"Access-Control-Allow-Origin": "*"})

    page.route(re.compile(re.escape(stack.api_url) + r"/(\?.*)?$"),
               lambda route: route.fulfill(status=200, content_type="text/html", body=served))
    page.route(domaine + "/oauth2/authorize?*", authorize)
    page.route(domaine + "/oauth2/token", token)
    page.goto(stack.api_url + "/")
    assert page.is_hidden("#etablissement")                  # no development login on AWS
    with page.expect_request(lambda r: r.url.startswith(stack.api_url + "/divisions")) as call:
        page.click("#se-connecter")
        page.wait_for_function("() => document.getElementById('identite').textContent.startsWith('Connecté')")
    assert "établissement 0794005E — chef d'établissement" in page.inner_text("#identite")
    a, t = seen["authorize"], seen["token"]
    assert a["response_type"] == ["code"] and a["client_id"] == [client] and a["code_challenge_method"] == ["S256"]
    assert a["redirect_uri"] == [stack.api_url + "/"]
    assert t["grant_type"] == ["authorization_code"] and t["code"] == ["CODE42"]
    assert b64url(hashlib.sha256(t["code_verifier"][0].encode()).digest()) == a["code_challenge"][0]
    assert call.value.headers["authorization"] == id_token     # API Gateway's Cognito authorizer: the token alone
    assert "code=" not in page.url


def _without_optional_parts(xml: bytes) -> bytes:
    """A Sconet Notes export without parcours, EPI nor AP for the élèves (LSU completes them)."""
    root = etree.fromstring(_partial(xml))
    for tag in ("liste-parcours", "epis-eleve", "acc-persos-eleve"):
        for el in list(root.iter(f"{{{NS}}}{tag}")):
            el.getparent().remove(el)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_pp_enters_a_parcours_and_an_epi_on_a_sconet_bilan_and_sees_a_refusal_in_french(login, page, api_for):
    spec = SchoolSpec(uai="0794006F", divisions_par_niveau=1, eleves_par_division=1)
    ref = generate_referentiel(spec)
    for d in ref["divisions"]:
        d["mode_import"] = "SCONET_NOTES"
    ce = api_for(spec.uai)
    ce.put_referentiel(ref)
    s = ce.import_bytes(_without_optional_parts(generate_lsu_xml(spec, periodes=[1])))
    assert {b["statut"] for b in s["bilans"] if b["division"] == "4A"} == {"IMPORTE"}
    pp_id = next(d for d in ref["divisions"] if d["code"] == "4A")["profs_principaux"][0]

    login(spec.uai, "PP", pp_id)
    page.select_option("#r-division", "4A")
    page.click("#rechercher")
    page.locator("#resultats tr").first.locator("button", has_text="Ouvrir").click()
    page.wait_for_selector("#bilan-titre:has-text('4A')")
    # Every parcours is offered, and EPI and AP, to the PP; the vie scolaire is the CPE's.
    for code in ("PAR_AVN", "PAR_CIT", "PAR_ART", "PAR_SAN"):
        assert page.is_enabled(f"#b-parcours-{code}")
    assert page.is_enabled("#b-epis .intitule") and page.is_enabled("#b-acc_persos .intitule")
    assert page.is_disabled("#b-retards")

    page.fill("#b-parcours-PAR_AVN", "Stage d'observation en entreprise réussi.")
    page.fill("#b-epis .intitule", "Projet presse")
    page.fill("#b-epis .commentaire", "x" * 601)                    # the field's maxlength stops typing…
    page.evaluate("document.querySelector('#b-epis .commentaire').value = 'x'.repeat(601)")   # …not a script
    page.click("#enregistrer")
    page.wait_for_selector("#bilan-erreur:has-text('SAISIE_INVALIDE')")
    assert "epis[1].commentaire_eleve" in page.inner_text("#bilan-erreur")
    assert "Que faire ?" in page.inner_text("#bilan-erreur")

    page.fill("#b-epis .commentaire", "Très bon travail d'équipe.")
    page.click("#ajout-epis")
    page.locator("#b-epis .intitule").nth(1).fill("Développement durable")
    page.click("#enregistrer")
    page.wait_for_selector("#bilan-etat:has-text('enregistré')")
    assert page.inner_text("#bilan-erreur") == ""
    assert page.input_value("#b-parcours-PAR_AVN") == "Stage d'observation en entreprise réussi."
    assert [page.locator("#b-epis .intitule").nth(i).input_value() for i in range(2)] == ["Projet presse", "Développement durable"]
    assert "saisi par professeur principal" in page.inner_text("#p-epis")

    bilan = ce.call("GET", "/bilans", params={"division": "4A"}).json()["bilans"][0]
    v = ce.call("GET", f"/bilans/{bilan['id_be']}/{bilan['bilan']}").json()
    assert v["parcours"]["valeur"] == [{"code": "PAR_AVN", "texte": "Stage d'observation en entreprise réussi."}]
    assert v["epis"]["valeur"] == [{"intitule": "Projet presse", "commentaire_eleve": "Très bon travail d'équipe."},
                                   {"intitule": "Développement durable"}]
    assert v["epis"]["par"] == f"PP:{pp_id}"


def test_ce_sets_a_class_evaluation_system_and_reads_who_launched_the_import(login, page, api_for):
    spec = SchoolSpec(uai="0794007G", divisions_par_niveau=1, eleves_par_division=1)
    ce = api_for(spec.uai)
    ce.put_referentiel(generate_referentiel(spec))
    s = ce.import_bytes(generate_lsu_xml(spec, periodes=[1]))
    login(spec.uai, "CE")
    page.click("#menu button[data-page=page-parametrage]")
    select = page.locator("select[aria-label=\"Système d'évaluation de la classe 5A\"]")
    select.wait_for()
    assert [o.strip() for o in select.locator("option").all_inner_texts()] == \
        ["Non défini", "Notes", "Positionnement (échelle de 1 à 4)"]
    with page.expect_request(lambda r: r.url.endswith("/referentiel/divisions/5A/evaluation") and r.method == "PUT") as call:
        select.select_option("POSITIONNEMENT")
    assert call.value.post_data_json == {"systeme_evaluation": "POSITIONNEMENT"}
    page.wait_for_function("() => document.getElementById('parametrage-etat').textContent !== ''")

    # The synthèse shows who launched the import and, per class, what the report stage counted;
    # it renders what it is given defensively (missing fields, hostile text shown as text).
    real = ce.call("GET", f"/imports/{s['import_id']}/synthese").json()
    page.click("#menu button[data-page=page-import]")
    page.evaluate("""(s) => afficherSynthese(s)""", {**real, "cree_par": "CE:dev", "classes": [
        {"division": "5A", "niveau": "5", "mode": "SCONET_NOTES", "systeme_evaluation_fichier": "NOTES", "bilans": 3,
         "par_periode": [{"libelle": "Trimestre 1", "bilans": 3, "rejetes": 1}],
         "a_completer": {"bilans": 2, "manques": [{"partie": "elements_programme", "discipline": "Mathématiques",
                                                   "bilans": 2, "qui": ["PP", "ENSEIGNANT"]},
                                                  {"partie": "vie_scolaire", "bilans": 1, "qui": ["CPE"]}]}},
        {"division": "<img src=x onerror=alert(1)>"}, None, "texte"]})
    assert "Import lancé par chef d'établissement (dev)" in page.inner_text("#synthese-par")
    rows = page.locator("#classes-synthese tr")
    assert rows.count() == 2
    first = rows.nth(0).inner_text()
    for text in ("5A", "Import Sconet Notes", "Notes", "Trimestre 1 : 3 bilan(s), 1 rejeté(s)", "2 bilan(s) à compléter",
                 "éléments de programme (Mathématiques) : 2 bilan(s) — à saisir par : professeur principal, enseignant",
                 "vie scolaire : 1 bilan(s) — à saisir par : CPE"):
        assert text in first, text
    assert "<img src=x onerror=alert(1)>" in rows.nth(1).inner_text() and page.locator("#classes-synthese img").count() == 0


def test_exports_too_large_for_a_request_go_through_a_deposit(login, page, api_for):
    """Beyond the inline limit the page announces a deposit, posts each file to S3 by its form,
    then has the deposit read (the limit lowered to 0 here: the fixtures are small)."""
    import base64

    from exports_school import ELEVES, FIXTURES, NOMENCLATURE, STS, UAI
    first = api_for(UAI).call("POST", "/referentiel/exports", json={"fichiers": [
        {"nom": "eleves.xml", "contenu": base64.b64encode((FIXTURES / f"{ELEVES}.latin1.xml").read_bytes()).decode()}]})
    assert first.status_code == 200, first.text
    login(UAI, "CE")
    page.click("#menu button[data-page=page-parametrage]")
    page.evaluate("() => { LIMITES.exportsEnLigne = 0; }")
    calls: list[str] = []
    page.on("request", lambda r: calls.append(f"{r.method} {r.url}") if r.method == "POST" else None)
    page.set_input_files("#exports", [str(FIXTURES / f"{n}.latin1.xml") for n in (ELEVES, NOMENCLATURE, STS)])
    page.check("label[for=exports-pre-controle]")
    page.click("#envoyer-exports")
    page.wait_for_selector("#exports-rapport:not([hidden])")
    assert "rien n'a été enregistré" in page.inner_text("#exports-etat")
    assert "Enseignants" in page.inner_text("#exports-lignes")
    assert sum(c.endswith("/referentiel/exports/depots") for c in calls) == 1
    assert sum("/referentiel/exports" not in c and not c.endswith("/dev/connexion") for c in calls) == 3, calls
