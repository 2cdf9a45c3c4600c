"""PDF of bilans (ReportLab, whose core fonts print French typography, œ and € included).
Input: the bilan as `merge.view` shows it. Pure: dicts in, bytes out."""
from __future__ import annotations

import io
import re
import unicodedata
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from chalicelib.domain.vocabulary import civilite_abregee

SOCLE_DOMAINES = {
    "CPD_FRA": "Comprendre, s'exprimer en utilisant la langue française à l'oral et à l'écrit",
    "CPD_ETR": "Comprendre, s'exprimer en utilisant une langue étrangère et, le cas échéant, une langue régionale",
    "CPD_SCI": "Comprendre, s'exprimer en utilisant les langages mathématiques, scientifiques et informatiques",
    "CPD_ART": "Comprendre, s'exprimer en utilisant les langages des arts et du corps",
    "MET_APP": "Les méthodes et outils pour apprendre",
    "FRM_CIT": "La formation de la personne et du citoyen",
    "SYS_NAT": "Les systèmes naturels et les systèmes techniques",
    "REP_MND": "Les représentations du monde et l'activité humaine",
}
SOCLE_NIVEAUX = {"0": "Dispensé", "1": "Maîtrise insuffisante", "2": "Maîtrise fragile",
                 "3": "Maîtrise satisfaisante", "4": "Très bonne maîtrise"}
PARCOURS = {"PAR_AVN": "Parcours Avenir", "PAR_ART": "Parcours d'éducation artistique et culturelle",
            "PAR_CIT": "Parcours citoyen", "PAR_SAN": "Parcours éducatif de santé"}
MODALITES = {"PAP": "Plan d'accompagnement personnalisé", "PPS": "Projet personnalisé de scolarisation",
             "UPE2A": "Unité pédagogique pour élèves allophones arrivants", "SEGPA": "Section d'enseignement général "
             "et professionnel adapté", "ULIS": "Unité localisée pour l'inclusion scolaire",
             "PAI": "Projet d'accueil individualisé", "PPRE": "Programme personnalisé de réussite éducative",
             "CTR": "Contrat de réussite"}
ENS_COMPLEMENT = {"AUC": "Aucun", "LCA": "Langues et cultures de l'Antiquité", "LCE": "Langue et culture européenne",
                  "LCR": "Langue et culture régionale", "CHK": "Chant choral", "PRO": "Découverte professionnelle",
                  "LSF": "Langue des signes française", "LVE": "Langue vivante étrangère"}

_STYLES = getSampleStyleSheet()
_P = _STYLES["BodyText"]
_H = _STYLES["Heading2"]
_TITLE = _STYLES["Title"]


def _p(text) -> Paragraph:
    return Paragraph(escape(str(text)) if text not in (None, "") else "—", _P)


# Total over whatever a view holds (merge.view shows only what is well-formed, but a PDF of a
# hand-made or older view must not fail either): the helpers below read dicts, lists and texts
# only, and print « — » for the rest.

def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _label(table: dict, code) -> str | None:
    """A code's French label (the code itself if unknown; None if it is no code)."""
    if isinstance(code, bool) or not isinstance(code, (str, int)):
        return None
    return table.get(str(code), str(code))


def _texts(*values) -> list[str]:
    return [str(v) for v in values if isinstance(v, (str, int, float)) and not isinstance(v, bool) and v != ""]


def _value(part):
    return _dict(part).get("valeur")


def _table(rows: list[list], widths: list[float]) -> Table:
    # splitInRow: a row taller than a page (long appreciations, many éléments de programme) is
    # split across pages instead of failing the whole PDF.
    t = Table(rows, colWidths=widths, repeatRows=1, splitInRow=1)
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                           ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3e3fd")),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return t


def _names(enseignants) -> str:
    return ", ".join(" ".join(_texts(civilite_abregee(e.get("civilite") if isinstance(e.get("civilite"), str) else None),
                                     e.get("nom")))
                     for e in _list(enseignants) if isinstance(e, dict))


def _title(b: dict) -> str:
    if b.get("type") == "periodique":
        p = _dict(b.get("periode"))
        millesime = p.get("millesime")
        year = (f" ({millesime}-{int(millesime) + 1})" if isinstance(millesime, str) and millesime.isascii()
                and millesime.isdigit() and len(millesime) == 4 else "")
        return f"Bilan périodique — période {p.get('indice', '—')} sur {p.get('nb_periodes', '—')}{year}"
    return f"Bilan de fin de cycle {b.get('cycle') if b.get('cycle') is not None else '—'}"


def _vie_scolaire(vs) -> str | None:
    if not isinstance(vs, dict):
        return None
    def n(key):
        return vs.get(key) if isinstance(vs.get(key), int) and not isinstance(vs.get(key), bool) else "—"
    text = (f"Retards : {n('nb_retards')} — demi-journées d'absence justifiées : {n('nb_abs_justifiees')}, "
            f"injustifiées : {n('nb_abs_injustifiees')}")
    if n("nb_heures_manquees") != "—":
        text += f" — heures de cours manquées : {n('nb_heures_manquees')}"
    return text + "".join(f" — {c}" for c in _texts(vs.get("commentaire")))


def bilan_story(b: dict, etablissement: str = "") -> list:
    b = _dict(b)
    e = _dict(b.get("eleve"))
    manquants = _texts(*_list(b.get("manquants")))
    story = [Paragraph(escape(_title(b)), _TITLE),
             _p(" — ".join(_texts(" ".join(_texts(e.get("prenom"), e.get("nom"))) or None,
                                  f"classe {e.get('division')}" if _texts(e.get("division")) else None,
                                  etablissement))),
             _p(("Verrouillé" if b.get("verrouille") is True else "Non verrouillé")
                + (" — à compléter : " + ", ".join(manquants) if manquants else "")),
             Spacer(1, 4 * mm)]
    if b.get("type") == "periodique":
        rows = [[_p(h) for h in ("Matière", "Enseignants", "Éléments de programme", "Appréciation",
                                 "Moyenne / positionnement", "Moyenne de la classe")]]
        for a in _dict(b.get("acquis")).values():
            if not isinstance(a, dict):
                continue
            moyenne, positionnement = _texts(a.get("moyenne_eleve")), _texts(a.get("positionnement"))
            result = moyenne[0] if moyenne else (f"Positionnement {positionnement[0]}" if positionnement else "")
            annuelle = _texts(a.get("moyenne_annuelle"))       # a newer schema's annual average
            if annuelle:
                result = " — ".join(_texts(result, f"Moyenne annuelle : {annuelle[0]}"))
            rows.append([_p(" ".join(_texts(a.get("discipline")))), _p(_names(a.get("enseignants"))),
                         _p("; ".join(_texts(*_list(_value(a.get("elements_programme")))))),
                         _p(" ".join(_texts(a.get("appreciation")))), _p(result),
                         _p(" ".join(_texts(a.get("moyenne_structure"))))])
        story += [Paragraph("Suivi des acquis scolaires", _H),
                  _table(rows, [34 * mm, 24 * mm, 38 * mm, 50 * mm, 17 * mm, 17 * mm])]
        for label, key, fmt in (("Enseignements pratiques interdisciplinaires", "epis", _group),
                                ("Accompagnement personnalisé", "acc_persos", _group),
                                ("Parcours éducatifs", "parcours", _parcours)):
            items = [x for x in _list(_value(b.get(key))) if isinstance(x, dict)]
            if items:
                story += [Paragraph(label, _H)] + [_p(fmt(x)) for x in items]
        modalites = [m for m in _list(b.get("modalites_accompagnement")) if isinstance(m, dict)]
        if modalites:
            story += [Paragraph("Modalités d'accompagnement", _H)] + [
                _p(" — ".join(_texts(_label(MODALITES, m.get("code")), m.get("complement_ppre"),
                                     m.get("complement_contrat_reussite")))) for m in modalites]
        ag = _value(b.get("acquis_conseils"))
        story += [Paragraph("Appréciation générale", _H), _p(ag if isinstance(ag, str) else None)]
        story += [Paragraph("Vie scolaire", _H), _p(_vie_scolaire(_value(b.get("vie_scolaire"))))]
    else:
        rows = [[_p("Domaine du socle commun"), _p("Positionnement")]]
        for d in _list(_value(b.get("socle"))):
            if isinstance(d, dict):
                rows.append([_p(_label(SOCLE_DOMAINES, d.get("code"))), _p(_label(SOCLE_NIVEAUX, d.get("positionnement")))])
        synthese = _value(b.get("synthese"))
        story += [Paragraph("Maîtrise des composantes du socle", _H), _table(rows, [130 * mm, 47 * mm]),
                  Paragraph("Synthèse des acquis scolaires", _H), _p(synthese if isinstance(synthese, str) else None)]
        ens = b.get("enseignement_complement")
        if isinstance(ens, dict) and _label(ENS_COMPLEMENT, ens.get("code")):
            level = {"1": "objectifs atteints", "2": "objectifs dépassés"}.get(str(ens.get("positionnement")), "")
            story += [Paragraph("Enseignement de complément", _H),
                      _p(f"{_label(ENS_COMPLEMENT, ens.get('code'))} {('— ' + level) if level else ''}")]
    autres = [x for x in _list(b.get("autres_informations")) if isinstance(x, dict)]
    if autres:
        # What the file carries beyond what the application models: the file's text, escaped by _p.
        rows = [[_p("Information"), _p("Valeur")]] + [
            [_p(" ".join(_texts(x.get("nom")))), _p(" ".join(_texts(x.get("valeur"))))] for x in autres]
        story += [Paragraph("Autres informations du fichier", _H), _table(rows, [70 * mm, 107 * mm])]
    story += [Spacer(1, 8 * mm), _table([[_p("Le professeur principal"), _p("Le chef d'établissement"),
                                          _p("Les responsables légaux")], ["", "", ""]], [59 * mm] * 3)]
    return story


def _group(g: dict) -> str:
    definition = _dict(g.get("definition"))
    text = (_texts(g.get("intitule")) or _texts(definition.get("intitule")) or [""])[0]
    return " — ".join(_texts(text, g.get("commentaire"), g.get("commentaire_eleve")))


def _parcours(p: dict) -> str:
    return f"{_label(PARCOURS, p.get('code')) or '—'} : {' '.join(_texts(p.get('texte')))}"


def render(bilans: list[dict], etablissement: str = "") -> bytes:
    """One PDF: each bilan on its own pages."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title="Livret scolaire — bilans", author="LSU")
    story: list = []
    for n, b in enumerate(bilans):
        if n:
            story.append(PageBreak())
        story += bilan_story(b, etablissement)
    doc.build(story or [_p("Aucun bilan.")])
    return out.getvalue()


def file_name(*parts: str) -> str:
    """A French file name, ASCII-safe for every browser (accents folded, spaces as dashes)."""
    text = "-".join(str(p) for p in parts if p)
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._-]+", "-", folded).strip("-") + ".pdf"


def render_synthese(s: dict) -> bytes:
    """The synthèse d'import as a PDF: totals, file and import messages, then bilans by classe."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title=f"Synthèse d'import {s['import_id']}", author="LSU")
    t = s["totaux"]
    e = s.get("entete") or {}
    story = [Paragraph("Synthèse d'import", _TITLE),
             _p(f"Import {s['import_id']} — {s['fichier']['nom']} — {s['statut']}"
                + (" (pré-contrôle)" if s.get("pre_controle") else "")),
             _p(f"Logiciel : {e.get('editeur') or '—'} / {e.get('application') or '—'} — schéma {e.get('schema_version') or '—'}"),
             _p(f"Bilans : {t['bilans']} — importés : {t['importes']} (nouveaux {t['nouveaux']}, mis à jour "
                f"{t['mis_a_jour']}, inchangés {t['inchanges']}) — rejetés : {t['rejetes']} — "
                f"avec avertissement : {t['avertissements']}")]
    for m in s.get("messages", []) + s.get("erreurs_fichier", []):
        story.append(_p(f"[{m['code']}]" + (f" ligne {m['ligne']}" if m.get("ligne") else "") + f" : {m['message']}"
                        + (f" — Que faire ? {m['conseil']}" if m.get("conseil") else "")))
    if s.get("avertissements"):
        story.append(Paragraph("Avertissements", _H))
        story += [_p(f"[{w['code']}] {w['message']} — {w['nb_bilans']} bilan(s) ; classes : {', '.join(w['divisions'])}")
                  for w in s["avertissements"]]
    if s.get("bilans"):
        rows = [[_p(h) for h in ("Classe", "Élève", "Bilan", "Statut", "Messages")]]
        for b in s["bilans"]:
            what = (f"Période {b['periode']['indice']}/{b['periode']['nb_periodes']}" if b["type"] == "periodique"
                    else f"Fin de cycle {b['cycle']}")
            rows.append([_p(b["division"]), _p(f"{b['nom']} {b['prenom']}"), _p(what), _p(b["statut"]),
                         _p(" | ".join(f"[{m['code']}] {m['message']}" for m in b["messages"]))])
        story += [Paragraph("Bilans par classe", _H), _table(rows, [16 * mm, 40 * mm, 26 * mm, 24 * mm, 80 * mm])]
    doc.build(story)
    return out.getvalue()
