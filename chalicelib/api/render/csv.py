"""The synthèse for a spreadsheet."""
from __future__ import annotations

import csv
import io

CSV_COLUMNS = ["division", "id_be", "nom", "prenom", "type", "periode", "cycle", "statut", "codes", "messages",
               "que_faire"]


def synthese_csv(s: dict) -> str:
    """The bilans of a synthèse as a spreadsheet opens them: `;`-separated, UTF-8 with a BOM."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for m in s.get("erreurs_fichier", []) + s.get("messages", []):
        w.writerow(["", "", "", "", "fichier", "", "", s["statut"], m["code"], m["message"], m.get("conseil") or ""])
    for b in s.get("bilans", []):
        p = b.get("periode") or {}
        w.writerow([b["division"], b["id_be"], b["nom"], b["prenom"], b["type"],
                    f"{p['indice']}/{p['nb_periodes']}" if p else "", b.get("cycle") or "", b["statut"],
                    " ".join(m["code"] for m in b["messages"]), " | ".join(m["message"] for m in b["messages"]),
                    " | ".join(sorted({m["conseil"] for m in b["messages"] if m.get("conseil")}))])
    return "\ufeff" + out.getvalue()
