"""PDF of bilans (ReportLab, whose core fonts print French typography, œ and € included).
Input: the bilan as `merge.view` shows it. Pure: dicts in, bytes out.

The bilans follow the national models (eduscol): the collège and the élève in the heading, then
per discipline the éléments de programme, the appreciation and the positionnement (the 4 levels of
the objectives, or the élève's and class's moyennes); EPI, AP, parcours, modalités
d'accompagnement, vie scolaire; for a bilan de fin de cycle the 8 composantes of the socle on the
4-level grid. It is the document a family receives: no internal status (lock, completeness,
provenance) is printed. What the file carried beyond the parts `merge.view` models as editable
(conseil date, professeurs principaux, chef d'établissement, devoirs faits, compétences
numériques, the class's parcours and vie scolaire, the LCR) is read from `view["document"]`,
keyed as `split_bilans` names them (merge.DOCUMENT_KEYS)."""
from __future__ import annotations

import io
import re
import unicodedata
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (CondPageBreak, Flowable, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate,
                                Spacer, Table, TableStyle)

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
# The 4 levels of a discipline's positionnement (« objectifs d'apprentissage »).
OBJECTIFS = {"1": "Non atteints", "2": "Partiellement atteints", "3": "Atteints", "4": "Dépassés"}
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
LANGUES_REGIONALES = {"AUC": "Aucune", "BAQ": "Basque", "BRE": "Breton", "CAT": "Catalan", "COS": "Corse",
                      "CPF": "Créoles", "FUD": "Futunien", "GAL": "Gallo",
                      "GSW": "Langue régionale d'Alsace", "MEL": "Langues mélanésiennes",
                      "MOL": "Langues régionales des pays mosellans", "OCI": "Occitan - langue d'oc",
                      "TAH": "Tahitien", "WLS": "Wallisien"}
EPI_THEMATIQUES = {"EPI_SAN": "Corps, santé, bien-être et sécurité", "EPI_CUL": "Culture et création artistiques",
                   "EPI_ECO": "Transition écologique et développement durable",
                   "EPI_INF": "Information, communication, citoyenneté",
                   "EPI_LGA": "Langues et cultures de l'Antiquité",
                   "EPI_LGE": "Langues et cultures étrangères ou, le cas échéant, régionales",
                   "EPI_PRO": "Monde économique et professionnel", "EPI_STS": "Sciences, technologie et société"}
COMPETENCES_NUMERIQUES = {
    "CN_INF_MEN": "Mener une recherche et une veille d'information", "CN_INF_GER": "Gérer des données",
    "CN_INF_TRA": "Traiter des données", "CN_COM_INT": "Interagir", "CN_COM_PAR": "Partager et publier",
    "CN_COM_COL": "Collaborer", "CN_COM_SIN": "S'insérer dans le monde numérique",
    "CN_CRE_TEX": "Développer des documents textuels", "CN_CRE_MUL": "Développer des documents multimédia",
    "CN_CRE_ADA": "Adapter les documents à leur finalité", "CN_CRE_PRO": "Programmer",
    "CN_PRO_SEC": "Sécuriser l'environnement numérique",
    "CN_PRO_DON": "Protéger les données personnelles et la vie privée",
    "CN_PRO_SAN": "Protéger la santé, le bien-être et l'environnement",
    "CN_ENV_RES": "Résoudre des problèmes techniques", "CN_ENV_EVO": "Évoluer dans un environnement numérique"}
# A date as the heading writes it (« 8 juin 2026 »). What the PDF reads from `view["document"]`:
# merge.DOCUMENT_KEYS.
MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
        "novembre", "décembre")

_STYLES = getSampleStyleSheet()
_P = _STYLES["BodyText"]
_H = ParagraphStyle("LsuH", parent=_STYLES["Heading3"], spaceBefore=8, spaceAfter=3,
                    textColor=colors.HexColor("#000091"))
_TITLE = ParagraphStyle("LsuTitle", parent=_STYLES["Title"], fontSize=15, leading=19, spaceAfter=4)
_S = ParagraphStyle("LsuSmall", parent=_P, fontSize=8, leading=10, spaceBefore=0, spaceAfter=0)
_SB = ParagraphStyle("LsuSmallBold", parent=_S, fontName="Helvetica-Bold")
_SC = ParagraphStyle("LsuSmallCenter", parent=_SB, alignment=TA_CENTER)
_SC7 = ParagraphStyle("LsuSmallCenter7", parent=_SC, fontSize=7.5, leading=9)
_SC6 = ParagraphStyle("LsuSmallCenter6", parent=_SC, fontSize=6.5, leading=8)
_TICK = ParagraphStyle("LsuTick", parent=_SB, alignment=TA_CENTER, fontSize=11, leading=12)
_HEAD = ParagraphStyle("LsuHead", parent=_P, fontSize=9, leading=12, spaceBefore=0, spaceAfter=0)
_WIDTH = 182 * mm
_BLUE = colors.HexColor("#e3e3fd")


def _fr(text: str) -> str:
    """French typography: a non-breaking space before « : ; ! ? » and inside « », where the text
    has a space there (« 12:30 » or an address keeps its colon)."""
    text = re.sub(r"[ \u202f]([:;!?»])", "\u00a0\\1", text)
    text = re.sub(r"«[ \u202f]?", "«\u00a0", text)
    return re.sub(r"(?<=[^\s\u00a0])»", "\u00a0»", text)


def _markup(text) -> str:
    """The text as Paragraph markup: French typography, then escaped (the file's text is hostile)."""
    return escape(_fr(str(text)))


def _p(text, style=None) -> Paragraph:
    return Paragraph(_markup(text) if text not in (None, "") else "—", style or _P)


def _s(text, style=None) -> Paragraph:
    return _p(text, style or _S)


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


def _text(value) -> str:
    return " ".join(_texts(value))


def _value(part):
    return _dict(part).get("valeur")


def _count(vs: dict, key: str):
    v = vs.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _table(rows: list[list], widths: list[float], header_rows: int = 1, extra: list | None = None) -> Table:
    # splitInRow: a row taller than a page (long appreciations, many éléments de programme) is
    # split across pages instead of failing the whole PDF.
    t = Table(rows, colWidths=widths, repeatRows=header_rows, splitInRow=1)
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                           ("BACKGROUND", (0, 0), (-1, header_rows - 1), _BLUE),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")] + (extra or [])))
    return t


def _person(e) -> str:
    e = _dict(e)
    civ = e.get("civilite") if isinstance(e.get("civilite"), str) else None
    return " ".join(_texts(civilite_abregee(civ), e.get("prenom"), e.get("nom")))


def _names(enseignants) -> str:
    return ", ".join(n for n in (_person(e) for e in _list(enseignants) if isinstance(e, dict)) if n)


def date_fr(value) -> str | None:
    """« 8 juin 2026 » from an ISO date (« 2026-06-08 » or a dateTime); None for anything else."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(T.*)?", value) if isinstance(value, str) else None
    if not m or not 1 <= int(m.group(2)) <= 12 or not 1 <= int(m.group(3)) <= 31:
        return None
    day = int(m.group(3))
    return f"{'1er' if day == 1 else day} {MOIS[int(m.group(2)) - 1]} {m.group(1)}"


def _millesime(b: dict, doc: dict) -> str | None:
    for candidate in (_dict(b.get("periode")).get("millesime"), doc.get("millesime"),
                      (re.fullmatch(r"C#\d+#(\d{4})", b["cle"]) or [None, None])[1]
                      if isinstance(b.get("cle"), str) else None):
        if isinstance(candidate, str) and candidate.isascii() and candidate.isdigit() and len(candidate) == 4:
            return candidate
    return None


def annee_scolaire(millesime: str | None) -> str | None:
    return f"{millesime}-{int(millesime) + 1}" if millesime else None


def _periode_label(p: dict) -> str | None:
    """« 3e trimestre », « 1er semestre », « période 2 sur 5 »."""
    n, nb = p.get("indice"), p.get("nb_periodes")
    if not isinstance(n, int) or isinstance(n, bool):
        return None
    rank = "1er" if n == 1 else f"{n}e"
    if nb == 3:
        return f"{rank} trimestre"
    if nb == 2:
        return f"{rank} semestre"
    return f"période {n} sur {nb}" if isinstance(nb, int) and not isinstance(nb, bool) else f"période {n}"


def _title(b: dict) -> str:
    if b.get("type") == "periodique":
        p = _dict(b.get("periode"))
        millesime = _millesime(b, {})
        year = f" ({annee_scolaire(millesime)})" if millesime and p.get("millesime") == millesime else ""
        return f"Bilan périodique — période {p.get('indice', '—')} sur {p.get('nb_periodes', '—')}{year}"
    return f"Bilan de fin de cycle {b.get('cycle') if b.get('cycle') is not None else '—'}"


def _subtitle(b: dict) -> str:
    """The footer's words for one bilan: élève and document."""
    e = _dict(b.get("eleve"))
    return " — ".join(_texts(" ".join(_texts(e.get("prenom"), e.get("nom"))) or None, _title(b)))


class _BilanStart(Flowable):
    """Zero-size mark: the pages from here on belong to bilan n (for « page i / N » per bilan)."""

    def __init__(self, n: int, label: str):
        super().__init__()
        self.n, self.label = n, label

    def wrap(self, *_args):
        return 0, 0

    def draw(self):
        self.canv._lsu_bilan = (self.n, self.label)


class _NumberedCanvas(Canvas):
    """Numbers the pages of each bilan: « page i / N » with N the bilan's own page count."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lsu_pages: list[dict] = []
        self._lsu_bilan = (0, "")

    def showPage(self):
        self._lsu_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        groups = [p.get("_lsu_bilan", (0, ""))[0] for p in self._lsu_pages]
        totals = {g: groups.count(g) for g in groups}
        seen: dict = {}
        for state in self._lsu_pages:
            self.__dict__.update(state)
            n, label = state.get("_lsu_bilan", (0, ""))
            seen[n] = seen.get(n, 0) + 1
            self.setFont("Helvetica", 7.5)
            self.setFillColor(colors.grey)
            self.drawString(14 * mm, 8 * mm, label[:120])
            self.drawRightString(A4[0] - 14 * mm, 8 * mm, f"page {seen[n]} / {totals[n]}")
            super().showPage()
        super().save()


def _heading(b: dict, doc: dict, etablissement: str, uai: str) -> list:
    e = _dict(b.get("eleve"))
    millesime = _millesime(b, doc)
    school = [f"<b>{_markup(etablissement)}</b>" if _texts(etablissement) else None,
              _markup(f"UAI : {uai}") if _texts(uai) else None]
    if b.get("type") == "periodique":
        when = [_markup(f"Année scolaire {annee_scolaire(millesime)}") if millesime else None,
                _markup(f"Période : {_periode_label(_dict(b.get('periode'))) or '—'}")]
    else:
        when = [_markup(f"Année scolaire {annee_scolaire(millesime)}") if millesime else None,
                _markup(f"Fin du cycle {b.get('cycle') if b.get('cycle') is not None else '—'}")]
    top = Table([[Paragraph("<br/>".join(x for x in school if x) or "—", _HEAD),
                  Paragraph("<br/>".join(x for x in when if x) or "—", ParagraphStyle("r", parent=_HEAD, alignment=2))]],
                colWidths=[_WIDTH / 2] * 2)
    top.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.HexColor("#000091")),
                             ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    name = " ".join(_texts(e.get("prenom"), e.get("nom")))
    eleve = [f"Élève : <b>{_markup(name)}</b>" if name else None,
             _markup(f"Classe : {e.get('division')}") if _texts(e.get("division")) else None]
    conseil = date_fr(doc.get("date_conseil_classe"))
    if conseil:
        eleve.append(_markup(f"Conseil de classe du {conseil}"))
    elif date_fr(doc.get("date_creation")):
        eleve.append(_markup(f"Établi le {date_fr(doc.get('date_creation'))}"))
    return [top, Spacer(1, 3 * mm), Paragraph(_markup(_title(b)), _TITLE),
            Paragraph(" — ".join(x for x in eleve if x) or "—", ParagraphStyle("c", parent=_HEAD, alignment=1)),
            Spacer(1, 3 * mm)]


def _grid(rows_in: list[tuple[str, object, list]], first: str, levels: dict, label_width: float,
          dispense: str | None = None) -> Table:
    """A table ticking one of 4 levels per row: (label, level code, [extra cells before the levels])."""
    level_width = (_WIDTH - label_width) / 4
    rows = [[_s(first, _SB)] + [_s(levels[k], _SC7) for k in ("1", "2", "3", "4")]]
    extra = []
    for i, (label, level, _cells) in enumerate(rows_in, start=1):
        code = str(level) if isinstance(level, (str, int)) and not isinstance(level, bool) else None
        if dispense and code == "0":
            rows.append([_s(label), _s(dispense, _SC), "", "", ""])
            extra.append(("SPAN", (1, i), (4, i)))
            continue
        cells = [Paragraph("X", _TICK) if code == k else "" for k in ("1", "2", "3", "4")]
        if code not in ("1", "2", "3", "4") and code not in (None, ""):
            cells[0] = _s(code)                              # an unknown code is shown, never dropped
        rows.append([_s(label)] + cells)
    return _table(rows, [label_width] + [level_width] * 4, extra=[("VALIGN", (1, 1), (-1, -1), "MIDDLE")] + extra)


def _acquis_table(b: dict) -> list:
    acquis = [a for a in _dict(b.get("acquis")).values() if isinstance(a, dict)]
    if not acquis:
        return []
    notes = any(_texts(a.get("moyenne_eleve")) or _texts(a.get("moyenne_structure")) for a in acquis)

    def first_cells(a: dict) -> list:
        who = _names(a.get("enseignants"))
        text = f"<b>{_markup(_text(a.get('discipline')) or '—')}</b>" + (f"<br/>{_markup(who)}" if who else "")
        annuelle = _texts(a.get("moyenne_annuelle"))       # a newer schema's annual average
        appreciation = _text(a.get("appreciation"))
        if a.get("eleve_non_note") is True:
            appreciation = " — ".join(_texts(appreciation, "Non noté"))
        return [Paragraph(text, _S), _programme(a),
                Paragraph(_markup(appreciation) if appreciation else "—", _S)
                if not annuelle else Paragraph((_markup(appreciation) + "<br/>" if appreciation else "")
                                               + _markup(f"Moyenne annuelle : {annuelle[0]}"), _S)]

    head = [_s("Discipline et enseignants", _SB), _s("Principaux éléments du programme travaillés", _SB),
            _s("Acquisitions, progrès et difficultés éventuelles", _SB)]
    if notes:
        rows = [head + [_s("Moyenne de l'élève", _SC), _s("Moyenne de la classe", _SC)]]
        for a in acquis:
            cells = first_cells(a)
            position = _texts(a.get("positionnement"))
            own = (_texts(a.get("moyenne_eleve"))
                   or ([f"Objectifs : {_label(OBJECTIFS, position[0]).lower()}"] if position else [""]))[0]
            rows.append(cells + [_s(own or None, _SC), _s(_text(a.get("moyenne_structure")) or None, _SC)])
        return [_table(rows, [38.5 * mm, 42 * mm, 69.5 * mm, 16 * mm, 16 * mm])]
    widths = [38.5 * mm, 37 * mm, 44.5 * mm] + [15.5 * mm] * 4
    rows = [head + [_s("Positionnement : objectifs d'apprentissage", _SC), "", "", ""],
            ["", "", ""] + [_s(OBJECTIFS[k], _SC6)
                            for k in ("1", "2", "3", "4")]]
    for a in acquis:
        cells = first_cells(a)
        code = _texts(a.get("positionnement"))
        code = code[0] if code else None
        ticks = [Paragraph("X", _TICK) if code == k else "" for k in ("1", "2", "3", "4")]
        if code not in (None, "1", "2", "3", "4"):
            ticks[0] = _s(code)
        rows.append(cells + ticks)
    return [_table(rows, widths, header_rows=2,
                   extra=[("SPAN", (3, 0), (6, 0)), ("SPAN", (0, 0), (0, 1)), ("SPAN", (1, 0), (1, 1)),
                          ("SPAN", (2, 0), (2, 1)), ("VALIGN", (3, 2), (-1, -1), "MIDDLE"),
                          ("LEFTPADDING", (3, 1), (-1, 1), 1), ("RIGHTPADDING", (3, 1), (-1, 1), 1)])]


def _programme(a: dict) -> Paragraph:
    items = _texts(*_list(_value(a.get("elements_programme"))))
    return Paragraph("<br/>".join("– " + _markup(x) for x in items) if items else "—", _S)


def _disciplines(definition: dict) -> str:
    return ", ".join(_texts(*(_dict(d).get("libelle") for d in _list(definition.get("disciplines")))))


def _groups(items: list, epi: bool) -> list:
    """Each EPI / AP: its intitulé with the group's and the élève's comments, then the thématique,
    disciplines and description the school defined."""
    out = []
    for g in items:
        definition = _dict(g.get("definition"))
        intitule = (_texts(g.get("intitule")) or _texts(definition.get("intitule")) or ["—"])[0]
        lines = [" — ".join([f"<b>{_markup(intitule)}</b>"]
                            + [_markup(t) for t in _texts(g.get("commentaire"), g.get("commentaire_eleve"))])]
        if _texts(definition.get("intitule")) and _texts(definition.get("intitule"))[0] != intitule:
            lines.append(_markup(f"Projet : {_text(definition.get('intitule'))}"))
        if epi:
            th = _dict(definition.get("thematique"))
            label = _texts(th.get("libelle")) or _texts(_label(EPI_THEMATIQUES, th.get("code")))
            if label:
                lines.append(_markup(f"Thématique : {label[0]}"))
        if _disciplines(definition):
            lines.append(_markup(f"Disciplines : {_disciplines(definition)}"))
        if _texts(definition.get("description")):
            lines.append(f"<i>{_markup(_text(definition.get('description')))}</i>")
        out += [Paragraph("<br/>".join(lines), _S), Spacer(1, 2 * mm)]
    return out


def _parcours(own: list, communs: list) -> list:
    """The élève's parcours (« Parcours citoyen : … »), then the class's."""
    out = []
    for source, suffix in ((own, ""), (communs, " (projet de la classe)")):
        for p in source:
            label = _label(PARCOURS, p.get("code"))
            if label or _texts(p.get("texte")):
                out.append(Paragraph(f"<b>{_markup(label or '—')}</b>{_markup(suffix)}"
                                     + _markup(f" : {_text(p.get('texte'))}"), _S))
    return out


def _vie_scolaire(vs: dict, commun) -> list:
    def n(key):
        v = _count(vs, key)
        return _s("—" if v is None else str(v), _SC)
    rows = [[_s("Retards", _SB), n("nb_retards"), _s("Demi-journées d'absence justifiées", _SB), n("nb_abs_justifiees")],
            [_s("Heures de cours manquées", _SB), n("nb_heures_manquees"),
             _s("Demi-journées d'absence injustifiées", _SB), n("nb_abs_injustifiees")]]
    t = Table(rows, colWidths=[60 * mm, 21 * mm, 80 * mm, 21 * mm])
    t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                           ("BACKGROUND", (0, 0), (0, -1), _BLUE), ("BACKGROUND", (2, 0), (2, -1), _BLUE)]))
    out = [t]
    if _texts(vs.get("commentaire")):
        out.append(_p(f"Observations : {_text(vs.get('commentaire'))}", _S))
    if _texts(commun):
        out.append(_p(f"Vie scolaire de la classe : {_text(commun)}", _S))
    return out


def _signatures(doc: dict) -> Table:
    pps = [x for x in _list(doc.get("profs_principaux")) if isinstance(x, dict)]
    pp_label = "Les professeurs principaux" if len(pps) > 1 else "Le professeur principal"
    chef = _text(doc.get("responsable_etab"))
    rows = [[Paragraph(f"<b>{_markup(pp_label)}</b>" + (f"<br/>{_markup(_names(pps))}" if _names(pps) else ""), _S),
             Paragraph("<b>Le chef d'établissement</b>" + (f"<br/>{_markup(chef)}" if chef else ""), _S),
             Paragraph("<b>Les responsables légaux</b>", _S)],
            ["", "", ""]]
    t = Table(rows, colWidths=[_WIDTH / 3] * 3, rowHeights=[None, 18 * mm])
    t.setStyle(TableStyle([("BOX", (0, 0), (0, -1), 0.4, colors.grey), ("BOX", (1, 0), (1, -1), 0.4, colors.grey),
                           ("BOX", (2, 0), (2, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return t


def bilan_story(b: dict, etablissement: str = "", uai: str = "") -> list:
    b = _dict(b)
    doc = _dict(b.get("document"))
    story = _heading(b, doc, etablissement, uai)
    if b.get("type") == "periodique":
        story += [Paragraph("Suivi des acquis scolaires de l'élève", _H)] + _acquis_table(b)
        socle = [d for d in _list(_value(b.get("socle"))) if isinstance(d, dict)]
        if socle:
            story += [Paragraph("Maîtrise des composantes du socle commun", _H),
                      _grid([(_label(SOCLE_DOMAINES, d.get("code")) or "—", d.get("positionnement"), [])
                             for d in socle], "Composante du socle", SOCLE_NIVEAUX, 86 * mm, "Dispensé")]
        for label, key, epi in (("Enseignements pratiques interdisciplinaires (EPI)", "epis", True),
                                ("Accompagnement personnalisé (AP)", "acc_persos", False)):
            items = [x for x in _list(_value(b.get(key))) if isinstance(x, dict)]
            if items:
                story += [Paragraph(label, _H)] + _groups(items, epi)
        own = [x for x in _list(_value(b.get("parcours"))) if isinstance(x, dict)]
        communs = [x for x in _list(doc.get("parcours_communs")) if isinstance(x, dict)]
        parcours = _parcours(own, communs)
        if parcours:
            story += [Paragraph("Parcours éducatifs", _H)] + parcours
        modalites = [m for m in _list(b.get("modalites_accompagnement")) if isinstance(m, dict)]
        if modalites:
            story += [Paragraph("Modalités spécifiques d'accompagnement", _H)] + [
                _p(" — ".join(_texts(_label(MODALITES, m.get("code")), m.get("complement_ppre"),
                                     m.get("complement_contrat_reussite"))), _S) for m in modalites]
        if _texts(doc.get("devoirs_faits")):
            story += [Paragraph("Devoirs faits", _H), _p(_text(doc.get("devoirs_faits")), _S)]
        story += _competences_numeriques(_dict(doc.get("competences_numeriques")))
        ag = _value(b.get("acquis_conseils"))
        story += [Paragraph("Appréciation générale", _H),
                  _p(ag if isinstance(ag, str) else None, _S)]
        vs = _value(b.get("vie_scolaire"))
        story += [Paragraph("Vie scolaire", _H)]
        if isinstance(vs, dict):
            story += _vie_scolaire(vs, doc.get("vie_scolaire_commun"))
        else:
            story += [_p(None, _S)] + ([_p(f"Vie scolaire de la classe : {_text(doc.get('vie_scolaire_commun'))}", _S)]
                                        if _texts(doc.get("vie_scolaire_commun")) else [])
    else:
        socle = [d for d in _list(_value(b.get("socle"))) if isinstance(d, dict)]
        story += [Paragraph("Maîtrise des composantes du socle commun", _H),
                  _grid([(_label(SOCLE_DOMAINES, d.get("code")) or "—", d.get("positionnement"), [])
                         for d in socle], "Composante du socle", SOCLE_NIVEAUX, 86 * mm, "Dispensé")]
        ens = b.get("enseignement_complement")
        if isinstance(ens, dict) and _label(ENS_COMPLEMENT, ens.get("code")):
            level = {"1": "objectifs atteints", "2": "objectifs dépassés"}.get(str(ens.get("positionnement")), "")
            story += [Paragraph("Enseignement de complément", _H),
                      _p(" — ".join(_texts(_label(ENS_COMPLEMENT, ens.get("code")), level)), _S)]
        lcr = doc.get("langue_culture_regionale")
        if isinstance(lcr, dict) and _label(LANGUES_REGIONALES, lcr.get("code")):
            level = {"1": "niveau non atteint", "2": "niveau atteint"}.get(str(lcr.get("positionnement")), "")
            story += [Paragraph("Langue et culture régionale", _H),
                      _p(" — ".join(_texts(_label(LANGUES_REGIONALES, lcr.get("code")), level)), _S)]
        synthese = _value(b.get("synthese"))
        story += [Paragraph("Synthèse des acquis scolaires de l'élève en fin de cycle", _H),
                  _p(synthese if isinstance(synthese, str) else None, _S)]
    autres = [x for x in _list(b.get("autres_informations")) if isinstance(x, dict)]
    if autres:
        # What the file carries beyond what the application models: the file's text, escaped by _p.
        rows = [[_s("Information", _SB), _s("Valeur", _SB)]] + [
            [_s(_text(x.get("nom"))), _s(_text(x.get("valeur")))] for x in autres]
        story += [Paragraph("Autres informations du fichier", _H), _table(rows, [70 * mm, 112 * mm])]
    story += [CondPageBreak(32 * mm), Spacer(1, 5 * mm), KeepTogether([_signatures(doc)])]
    return story


def _competences_numeriques(cn: dict) -> list:
    comps = [c for c in _list(cn.get("competences")) if isinstance(c, dict)]
    texts = _texts(cn.get("appreciation"))
    communs = _texts(*_list(cn.get("communs")))
    if not (comps or texts or communs):
        return []
    out = [Paragraph("Compétences numériques", _H)]
    if comps:
        rows = [[_s("Compétence", _SB), _s("Niveau", _SC)]] + [
            [_s(_label(COMPETENCES_NUMERIQUES, c.get("code")) or "—"), _s(_text(c.get("niveau")) or None, _SC)]
            for c in comps]
        out.append(_table(rows, [150 * mm, 32 * mm]))
    out += [_p(f"Travail de la classe : {t}", _S) for t in communs]
    out += [_p(f"Appréciation : {t}", _S) for t in texts]
    return out


def render(bilans: list[dict], etablissement: str = "", uai: str = "") -> bytes:
    """One PDF: each bilan on its own pages, numbered « page i / N » per bilan."""
    out = io.BytesIO()
    # The frame pads 6 pt each side: 12 mm margins leave the 182 mm the tables are drawn for.
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=15 * mm, title="Livret scolaire — bilans", author="LSU")
    story: list = []
    for n, b in enumerate(bilans):
        if n:
            story.append(PageBreak())
        story += [_BilanStart(n, _subtitle(_dict(b)))] + bilan_story(b, etablissement, uai)
    doc.build(story or [_p("Aucun bilan.")], canvasmaker=_NumberedCanvas)
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
