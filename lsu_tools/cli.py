"""`lsu` — command line of lsu-import (messages in French).

Exit codes: 0 the import ran (even with rejected bilans), 3 the file was rejected, 1 anything else.
With --json, stdout carries the synthèse JSON only; progress and logs go to stderr."""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from urllib.parse import quote

import requests

from chalicelib.api.render.csv import synthese_csv
from chalicelib.api.auth import issue_token
from chalicelib.adapters.ports import ImportRecord
from chalicelib.config import Settings
from chalicelib.domain.synthese import build_synthese
from chalicelib.domain.vocabulary import FINAL_IMPORT_STATUTS, ImportStatut, Mode, civilite_abregee
from chalicelib.referentiel import SYSTEMES_EVALUATION

EXIT_OK, EXIT_ERROR, EXIT_REJECTED = 0, 1, 3
SESSION_FILE = Path(".lsu-local") / "session.json"
# The final states of an import (EXPIRE: no file deposited before its form expired, the watchdog).
TERMINAL = FINAL_IMPORT_STATUTS
STATUT_LABELS = {"EN_ATTENTE_FICHIER": "En attente du fichier", "EN_COURS": "En cours", "TERMINE": "Terminé",
                 "FICHIER_REJETE": "Fichier rejeté", "EXPIRE": "Expiré"}
# What POST /imports refuses about the file itself, before any upload: a file refusal like the
# pipeline's (exit 3, a synthèse FICHIER_REJETE), not a failure of the command.
FILE_REFUSALS_BEFORE_UPLOAD = ("EMPTY_FILE", "FILE_TOO_LARGE")
# `lsu referentiel evaluation CODE …`: the word for « no evaluation system set » (JSON null).
AUCUN_SYSTEME = "aucun"


class CliError(Exception):
    """An error to print in French, then exit 1."""


def message_lines(m: dict) -> list[str]:
    """A catalogue message as the CLI prints it: « [CODE] (ligne N) message », then « Que faire ? »."""
    where = f" (ligne {m['ligne']})" if m.get("ligne") else ""
    return [f"[{m['code']}]{where} {m['message']}"] + ([f"    Que faire ? {m['conseil']}"] if m.get("conseil") else [])


class UploadRefused(CliError):
    """S3 refused the presigned POST; `message` is the catalogue's (code, niveau, message, conseil)."""

    def __init__(self, message: dict):
        super().__init__("\n".join(message_lines(message)))
        self.code = message["code"]
        self.message = message


# S3's refusals of a presigned POST, by S3 error code, as the catalogue's codes (the web front maps
# them the same way: chalicelib/api/static/app.js, refusDepot).
S3_REFUSALS = {"EntityTooLarge": "DEPOT_TROP_VOLUMINEUX", "EntityTooSmall": "DEPOT_VIDE", "AccessDenied": "DEPOT_REFUSE"}


def _xml_text(body: str, tag: str) -> str:
    """The text of the first <tag> of S3's error document ('' when absent or not XML)."""
    import xml.etree.ElementTree as ET
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return ""
    found = root.find(tag) if root.tag == "Error" else root.find(f".//{tag}")
    return (found.text or "").strip() if found is not None else ""


def upload_refusal_code(status: int, body: str) -> str:
    """The catalogue code of S3's refusal of a presigned POST, from its error XML: too large
    (EntityTooLarge), empty (EntityTooSmall), an expired form (AccessDenied « Policy expired »),
    any other policy condition failed or refusal (DEPOT_REFUSE)."""
    s3_code = _xml_text(body or "", "Code")
    if s3_code == "AccessDenied" and "policy expired" in _xml_text(body or "", "Message").lower():
        return "DEPOT_EXPIRE"
    return S3_REFUSALS.get(s3_code, "DEPOT_REFUSE")


def upload_refusal(status: int, body: str) -> dict:
    """The French message of S3's refusal (catalogue), with S3's own code and the HTTP status."""
    from chalicelib.domain.catalogue import message
    s3_code = _xml_text(body or "", "Code")
    return message(upload_refusal_code(status, body), f"(HTTP {status}{', S3 : ' + s3_code if s3_code else ''})")


class ApiCallError(CliError):
    """The API answered with an error; `code` is its catalogue code (None if it gave none),
    `erreur` the whole message (code, niveau, message, conseil…) when it gave one."""

    def __init__(self, text: str, code: str | None = None, erreur: dict | None = None):
        super().__init__(text)
        self.code = code
        self.erreur = erreur


def err(text: str, end: str = "\n") -> None:
    print(text, file=sys.stderr, end=end, flush=True)


class ApiClient:
    """The API as the web front uses it: JSON calls, then the presigned POST straight to S3."""

    def __init__(self, base_url: str, token: str, timeout: float = 60):
        self.base_url, self.timeout = base_url.rstrip("/"), timeout
        self.etag: str | None = None      # of the last answer (GET /referentiel: its version)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kw) -> dict:
        try:
            resp = self.http.request(method, self.base_url + path, timeout=self.timeout, **kw)
        except requests.RequestException as exc:
            raise CliError(f"API injoignable ({self.base_url}) : {exc}") from exc
        self.etag = resp.headers.get("ETag")
        body = resp.json() if resp.headers.get("Content-Type", "").startswith("application/json") else {}
        if resp.status_code >= 400:
            e = body.get("erreur", {})
            details = "".join(f"\n  - {d.get('chemin', '')} : {d['message']}" for d in body.get("erreurs", []))
            raise ApiCallError(f"[{e.get('code', resp.status_code)}] {e.get('message', resp.text)}{details}",
                               code=e.get("code"), erreur=e or None)
        return body

    def put_referentiel(self, data: dict, version: str | None = None, must_not_exist: bool = False) -> dict:
        """`version`: the ETag of the référentiel this one was made from; `must_not_exist`: the
        school must have none yet. Otherwise the API refuses (409 CONFLIT): nothing overwritten."""
        headers = {"If-None-Match": "*"} if must_not_exist else {"If-Match": version} if version else {}
        return self.call("PUT", "/referentiel", json=data, headers=headers)

    def get_referentiel(self) -> dict | None:
        """The school's référentiel; None if it has none yet."""
        try:
            return self.call("GET", "/referentiel")
        except ApiCallError as exc:
            if exc.code == "REFERENTIEL_ABSENT":
                return None
            raise

    def create_import(self, nom: str, taille: int, pre_controle: bool) -> dict:
        return self.call("POST", "/imports", json={"nom_fichier": nom, "taille": taille, "pre_controle": pre_controle})

    def upload(self, upload: dict, nom: str, data: bytes) -> None:
        try:
            resp = requests.post(upload["url"], data=upload["fields"], timeout=self.timeout,
                                 files={"file": (nom, data, upload["fields"].get("Content-Type", "application/xml"))})
        except requests.RequestException as exc:
            raise CliError(f"Dépôt du fichier impossible : {exc}") from exc
        if resp.status_code >= 300:
            raise UploadRefused(upload_refusal(resp.status_code, resp.text))

    def get_import(self, import_id: str) -> dict:
        return self.call("GET", f"/imports/{import_id}")

    def synthese(self, import_id: str) -> dict:
        return self.call("GET", f"/imports/{import_id}/synthese")

    def wait(self, import_id: str, timeout: float = 1800, progress: bool = True) -> dict:
        deadline = time.monotonic() + timeout
        tty, last = sys.stderr.isatty(), None
        while True:
            status = self.get_import(import_id)
            p = status["progression"]
            total = p["total"]
            line = f"{STATUT_LABELS.get(status['statut'], status['statut']):<22} {_bar(p['traites'], total) if total else ''} " \
                   f"{p['traites']}/{total if total is not None else '?'} bilans"
            if progress and tty:
                err("\r" + line, end="")
            elif progress and status["statut"] != last:   # a log, not a terminal: one line per step
                err(line)
            last = status["statut"]
            if status["statut"] in TERMINAL:
                return status
            if time.monotonic() > deadline:
                raise CliError(f"L'import {import_id} n'est pas terminé après {int(timeout)} s.")
            time.sleep(0.5)

    def import_file(self, path: Path, pre_controle: bool = False, progress: bool = True,
                    uai: str | None = None) -> dict:
        """The synthèse of the import of `path`; a file the API refuses before any upload (empty,
        too large) gives a synthèse FICHIER_REJETE too (`refused_before_upload`)."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CliError(f"Fichier illisible : {path} ({exc.strerror})") from exc
        try:
            created = self.create_import(path.name, len(data), pre_controle)
        except ApiCallError as exc:
            if exc.code in FILE_REFUSALS_BEFORE_UPLOAD and exc.erreur:
                return refused_before_upload(path.name, data, pre_controle, exc.erreur, uai)
            raise
        if progress:
            err(f"Import {created['import_id']} : dépôt de {path.name} ({len(data)} octets)…")
        self.upload(created["upload"], path.name, data)
        final = self.wait(created["import_id"], progress=progress)
        if final["statut"] == "EXPIRE":
            raise CliError(expired_text(created["import_id"]))
        return self.synthese(created["import_id"])


def expired_text(import_id: str) -> str:
    """An import the watchdog ended (EXPIRE): no file reached it before its form expired."""
    from chalicelib.domain.catalogue import message
    return f"Import {import_id} expiré : " + "\n".join(message_lines(message("IMPORT_EXPIRE")))


def refused_before_upload(nom: str, data: bytes, pre_controle: bool, erreur: dict, uai: str | None) -> dict:
    """The synthèse of a file the API refused before any upload: the keys of any synthèse
    (docs/contrats.md), `statut` FICHIER_REJETE, the API's message in `erreurs_fichier`, no bilan
    (`progression` 0/0, `totaux` all 0). No import was created: `import_id` and `cree_le` are null
    (`termine_le` too, as for any rejected file), `uai` is null when the command does not know the
    school, `entete` is empty; `fichier` is the local file (name, size, SHA-256)."""
    record = ImportRecord(uai=uai, import_id=None, statut=ImportStatut.FICHIER_REJETE, nom_fichier=nom,
                          taille_declaree=len(data), cle_s3=None, cree_le=None, pre_controle=pre_controle,
                          taille=len(data), sha256=hashlib.sha256(data).hexdigest(), erreurs_fichier=[erreur],
                          total=0)
    return build_synthese(record, [])


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return "[" + "#" * filled + "." * (width - filled) + "]"


def format_synthese(s: dict) -> str:
    """The synthèse as a school head reads it: totals, file errors, then bilans by division."""
    t = s["totaux"]
    titre = f"Synthèse d'import {s['import_id']}" if s.get("import_id") else "Synthèse d'import (fichier refusé avant dépôt)"
    lines = [f"{titre} — {s['statut']}" + (" (pré-contrôle)" if s["pre_controle"] else ""),
             f"Fichier : {s['fichier']['nom']} ({s['fichier']['taille']} octets)"]
    e = s.get("entete") or {}
    if e.get("editeur"):
        lines.append(f"Logiciel : {e.get('editeur')} / {e.get('application')} — schéma {e.get('schema_version')}")
    lines.append(f"Bilans : {t['bilans']} — importés : {t['importes']} (nouveaux {t['nouveaux']}, mis à jour "
                 f"{t['mis_a_jour']}, inchangés {t['inchanges']}) — rejetés : {t['rejetes']} — "
                 f"avec avertissement : {t['avertissements']}")
    for m in s.get("erreurs_fichier", []) + s.get("messages", []):
        lines += message_lines(m)
    division = None
    for b in s.get("bilans", []):
        if b["division"] != division:
            division = b["division"]
            lines.append(f"Classe {division}")
        what = (f"période {b['periode']['indice']}/{b['periode']['nb_periodes']}" if b["type"] == "periodique"
                else f"fin de cycle {b['cycle']}")
        lines.append(f"  {b['nom']} {b['prenom']} ({b['id_be']}) — {what} : {b['statut']}")
        for m in b["messages"]:
            lines.append(f"      [{m['code']}] {m['message']}")
    return "\n".join(lines)


def exit_code(synthese: dict) -> int:
    return EXIT_REJECTED if synthese["statut"] == "FICHIER_REJETE" else EXIT_OK


def file_errors_text(synthese: dict) -> list[str]:
    """The French lines of a rejected file's errors: « [CODE] message », then « Que faire ? »."""
    return [line for m in synthese.get("erreurs_fichier") or [] for line in message_lines(m)]


def emit(synthese: dict, as_json: bool) -> int:
    if as_json:
        print(json.dumps(synthese, ensure_ascii=False, indent=2))
        if synthese["statut"] == "FICHIER_REJETE":      # stdout keeps the JSON only
            for line in ["Fichier rejeté :", *file_errors_text(synthese)]:
                err(line)
    else:
        print(format_synthese(synthese))
    return exit_code(synthese)


def load_json(path: str) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"Fichier illisible : {path} ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} n'est pas du JSON valide (ligne {exc.lineno}) : {exc.msg}") from exc


def local_client(args, uai: str | None = None, role: str = "CE") -> ApiClient:
    session = json.loads(SESSION_FILE.read_text()) if SESSION_FILE.exists() else {}
    api = args.api or session.get("api_url")
    if not api:
        raise CliError("Aucune pile locale en cours : lancez « lsu local up » ou indiquez --api URL.")
    token = getattr(args, "token", None) or os.environ.get("LSU_TOKEN")
    if not token:
        uai = uai or getattr(args, "uai", None) or session.get("uai")
        if not uai:
            raise CliError("Indiquez l'établissement (--uai) ou un jeton (--token / LSU_TOKEN).")
        token = issue_token(Settings.from_env().token_secret, uai, role, sub=getattr(args, "id_sts", None) or "dev")
    return ApiClient(api, token)


# --- commands ------------------------------------------------------------------------------

def cmd_run(args) -> int:
    referentiel = load_json(args.referentiel)
    uai = (referentiel.get("etablissement") or {}).get("uai")
    if not args.json:
        err("Démarrage de la pile locale (émulateur AWS, files, tables, API)…")
    with local_stack(args, api_port=None) as stack:
        client = ApiClient(stack.api_url, issue_token(stack.settings.token_secret, uai or "", "CE"))
        client.put_referentiel(referentiel)
        synthese = client.import_file(Path(args.fichier), pre_controle=args.pre_controle, uai=uai)
        err("")
    return emit(synthese, args.json)


def cmd_import(args) -> int:
    client = local_client(args)
    synthese = client.import_file(Path(args.fichier), pre_controle=args.dry_run, uai=getattr(args, "uai", None))
    err("")
    return emit(synthese, args.json)


def cmd_synthese(args) -> int:
    s = local_client(args).synthese(args.import_id)
    if args.csv:
        sys.stdout.write(synthese_csv(s))
        return exit_code(s)
    return emit(s, args.json)


def cmd_referentiel_load(args) -> int:
    data = load_json(args.fichier)
    client = local_client(args, uai=(data.get("etablissement") or {}).get("uai"))
    resume = client.put_referentiel(data)["resume"]
    print("Référentiel chargé : " + ", ".join(f"{v} {k}" for k, v in resume.items()))
    return EXIT_OK


def cmd_referentiel_mode(args) -> int:
    client = local_client(args)
    resume = client.call("PUT", f"/referentiel/divisions/{args.division}/mode", json={"mode_import": args.mode})
    print(f"Classe {args.division} : mode {args.mode} (référentiel version {resume['version'][:12]}).")
    return EXIT_OK


def systeme_evaluation_arg(texte: str) -> str:
    """« notes », « Positionnement », « AUCUN »…: the case of the word does not matter."""
    return AUCUN_SYSTEME if texte.strip().lower() == AUCUN_SYSTEME else texte.strip().upper()


def evaluation_body(valeur: str) -> dict:
    """`lsu referentiel evaluation CODE NOTES|POSITIONNEMENT|aucun` → the body of
    PUT /referentiel/divisions/{code}/evaluation (« aucun »: null, no evaluation system set)."""
    return {"systeme_evaluation": None if valeur == AUCUN_SYSTEME else valeur}


def cmd_referentiel_evaluation(args) -> int:
    client = local_client(args)
    resume = client.call("PUT", f"/referentiel/divisions/{quote(args.division, safe='')}/evaluation",
                         json=evaluation_body(args.systeme))
    quoi = "aucun système d'évaluation paramétré" if args.systeme == AUCUN_SYSTEME else \
        f"système d'évaluation {args.systeme}"
    print(f"Classe {args.division} : {quoi} (référentiel version {resume['version'][:12]}).")
    return EXIT_OK


def cmd_referentiel_show(args) -> int:
    print(json.dumps(local_client(args).call("GET", "/referentiel"), ensure_ascii=False, indent=2))
    return EXIT_OK


# --- référentiel from the SIECLE and STS Web exports ------------------------------------------

_CATEGORIES = (  # report category, label, feminine?
    ("eleves", "Élèves", False), ("enseignants", "Enseignants", False), ("divisions", "Divisions", True),
    ("services", "Services", False), ("matieres", "Matières", True),
    ("modalites_election", "Modalités d'élection", True),
)
_VERBES = {"ajoutes": "ajouté", "modifies": "modifié", "supprimes": "supprimé", "ignores": "ignoré"}
_MAX_LIGNES = 20


def _accord(n: int, participe: str, feminin: bool) -> str:
    return f"{n} {participe}{'e' if feminin else ''}{'s' if n > 1 else ''}"


def _libelle(categorie: str, ident, refs: tuple[dict, ...]) -> str:
    """How a report line names an élève, a teacher, a service… (from the new référentiel, else the old)."""
    if categorie == "services":
        return f"{ident['enseignant']} / {ident['matiere']} / {ident['division']}"
    cle = {"eleves": "id_be", "enseignants": "id_sts"}.get(categorie, "code")
    for ref in refs:
        for el in (ref or {}).get(categorie, []):
            if el.get(cle) == ident:
                if categorie == "eleves":
                    return f"{ident} {el.get('nom')} {el.get('prenom')} ({el.get('division')})"
                if categorie == "enseignants":
                    civ = civilite_abregee(el.get("civilite"))
                    return f"{ident} {' '.join(x for x in (civ, el.get('prenom'), el.get('nom')) if x)}"
                if categorie == "divisions":
                    return f"{ident} ({el.get('niveau')}, mode {el.get('mode_import')})"
                return f"{ident} {el.get('libelle', '')}".strip()
    return str(ident)


def format_rapport(rapport: dict, ancien: dict | None, nouveau: dict, detail: bool = False) -> str:
    """The merge report as a school head reads it: files, then what changed, category by category."""
    lines = ["Exports lus :"]
    for f in rapport["fichiers"]:
        annee = f" {f['annee']}-{int(f['annee']) + 1}" if f.get("annee") else ""
        lines.append(f"  {f['nom']} : {f['libelle']} ({f['uai']}{annee})")
    if rapport.get("cree"):
        lines.append("Nouveau référentiel : calendrier par défaut (trois trimestres couvrant l'année scolaire), "
                     "à ajuster.")
    for categorie, titre, feminin in _CATEGORIES:
        parts = rapport[categorie]
        comptes = [_accord(len(parts[k]), _VERBES[k], feminin) for k in ("ajoutes", "modifies", "supprimes", "ignores")
                   if k in parts and (parts[k] or k != "ignores") and not (categorie == "services" and k == "modifies")]
        changes = any(parts[k] for k in ("ajoutes", "modifies", "supprimes", "ignores") if k in parts)
        lines.append(f"{titre} : {', '.join(comptes) if changes else 'aucun changement'}")
        if categorie == "divisions":
            lines.append(f"  Modes d'import et systèmes d'évaluation des divisions existantes conservés ; nouvelles "
                         f"divisions en mode {parts['mode_nouvelles_divisions']}, sans système d'évaluation (à "
                         f"paramétrer par le chef d'établissement).")
        for cle, signe in (("ajoutes", "+"), ("modifies", "~"), ("supprimes", "-"), ("ignores", "!")):
            montrer = detail or cle != "ajoutes" or categorie == "divisions"
            if cle not in parts or not montrer or categorie in ("matieres", "modalites_election") and not detail:
                continue
            items = parts[cle] if detail else parts[cle][:_MAX_LIGNES]
            for item in items:
                if cle == "modifies":
                    ident = {k: v for k, v in item.items() if k != "champs"}.popitem()[1]
                    lines.append(f"  {signe} {_libelle(categorie, ident, (nouveau,))} : {', '.join(item['champs'])}")
                elif cle == "ignores":
                    lines.append(f"  {signe} {item['id_be']} {item['nom']} {item['prenom']} : {item['motif']}")
                else:
                    refs = (nouveau,) if cle == "ajoutes" else (ancien or {},)
                    lines.append(f"  {signe} {_libelle(categorie, item, refs)}")
            if len(parts[cle]) > len(items):
                lines.append(f"  … et {len(parts[cle]) - len(items)} autre(s) (--detail pour tout voir)")
    if rapport["etablissement"]["modifies"]:
        lines.append(f"Établissement : {', '.join(rapport['etablissement']['modifies'])} mis à jour "
                     f"({nouveau['etablissement'].get('nom')}).")
    return "\n".join(lines)


def format_export_errors(erreurs: list[dict]) -> str:
    lines = []
    for e in erreurs:
        where = f" ({e['fichier']}" + (f", ligne {e['ligne']}" if e.get("ligne") else "") + ")" if e.get("fichier") else ""
        lines.append(f"[{e['code']}]{where} {e['message']}")
        if e.get("conseil"):
            lines.append(f"    Que faire ? {e['conseil']}")
    return "\n".join(lines)


def cmd_referentiel_exports(args) -> int:
    """`lsu referentiel siecle FICHIER…` / `lsu referentiel sts FICHIER`: read the exports here, merge
    them into the school's référentiel (from the API, or --depuis), then load the result through
    PUT /referentiel (or write it with --sortie)."""
    from chalicelib.referentiel.exports import TYPES_SIECLE, TYPES_STS, ExportError, import_exports
    chemins = [Path(f) for f in args.fichiers]
    donnees = []
    for chemin in chemins:
        try:
            donnees.append(chemin.read_bytes())
        except OSError as exc:
            raise CliError(f"Fichier illisible : {chemin} ({exc.strerror})") from exc
    session = json.loads(SESSION_FILE.read_text()) if SESSION_FILE.exists() else {}
    client, version = None, None
    if args.depuis:
        ancien = load_json(args.depuis)
    elif args.nouveau:
        ancien = None
    else:
        client = local_client(args)
        ancien = client.get_referentiel()
        version = client.etag if ancien is not None else None
    uai = (((ancien or {}).get("etablissement") or {}).get("uai") or args.uai or session.get("uai"))
    if not uai:
        raise CliError("Indiquez l'établissement (--uai).")
    try:
        nouveau, rapport = import_exports(
            ancien, donnees, uai, noms=[c.name for c in chemins],
            types=TYPES_SIECLE if args.action == "siecle" else TYPES_STS,
            millesime=args.millesime, mode_nouvelles_divisions=args.mode_nouvelles_divisions)
    except ExportError as exc:
        if args.json:
            print(json.dumps({"erreurs": exc.erreurs}, ensure_ascii=False, indent=2))
        else:
            print(format_export_errors(exc.erreurs))
            print("Rien n'a été modifié.")
        return EXIT_REJECTED
    if args.json:
        print(json.dumps(rapport, ensure_ascii=False, indent=2))
    else:
        print(format_rapport(rapport, ancien, nouveau, detail=args.detail))
    out = sys.stderr if args.json else sys.stdout
    if args.dry_run:
        print("Pré-contrôle : rien n'a été chargé.", file=out)
    elif args.sortie:
        Path(args.sortie).write_text(json.dumps(nouveau, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"Référentiel écrit dans {args.sortie}.", file=out)
    else:
        client = client or local_client(args, uai=uai)
        # Made from nothing (--nouveau, or no référentiel yet): only if the school still has none.
        resume = client.put_referentiel(nouveau, version, must_not_exist=ancien is None)["resume"]
        print("Référentiel chargé : " + ", ".join(f"{v} {k}" for k, v in resume.items()), file=out)
    return EXIT_OK


def bilan_path(args) -> str:
    """`--periode 2025-1-3` (millésime-indice-nb) or `--cycle 4 [--millesime 2025]` → API path."""
    if args.periode:
        try:
            millesime, indice, nb = args.periode.split("-")
        except ValueError:
            raise CliError("--periode attend MILLESIME-INDICE-NB (ex. 2025-1-3).") from None
        return f"/bilans/{args.id_be}/P-{millesime}-{nb}-{indice}"
    if args.cycle:
        if not args.millesime:
            raise CliError("--cycle demande aussi --millesime (ex. --cycle 4 --millesime 2025).")
        return f"/bilans/{args.id_be}/C-{args.cycle}-{args.millesime}"
    raise CliError("Indiquez --periode MILLESIME-INDICE-NB ou --cycle C --millesime AAAA.")


def format_bilan(b: dict) -> str:
    what = (f"période {b['periode']['indice']}/{b['periode']['nb_periodes']} ({b['periode']['millesime']})"
            if b["type"] == "periodique" else f"fin de cycle {b['cycle']}")
    e = b.get("eleve") or {}
    lines = [f"{e.get('prenom')} {e.get('nom')} ({e.get('id_be')}) — classe {e.get('division')} — {what}",
             f"Mode : {b['mode']} — {'verrouillé' if b['verrouille'] else 'non verrouillé'} — {b['statut']}"
             + (f" (manque : {', '.join(b['manquants'])})" if b["manquants"] else "")]
    for name in ("acquis_conseils", "vie_scolaire", "parcours", "epis", "acc_persos"):
        part = b[name]
        lines.append(f"  {name} [{part['provenance']}] : {json.dumps(part['valeur'], ensure_ascii=False)}")
    for code, a in b["acquis"].items():
        ep = a["elements_programme"]
        lines.append(f"  {a['discipline']} ({code}) : {a.get('moyenne_eleve') or a.get('positionnement') or '-'} — "
                     f"éléments de programme [{ep['provenance']}] : {'; '.join(ep['valeur'] or []) or '-'}")
    return "\n".join(lines)


def _show_bilan(b: dict, as_json: bool) -> int:
    print(json.dumps(b, ensure_ascii=False, indent=2) if as_json else format_bilan(b))
    return EXIT_OK


def cmd_bilan_show(args) -> int:
    return _show_bilan(local_client(args, role=args.role).call("GET", bilan_path(args)), args.json)


def cmd_bilan_edit(args) -> int:
    client = local_client(args, role=args.role)
    b = None
    for assignment in args.set:
        part, sep, raw = assignment.partition("=")
        if not sep:
            raise CliError(f"--set attend PARTIE=VALEUR (reçu « {assignment} »).")
        try:
            value = json.loads(raw)          # JSON for structured parts (vie_scolaire, parcours…)
        except json.JSONDecodeError:
            value = raw                      # plain text (appréciation générale)
        if part == "elements_programme" and isinstance(value, str):
            value = [value]
        body = {"valeur": value, **({"discipline": args.discipline} if args.discipline else {})}
        b = client.call("PUT", f"{bilan_path(args)}/parties/{part}", json=body)
    return _show_bilan(b, args.json) if b else EXIT_OK


def cmd_bilan_lock(args) -> int:
    method = "PUT" if args.action == "lock" else "DELETE"
    return _show_bilan(local_client(args, role=args.role).call(method, f"{bilan_path(args)}/verrou"), args.json)


def cmd_token(args) -> int:
    print(issue_token(Settings.from_env().token_secret, args.uai, args.role))
    return EXIT_OK


def _serve_forever(stack, uai: str) -> int:
    SESSION_FILE.parent.mkdir(exist_ok=True)
    SESSION_FILE.write_text(json.dumps({"api_url": stack.api_url, "uai": uai, "endpoint": stack.endpoint,
                                        "endpoints": stack.endpoints}))
    token = issue_token(stack.settings.token_secret, uai, "CE")
    err(f"\nInterface web (connecté en chef d'établissement de {uai}) : {stack.api_url}/#jeton={token}\n"
        f"API : {stack.api_url}   Émulateur AWS : {endpoints_text(stack.endpoints)}\n"
        f"Jeton de développement (CE, {uai}) : {token}\nCtrl-C pour tout arrêter.")
    stop = []
    for sig in (signal.SIGINT, signal.SIGTERM):   # SIGINT too: a background job may start with it ignored
        signal.signal(sig, lambda *_: stop.append(1))
    try:
        while not stop:
            time.sleep(0.2)
    finally:
        SESSION_FILE.unlink(missing_ok=True)
    err("Arrêt de la pile locale.")
    return EXIT_OK


def endpoints_text(endpoints: dict[str, str | None]) -> str:
    """« URL » when every service has the same, else « S3 URL, SQS URL, DynamoDB URL »."""
    urls = set(endpoints.values())
    if len(urls) == 1:
        return str(urls.pop() or "AWS")
    return ", ".join(f"{ENDPOINT_LABELS[svc]} {url or 'AWS'}" for svc, url in endpoints.items())


def cmd_local_up(args) -> int:
    with local_stack(args, api_port=args.port) as stack:
        return _serve_forever(stack, args.uai)


def cmd_demo(args) -> int:
    from lsu_tools.generator import SchoolSpec, generate_lsu_xml, generate_referentiel
    spec = SchoolSpec()
    demo_dir = Path(".lsu-local") / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    (demo_dir / "referentiel.json").write_text(json.dumps(generate_referentiel(spec), ensure_ascii=False, indent=1))
    xml_path = demo_dir / f"export-lsu-{spec.uai}.xml"
    xml_path.write_bytes(generate_lsu_xml(spec))
    err(f"Établissement de démonstration : {spec.nom} ({spec.uai}) — fichiers dans {demo_dir}/")
    with local_stack(args, api_port=args.port) as stack:
        client = ApiClient(stack.api_url, issue_token(stack.settings.token_secret, spec.uai, "CE"))
        client.put_referentiel(load_json(str(demo_dir / "referentiel.json")))
        synthese = client.import_file(xml_path)
        err("")
        print(format_synthese({**synthese, "bilans": synthese["bilans"][:12]}))
        print(f"… {len(synthese['bilans'])} bilans en tout.")
        return _serve_forever(stack, spec.uai)


ENDPOINT_LABELS = {"s3": "S3", "sqs": "SQS", "dynamodb": "DynamoDB"}


def _endpoint_options(parser: argparse.ArgumentParser) -> None:
    """Where the local stack finds AWS: one URL for all services, and/or one per service (a
    service given none gets the embedded moto server)."""
    parser.add_argument("--endpoint", metavar="URL",
                        help="point d'accès AWS de tous les services (par défaut : serveur moto embarqué)")
    for svc, label in ENDPOINT_LABELS.items():
        parser.add_argument(f"--endpoint-{svc}", metavar="URL", dest=f"endpoint_{svc}",
                            help=f"point d'accès {label} (par défaut : --endpoint, sinon le serveur moto embarqué)")


def service_endpoints(args) -> dict[str, str | None]:
    """--endpoint-s3 / --endpoint-sqs / --endpoint-dynamodb, by service (None: not given)."""
    return {svc: getattr(args, f"endpoint_{svc}", None) or None for svc in ENDPOINT_LABELS}


def local_stack(args, api_port: int | None):
    """The local stack the command's endpoint options describe (not started)."""
    from lsu_tools.local.stack import LocalStack
    return LocalStack(endpoint=args.endpoint, endpoints=service_endpoints(args), api_port=api_port)


def _api_options(parser: argparse.ArgumentParser, uai: bool = True) -> None:
    """How a command reaches a running stack: its API, and who the caller is."""
    parser.add_argument("--api", help="URL de l'API (par défaut : la pile de « lsu local up »)")
    parser.add_argument("--token", help="jeton d'accès (par défaut : LSU_TOKEN, ou un jeton CE de développement)")
    if uai:
        parser.add_argument("--uai", help="établissement du jeton de développement")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lsu", description="LSU collège — Bilans > Import (local et AWS).")
    sub = p.add_subparsers(dest="commande", required=True)

    run = sub.add_parser("run", help="importer un fichier de bout en bout sur une pile locale éphémère")
    run.add_argument("fichier")
    run.add_argument("--referentiel", required=True, help="référentiel JSON de l'établissement")
    run.add_argument("--json", action="store_true", help="la synthèse en JSON sur la sortie standard")
    run.add_argument("--pre-controle", "--dry-run", dest="pre_controle", action="store_true")
    _endpoint_options(run)
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="pile locale + établissement de démonstration, jusqu'à Ctrl-C")
    demo.add_argument("--port", type=int, default=8000)
    _endpoint_options(demo)
    demo.set_defaults(func=cmd_demo)

    local = sub.add_parser("local", help="pile locale").add_subparsers(dest="action", required=True)
    up = local.add_parser("up", help="démarrer la pile locale jusqu'à Ctrl-C")
    up.add_argument("--port", type=int, default=8000)
    _endpoint_options(up)
    up.add_argument("--uai", default="0750001A")
    up.set_defaults(func=cmd_local_up)
    tok = local.add_parser("token", help="émettre un jeton de développement")
    tok.add_argument("--uai", required=True)
    tok.add_argument("--role", default="CE")
    tok.set_defaults(func=cmd_token)

    ref = sub.add_parser("referentiel", help="référentiel de l'établissement").add_subparsers(dest="action", required=True)
    load = ref.add_parser("load", help="charger (remplacer) le référentiel JSON")
    load.add_argument("fichier")
    _api_options(load, uai=False)
    load.set_defaults(func=cmd_referentiel_load)
    show = ref.add_parser("show", help="afficher le référentiel chargé")
    _api_options(show)
    show.set_defaults(func=cmd_referentiel_show)
    for action, helptext, nargs in (
            ("siecle", "importer les exports SIECLE (base élèves, nomenclatures) dans le référentiel", "+"),
            ("sts", "importer l'export STS Web (sts_emp_UAI_ANNEE.xml) dans le référentiel", 1)):
        exp = ref.add_parser(action, help=helptext)
        exp.add_argument("fichiers", nargs=nargs, metavar="FICHIER")
        depart = exp.add_mutually_exclusive_group()
        depart.add_argument("--depuis", metavar="REF.json",
                            help="partir de ce référentiel JSON plutôt que de celui chargé dans l'API")
        depart.add_argument("--nouveau", action="store_true",
                            help="partir d'un référentiel vide (établissement --uai) plutôt que de celui de l'API")
        exp.add_argument("--sortie", metavar="REF.json", help="écrire le résultat dans ce fichier au lieu de le charger")
        exp.add_argument("--dry-run", "--pre-controle", dest="dry_run", action="store_true",
                         help="afficher ce qui changerait, sans rien charger")
        exp.add_argument("--mode-nouvelles-divisions", choices=list(Mode),
                         default=Mode.SAISIE, help="mode d'import des divisions créées (SAISIE par défaut)")
        exp.add_argument("--millesime", help="année d'un nouveau référentiel si les exports ne la donnent pas")
        exp.add_argument("--detail", action="store_true", help="lister tous les changements")
        exp.add_argument("--json", action="store_true", help="le rapport en JSON sur la sortie standard")
        _api_options(exp)
        exp.set_defaults(func=cmd_referentiel_exports)
    mode = ref.add_parser("mode", help="changer le mode d'une classe (chef d'établissement)")
    mode.add_argument("division")
    mode.add_argument("mode", choices=list(Mode))
    _api_options(mode)
    mode.set_defaults(func=cmd_referentiel_mode)
    evaluation = ref.add_parser("evaluation", help="changer le système d'évaluation d'une classe (chef "
                                "d'établissement) : notes, positionnement (1 à 4) ou aucun")
    evaluation.add_argument("division")
    evaluation.add_argument("systeme", metavar="|".join((*SYSTEMES_EVALUATION, AUCUN_SYSTEME)),
                            type=systeme_evaluation_arg, choices=[*SYSTEMES_EVALUATION, AUCUN_SYSTEME])
    _api_options(evaluation)
    evaluation.set_defaults(func=cmd_referentiel_evaluation)

    imp = sub.add_parser("import", help="importer un fichier sur une pile en cours")
    imp.add_argument("fichier")
    imp.add_argument("--dry-run", "--pre-controle", dest="dry_run", action="store_true")
    imp.add_argument("--json", action="store_true")
    _api_options(imp)
    imp.set_defaults(func=cmd_import)

    bil = sub.add_parser("bilan", help="consulter, compléter, verrouiller un bilan").add_subparsers(
        dest="action", required=True)
    for action, helptext, func in (("show", "afficher un bilan et la provenance de ses parties", cmd_bilan_show),
                                   ("edit", "saisir une partie (--set PARTIE=VALEUR)", cmd_bilan_edit),
                                   ("lock", "verrouiller un bilan complet", cmd_bilan_lock),
                                   ("unlock", "déverrouiller (chef d'établissement, Sconet Notes)", cmd_bilan_lock)):
        b = bil.add_parser(action, help=helptext)
        b.add_argument("--id-be", required=True)
        b.add_argument("--periode", help="MILLESIME-INDICE-NB, ex. 2025-1-3")
        b.add_argument("--cycle", help="3 ou 4 (avec --millesime)")
        b.add_argument("--millesime")
        b.add_argument("--role", default="CE", help="rôle du jeton de développement (CE, PP, CPE, ENSEIGNANT…)")
        b.add_argument("--id-sts", help="identifiant STS de l'utilisateur (PP, enseignant)")
        b.add_argument("--json", action="store_true")
        if action == "edit":
            b.add_argument("--set", action="append", required=True, metavar="PARTIE=VALEUR")
            b.add_argument("--discipline", help="code matière, pour les éléments de programme")
        _api_options(b)
        b.set_defaults(func=func)

    syn = sub.add_parser("synthese", help="afficher la synthèse d'un import")
    syn.add_argument("import_id")
    fmt = syn.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    _api_options(syn)
    syn.set_defaults(func=cmd_synthese)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("LSU_LOG_LEVEL", "WARNING"), stream=sys.stderr,
                        format="%(levelname)s %(name)s : %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        err(f"Erreur : {exc}")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
