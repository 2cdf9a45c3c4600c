"""CSV for a spreadsheet: `;`-separated, UTF-8 with a BOM (a spreadsheet opens the accents right),
every cell neutralised against formula injection (OWASP « CSV injection »): a text from a file — an
élève named `=HYPERLINK(…)` is valid for the XSD — never becomes a live formula."""
from __future__ import annotations

import csv
import io
from typing import Iterable

CSV_COLUMNS = ["division", "id_be", "nom", "prenom", "type", "periode", "cycle", "statut", "codes", "messages",
               "que_faire"]
# What makes a spreadsheet read a cell as a formula (or a command, for some): the cell is then
# prefixed with an apostrophe, which the spreadsheet shows as text and does not keep.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    """A cell as text that no spreadsheet evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def table(header: list[str], rows: Iterable[list]) -> str:
    """The CSV of a table, every cell neutralised, with the BOM."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow([neutralise(h) for h in header])
    for row in rows:
        w.writerow([neutralise(c) for c in row])
    return "\ufeff" + out.getvalue()


def synthese_csv(s: dict) -> str:
    """The bilans of a synthèse, one line per bilan (and per file error)."""
    def rows():
        for m in s.get("erreurs_fichier", []) + s.get("messages", []):
            yield ["", "", "", "", "fichier", "", "", s["statut"], m["code"], m["message"], m.get("conseil") or ""]
        for b in s.get("bilans", []):
            p = b.get("periode") or {}
            yield [b["division"], b["id_be"], b["nom"], b["prenom"], b["type"],
                   f"{p['indice']}/{p['nb_periodes']}" if p else "", b.get("cycle") or "", b["statut"],
                   " ".join(m["code"] for m in b["messages"]), " | ".join(m["message"] for m in b["messages"]),
                   " | ".join(sorted({m["conseil"] for m in b["messages"] if m.get("conseil")}))]
    return table(CSV_COLUMNS, rows())
