"""The brevet 2026 checks through the API (issue 15): a 3e class imported from the generator with
one obligatory enseignement missing for two élèves — the warnings in the synthèse, then the
« Brevet 2026 » table (JSON and CSV) with its rights."""
from __future__ import annotations

from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel

SPEC = SchoolSpec(uai="0791502B", divisions_par_niveau=1, eleves_par_division=6, brevet_sans_matiere=2)


def test_the_brevet_warnings_and_table_of_a_3e_class(api_for):
    ref = generate_referentiel(SPEC)
    ce = api_for(SPEC.uai)
    ce.put_referentiel(ref)
    s = ce.import_bytes(generate_lsu_xml(SPEC))
    assert s["statut"] == "TERMINE" and s["totaux"]["rejetes"] == 0
    [warning] = [a for a in s["avertissements"] if a["code"] == "BREVET_ENSEIGNEMENT_SANS_MOYENNE"]
    assert (warning["nb_bilans"], warning["divisions"]) == (2, ["3A"])
    assert s["codes"]["BREVET_ENSEIGNEMENT_SANS_MOYENNE"] == 2

    table = ce.call("GET", "/divisions/3A/brevet").json()
    assert "Cyclades" in table["indicatif"] and len(table["eleves"]) == 6
    missing = [e for e in table["eleves"] if e["manquants"]]
    assert len(missing) == 2 and all(e["manquants"] == [SPEC.brevet_matiere_omise] for e in missing)
    assert all(isinstance(e["moyenne"], float) for e in table["eleves"])
    csv = ce.call("GET", "/divisions/3A/brevet", params={"format": "csv"})
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert csv.content.decode("utf-8").startswith("\ufeff")

    r = ce.call("GET", "/divisions/4A/brevet")
    assert r.status_code == 400 and "3e" in r.json()["erreur"]["message"]
    assert ce.call("GET", "/divisions/9Z/brevet").status_code == 404
    division = next(d for d in ref["divisions"] if d["code"] == "3A")
    pp = division["profs_principaux"][0]
    assert api_for(SPEC.uai, "PP", pp).call("GET", "/divisions/3A/brevet").status_code == 200
    other = next(d["profs_principaux"][0] for d in ref["divisions"] if d["code"] != "3A" and d["profs_principaux"]
                 and d["profs_principaux"][0] not in division["profs_principaux"])
    assert api_for(SPEC.uai, "PP", other).call("GET", "/divisions/3A/brevet").status_code == 403
    assert api_for("0999999Z").call("GET", "/divisions/3A/brevet").status_code in (403, 409)
