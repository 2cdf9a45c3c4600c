"""What the merge tests share (test_merge.py: sequences of calls; test_merge_rules.py: the rules one
by one): the clock, the subjects, the people who edit, and the entries they make."""
from __future__ import annotations

from chalicelib.domain.merge import Editor
from chalicelib.pipeline.split.bilans import split_bilans
from chalicelib.pipeline.split.file_checks import check_file

T1, T2, T3, T4 = ("2026-06-10T08:00:00+00:00", "2026-06-11T09:00:00+00:00",
                  "2026-06-12T10:00:00+00:00", "2026-06-13T11:00:00+00:00")
MATHS, FRANCAIS = "061300", "020700"
CE = Editor("CE", "ce1")
PP = Editor("PP", "pp1", pp_of_division=True)
CPE = Editor("CPE", "cpe1")
ENS = Editor("ENSEIGNANT", "ens1", services=frozenset({MATHS}))
AG_MANUELLE = "Trimestre sérieux ; poursuivre les efforts en mathématiques."
PARCOURS_MANUEL = [{"code": "PAR_CIT", "texte": "Délégué de classe, investi."}]
EPIS_MANUELS = [{"intitule": "Projet presse", "commentaire_eleve": "Très bon travail d'équipe."}]
AP_MANUEL = [{"intitule": "Méthodologie", "commentaire_eleve": "Agenda mieux tenu."}]


def split_file(schema, uai: str, xml: bytes) -> list[dict]:
    """The bilans of a generated file, checked and split as the splitter does."""
    checked = check_file(xml, schema, uai)
    assert checked.ok, checked.erreurs
    return list(split_bilans(checked.root))
