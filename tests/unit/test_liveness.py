"""The liveness rules (chalicelib/domain/liveness.py), pure."""
from __future__ import annotations

from chalicelib.domain import liveness
from chalicelib.domain.vocabulary import ImportStatut

EN_COURS, EN_ATTENTE, TERMINE = ImportStatut.EN_COURS, ImportStatut.EN_ATTENTE_FICHIER, ImportStatut.TERMINE
T0 = 1_800_000_000          # 2027-01-15T08:00:00Z
T0_ISO = "2027-01-15T08:00:00+00:00"


def _bilan(id_be: str, cle: str, **extra) -> dict:
    return {"type": "periodique", "cle": cle, "eleve": {"id_be": id_be, "nom": "Durand", "prenom": "Zoé"},
            "periode": {"millesime": "2026", "indice": 1, "nb_periodes": 3}, "ligne": 12, "acquis": [1, 2], **extra}


def test_a_bilans_identity_is_what_its_result_needs_and_not_its_content():
    ident = liveness.bilan_identity(_bilan("42", "P#2026#3#1"))
    assert ident == {"bilan_id": "42#P#2026#3#1", "type": "periodique",
                     "eleve": {"id_be": "42", "nom": "Durand", "prenom": "Zoé"},
                     "periode": {"millesime": "2026", "indice": 1, "nb_periodes": 3}, "cycle": None, "ligne": 12}


def test_stale_means_en_cours_and_not_moved_for_the_whole_delay():
    assert liveness.is_stale(EN_COURS, T0, T0 + 600, 600)
    assert not liveness.is_stale(EN_COURS, T0, T0 + 599, 600)
    assert not liveness.is_stale(TERMINE, T0, T0 + 10_000, 600)
    assert not liveness.is_stale(EN_ATTENTE, T0, T0 + 10_000, 600)
    assert not liveness.is_stale(EN_COURS, None, T0 + 10_000, 600), "no progress time: written before the watchdog"


def test_an_upload_expires_after_its_form_and_the_grace():
    limit = 900 + liveness.UPLOAD_GRACE_SECONDS
    assert liveness.upload_expired(EN_ATTENTE, T0_ISO, T0 + limit, 900)
    assert not liveness.upload_expired(EN_ATTENTE, T0_ISO, T0 + limit - 1, 900)
    assert not liveness.upload_expired(EN_COURS, T0_ISO, T0 + 10 * limit, 900)


def test_a_file_never_split_is_given_up_only_after_every_retry():
    assert not liveness.file_never_split(EN_ATTENTE, T0_ISO, T0 + liveness.UNSPLIT_FILE_SECONDS - 1)
    assert liveness.file_never_split(EN_ATTENTE, T0_ISO, T0 + liveness.UNSPLIT_FILE_SECONDS)
    assert liveness.UNSPLIT_FILE_SECONDS > 30 * 300 + 30 * 60, "beyond the uploads queue's retries and the lease"


def test_without_result_keeps_the_manifests_order_and_names_each_bilan_once():
    manifest = [liveness.bilan_identity(_bilan(i, "P#2026#3#1")) for i in ("3", "1", "2", "1")]
    assert [m["bilan_id"] for m in liveness.without_result(manifest, {"2#P#2026#3#1"})] == \
        ["3#P#2026#3#1", "1#P#2026#3#1"]
    assert liveness.without_result(manifest, {m["bilan_id"] for m in manifest}) == []
    assert liveness.without_result([], set()) == []


def test_the_lost_bilans_message_is_erreur_technique_marked_as_the_watchdogs():
    m = liveness.lost_bilan_message()
    assert m["code"] == "ERREUR_TECHNIQUE" and m["origine"] == liveness.ORIGINE
    assert "Aucun résultat" in m["message"] and m["conseil"]


def test_the_interrupted_message_counts_rejected_and_unnamed_bilans():
    bilans = [{"messages": [liveness.lost_bilan_message()]}, {"messages": [{"code": "ERREUR_TECHNIQUE"}]},
              {"messages": []}]
    assert liveness.interrupted_message(None, bilans, 3, 3) is None
    m = liveness.interrupted_message({"le": T0_ISO}, bilans, 5, 3)
    assert m["code"] == "IMPORT_INTERROMPU" and m["niveau"] == "AVERTISSEMENT" and m["le"] == T0_ISO
    assert "1 bilan(s) rejeté(s)" in m["message"] and "2 bilan(s) sans résultat" in m["message"]
    assert "identifiés" not in liveness.interrupted_message({"le": T0_ISO}, bilans, 3, 3)["message"]


def test_no_interrupted_message_when_only_the_report_was_lost():
    assert liveness.interrupted_message({"le": T0_ISO}, [{"messages": []}], 3, 3) is None
