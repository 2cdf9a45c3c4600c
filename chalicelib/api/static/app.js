"use strict";
// LSU — Bilans : interface web (français). Toutes les données passent par l'API, avec le jeton.
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = text; if (cls) e.className = cls; return e; };
// DSFR: a French alert (fr-alert) on an element that holds a message, none when it is empty; a badge.
function alerte(id, message, type) {
  const e = $(id); e.textContent = message || "";
  ["fr-alert", "fr-alert--sm", "fr-alert--error", "fr-alert--success", "fr-alert--info"].forEach((c) => e.classList.remove(c));
  if (message) e.classList.add("fr-alert", "fr-alert--sm", "fr-alert--" + (type || "error"));
  e.classList.toggle("erreur", !!message && (type || "error") === "error");
}
const BADGES = { IMPORTE: ["Importé", "success"], MIS_A_JOUR: ["Mis à jour", "info"], INCHANGE: ["Inchangé", ""], REJETE: ["Rejeté", "error"],
                 TERMINE: ["Terminé", "success"], FICHIER_REJETE: ["Fichier rejeté", "error"], EXPIRE: ["Expiré", "warning"],
                 EN_ATTENTE_FICHIER: ["En attente du fichier", "info"], EN_COURS: ["En cours", "info"], COMPLET: ["Complet", "success"],
                 A_COMPLETER: ["À compléter", "warning"], VERROUILLE: ["Verrouillé", "info"] };
function badge(code) {
  const [texte, type] = BADGES[code] || [String(code ?? "—"), "new"];
  return el("p", texte, "fr-badge fr-badge--sm" + (type ? " fr-badge--" + type : ""));
}
const cellule = (...enfants) => { const td = el("td"); td.append(...enfants); return td; };
const bouton = (texte, cls) => el("button", texte, "fr-btn fr-btn--sm" + (cls ? " " + cls : ""));
const jeton = () => sessionStorage.getItem("jeton") || "";
let identite = null;

// Sur AWS, la connexion passe par Cognito (code d'autorisation avec PKCE) : la page reçoit son
// domaine et son client dans ses balises <meta>. En local, jeton de développement.
const meta = (nom) => (document.querySelector('meta[name="' + nom + '"]') || {}).content || "";
const COGNITO = { domaine: meta("lsu-cognito-domaine"), client: meta("lsu-cognito-client") };
// API Gateway (autorisation Cognito) attend le jeton d'identité seul ; l'API locale, « Bearer ».
const autorisation = () => (COGNITO.domaine ? jeton() : "Bearer " + jeton());

function lireJeton(t) {
  const parties = t.split(".");
  try {
    const json = atob(parties[parties.length === 3 ? 1 : 0].replace(/-/g, "+").replace(/_/g, "/"));
    const p = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
    if (parties.length !== 3) return p;
    const groupes = [].concat(p["cognito:groups"] || []);
    return { uai: p["custom:uai"], role: Object.keys(ROLES).find((r) => groupes.includes(r)), sub: p["custom:id_sts"] || p.sub };
  } catch (e) { return null; }
}

const b64url = (octets) => btoa(String.fromCharCode(...new Uint8Array(octets))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const retourCognito = () => location.origin + location.pathname;
async function connexionCognito() {
  const verificateur = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const etat = b64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem("pkce", verificateur); sessionStorage.setItem("etat", etat);
  const defi = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verificateur)));
  location.assign(COGNITO.domaine + "/oauth2/authorize?" + new URLSearchParams({ response_type: "code", client_id: COGNITO.client,
    redirect_uri: retourCognito(), scope: "openid email", state: etat, code_challenge: defi, code_challenge_method: "S256" }));
}
async function finConnexionCognito(params) {
  history.replaceState(null, "", location.pathname);
  if (!params.get("state") || params.get("state") !== sessionStorage.getItem("etat")) throw new Error("Connexion refusée : réponse inattendue du service d'authentification.");
  const r = await fetch(COGNITO.domaine + "/oauth2/token", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", client_id: COGNITO.client, code: params.get("code"),
                                redirect_uri: retourCognito(), code_verifier: sessionStorage.getItem("pkce") || "" }) });
  const data = await r.json().catch(() => ({}));
  sessionStorage.removeItem("pkce"); sessionStorage.removeItem("etat");
  if (!r.ok || !data.id_token) throw new Error("Connexion impossible (" + (data.error || r.status) + ").");
  connecter(data.id_token);
}

async function api(method, path, body) {
  const r = await fetch(path, { method, headers: { "Authorization": autorisation(), "Content-Type": "application/json" },
                                body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) { const e = data.erreur || {}; const err = new Error("[" + (e.code || r.status) + "] " + (e.message || "Erreur") + (e.conseil ? " — Que faire ? " + e.conseil : ""));
               err.status = r.status; err.code = e.code; throw err; }
  return data;
}

async function telecharger(path, nom) {
  const r = await fetch(path, { headers: { "Authorization": autorisation() } });
  if (!r.ok) { const e = (await r.json().catch(() => ({}))).erreur || {}; throw new Error("[" + (e.code || r.status) + "] " + (e.message || "Téléchargement impossible")); }
  const a = el("a"); a.href = URL.createObjectURL(await r.blob()); a.download = nom;
  document.body.append(a); a.click(); a.remove();
}

// --- connexion -------------------------------------------------------------------------------------
let etablissements = [];
async function chargerEtablissements() {
  try {
    const r = await fetch("/dev/etablissements"); if (!r.ok) return;
    etablissements = (await r.json()).etablissements;
    $("etablissement").replaceChildren(...etablissements.map((e) => { const o = el("option", e.uai + " — " + (e.nom || "")); o.value = e.uai; return o; }));
    majPersonnes();
  } catch (e) { /* connexion de développement indisponible : jeton fourni par l'URL */ }
}
function majPersonnes() {
  const e = etablissements.find((x) => x.uai === $("etablissement").value);
  const role = $("role").value, prof = role === "PP" || role === "ENSEIGNANT";
  $("bloc-personne").hidden = !prof;
  const gens = (e ? e.enseignants : []).filter((p) => role !== "PP" || p.pp);
  $("personne").replaceChildren(...gens.map((p) => { const o = el("option", p.nom + " (STS " + p.id_sts + ")"); o.value = p.id_sts; return o; }));
}
$("etablissement").addEventListener("change", majPersonnes);
$("role").addEventListener("change", majPersonnes);
$("se-connecter").addEventListener("click", async () => {
  if (COGNITO.domaine) { connexionCognito().catch((e) => { $("identite").textContent = e.message; }); return; }
  try {
    const role = $("role").value, prof = role === "PP" || role === "ENSEIGNANT";
    const r = await fetch("/dev/connexion", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ uai: $("etablissement").value, role, id_sts: prof ? $("personne").value : undefined }) });
    const data = await r.json();
    if (!r.ok) throw new Error("[" + data.erreur.code + "] " + data.erreur.message);
    connecter(data.jeton);
  } catch (e) { $("identite").textContent = e.message; }
});

const ROLES = { CE: "chef d'établissement", DELEGUE_CE: "délégué du chef d'établissement", PP: "professeur principal", CPE: "CPE", ENSEIGNANT: "enseignant" };
function connecter(t) {
  sessionStorage.setItem("jeton", t);
  identite = lireJeton(t);
  if (!identite || !identite.uai || !identite.role) {
    sessionStorage.removeItem("jeton");
    $("identite").textContent = identite ? "Ce compte n'a pas d'établissement ou de rôle LSU : voir l'administrateur de l'académie." : "Jeton invalide.";
    return;
  }
  $("identite").textContent = "Connecté : établissement " + identite.uai + " — " + ROLES[identite.role] + (identite.sub && identite.sub !== "dev" ? " (STS " + identite.sub + ")" : "");
  $("menu").hidden = false;
  let premiere = null;
  document.querySelectorAll("#menu button").forEach((b) => {
    b.hidden = !b.dataset.roles.split(" ").includes(identite.role);
    b.closest("li").hidden = b.hidden;
    if (!b.hidden && !premiere) premiere = b.dataset.page;
  });
  afficher(premiere);
  divisionsChargees = chargerDivisions();
  if (!document.querySelector("#menu button[data-page=page-historique]").hidden) historique();
}
function afficher(page) {
  document.querySelectorAll(".page").forEach((p) => { p.hidden = p.id !== page; });
  document.querySelectorAll("#menu button").forEach((b) => {
    if (b.dataset.page === page) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current"); });
  if (page === "page-parametrage") parametrage();
  if (page === "page-tableau-de-bord") tableauDeBord();
  if (page === "page-brevet") brevetClasses();
}
document.querySelectorAll("#menu button").forEach((b) => b.addEventListener("click", () => afficher(b.dataset.page)));

// --- import ----------------------------------------------------------------------------------------
// <refus-depot>
// S3's refusal of the presigned POST, as a French message of the catalogue with its stable code
// (chalicelib/domain/catalogue.py; the CLI maps it the same way: lsu_tools/cli.py, upload_refusal;
// tests/unit/test_cli_upload_refusal.py checks that both agree and that these texts are the catalogue's).
const DEPOT_MESSAGES = {
  "DEPOT_TROP_VOLUMINEUX": {"message": "Le stockage a refusé le fichier : il est plus volumineux que la taille annoncée à la création de l'import (ou que la taille maximale).", "conseil": "Relancer l'import avec le fichier choisi, sans le modifier entre-temps."},
  "DEPOT_VIDE": {"message": "Le stockage a refusé le fichier : il est vide (0 octet).", "conseil": "Vérifier l'export du logiciel de suivi des acquis, puis relancer l'import."},
  "DEPOT_REFUSE": {"message": "Le stockage a refusé le dépôt : le formulaire de dépôt ne correspond pas à ce fichier (emplacement ou type de contenu).", "conseil": "Relancer l'import depuis « Bilans > Import » ; si le refus persiste, contacter l'assistance."},
  "DEPOT_EXPIRE": {"message": "Le stockage a refusé le dépôt : le formulaire de dépôt a expiré.", "conseil": "Relancer l'import depuis « Bilans > Import » et déposer le fichier aussitôt."},
  "IMPORT_EXPIRE": {"message": "Aucun fichier n'a été déposé pour cet import avant l'expiration du formulaire de dépôt.", "conseil": "Relancer l'import depuis « Bilans > Import »."}
};
function refusDepot(statut, xml) {
  const champ = (nom) => { const m = new RegExp("<" + nom + ">([^<]*)</" + nom + ">").exec(String(xml || "")); return m ? m[1].trim() : ""; };
  const s3 = champ("Code");
  const code = s3 === "EntityTooLarge" ? "DEPOT_TROP_VOLUMINEUX" : s3 === "EntityTooSmall" ? "DEPOT_VIDE"
    : s3 === "AccessDenied" && champ("Message").toLowerCase().includes("policy expired") ? "DEPOT_EXPIRE" : "DEPOT_REFUSE";
  const m = DEPOT_MESSAGES[code];
  const texte = "[" + code + "] " + m.message + " (HTTP " + statut + (s3 ? ", S3 : " + s3 : "") + ")" + (m.conseil ? " Que faire ? " + m.conseil : "");
  return { code, texte };
}
// </refus-depot>
class RefusDepot extends Error { constructor(refus) { super(refus.texte); this.code = refus.code; } }
function deposer(upload, fichier, barre = $("barre-depot")) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    Object.entries(upload.fields).forEach(([k, v]) => form.append(k, v));
    form.append("file", fichier);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", upload.url);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && barre) barre.value = 100 * e.loaded / e.total; };
    xhr.onload = () => xhr.status < 300 ? resolve() : reject(new RefusDepot(refusDepot(xhr.status, xhr.responseText)));
    xhr.onerror = () => reject(new Error("Dépôt du fichier impossible (réseau)."));
    xhr.send(form);
  });
}
// The final states of an import (EXPIRE: no file deposited before its form expired, the watchdog).
const FINAUX = ["TERMINE", "FICHIER_REJETE", "EXPIRE"];
async function suivre(id) {
  for (;;) {
    const s = await api("GET", "/imports/" + encodeURIComponent(id));
    const p = s.progression;
    $("barre-traitement").max = p.total || 1; $("barre-traitement").value = p.traites;
    $("etat").textContent = s.statut + " — " + p.traites + " / " + (p.total ?? "?") + " bilans traités";
    if (s.statut === "EXPIRE") {
      const m = DEPOT_MESSAGES.IMPORT_EXPIRE;
      throw new Error("[IMPORT_EXPIRE] " + m.message + " Que faire ? " + m.conseil);
    }
    if (FINAUX.includes(s.statut)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}
$("form-import").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const fichier = $("fichier").files[0]; if (!fichier) return;
  $("importer").disabled = true; $("suivi").hidden = false; $("barre-depot").value = 0; $("barre-traitement").value = 0; alerte("etat", "", "info");
  try {
    $("etat").textContent = "Création de l'import…";
    const cree = await api("POST", "/imports", { nom_fichier: fichier.name, taille: fichier.size, pre_controle: $("pre-controle").checked });
    $("etat").textContent = "Dépôt du fichier…";
    await deposer(cree.upload, fichier);
    await suivre(cree.import_id);
    afficherSynthese(await api("GET", "/imports/" + encodeURIComponent(cree.import_id) + "/synthese"));
    historique();
  } catch (e) { alerte("etat", e.message); }
  finally { $("importer").disabled = false; }
});

// --- synthèse --------------------------------------------------------------------------------------
let synthese = null;
const niveauDe = (division) => (division || "").charAt(0);
function options(select, valeurs, tous) {
  select.replaceChildren(el("option", tous), ...valeurs.map((v) => el("option", v)));
  select.options[0].value = "";
}
function afficherSynthese(s) {
  synthese = s;
  $("bloc-synthese").hidden = false;
  $("synthese-entete").textContent = "Import " + s.import_id + " — " + s.fichier.nom + " — " + s.statut + (s.pre_controle ? " (pré-contrôle)" : "");
  $("synthese-par").textContent = s.cree_par ? "Import lancé par " + qui(s.cree_par) : "";
  afficherClasses(s.classes);
  const t = s.totaux; $("totaux").replaceChildren(
    el("span", "Bilans : " + t.bilans), el("span", "Importés : " + t.importes), el("span", "dont mis à jour : " + t.mis_a_jour),
    el("span", "Inchangés : " + t.inchanges), el("span", "Rejetés : " + t.rejetes), el("span", "Avec avertissement : " + t.avertissements));
  $("erreurs-fichier").replaceChildren(...[...s.messages, ...s.erreurs_fichier].map((m) =>
    el("li", "[" + m.code + "]" + (m.ligne ? " ligne " + m.ligne : "") + " : " + m.message + (m.conseil ? " — Que faire ? " + m.conseil : ""))));
  $("bloc-erreurs-fichier").hidden = $("erreurs-fichier").children.length === 0;
  $("bloc-erreurs-fichier").classList.toggle("fr-alert--error", s.statut === "FICHIER_REJETE");
  $("bloc-erreurs-fichier").classList.toggle("fr-alert--warning", s.statut !== "FICHIER_REJETE");
  $("codes").textContent = Object.keys(s.codes || {}).length
    ? "Bilans par code : " + Object.entries(s.codes).map(([c, n]) => c + " " + n).join(", ") : "";
  const divisions = [...new Set(s.bilans.map((b) => b.division))];
  options($("filtre-division"), divisions, "Toutes");
  options($("filtre-niveau"), [...new Set(divisions.map(niveauDe))], "Tous");
  options($("filtre-code"), Object.keys(s.codes || {}), "Tous");
  remplirBilans();
}
// "ROLE:sub" → « chef d'établissement (dev) ».
const qui = (par) => { const [role, ...sub] = String(par).split(":"); return (ROLES[role] || role) + (sub.length && sub.join(":") ? " (" + sub.join(":") + ")" : ""); };
const texte = (v) => (v === undefined || v === null || v === "" ? "—" : String(v));
const liste = (v) => (Array.isArray(v) ? v : []);
const PARTIES_NOMS = { acquis_conseils: "appréciation générale", vie_scolaire: "vie scolaire", elements_programme: "éléments de programme",
                       parcours: "parcours", epis: "EPI", acc_persos: "accompagnement personnalisé" };
// The synthèse's `classes` (filled by the report stage): rendered defensively, any field may be missing.
function afficherClasses(classes) {
  const lignes = liste(classes).filter((c) => c && typeof c === "object").map((c) => {
    const tr = el("tr");
    const periodes = el("td");
    liste(c.par_periode).filter((p) => p && typeof p === "object").forEach((p) => {
      periodes.append(el("div", texte(p.libelle) + " : " + texte(p.bilans) + " bilan(s)" + (p.rejetes ? ", " + p.rejetes + " rejeté(s)" : "")));
    });
    const reste = el("td"); const a = c.a_completer && typeof c.a_completer === "object" ? c.a_completer : {};
    if (a.bilans) reste.append(el("div", a.bilans + " bilan(s) à compléter"));
    liste(a.manques).filter((m) => m && typeof m === "object").forEach((m) => {
      reste.append(el("div", (PARTIES_NOMS[m.partie] || texte(m.partie)) + (m.discipline ? " (" + m.discipline + ")" : "") + " : "
        + texte(m.bilans) + " bilan(s)" + (liste(m.qui).length ? " — à saisir par : " + liste(m.qui).map((r) => ROLES[r] || String(r)).join(", ") : "")));
    });
    tr.append(el("td", texte(c.division)), el("td", texte(c.niveau)), el("td", MODES[c.mode] || texte(c.mode)),
              el("td", SYSTEMES[c.systeme_evaluation_fichier] || texte(c.systeme_evaluation_fichier)), el("td", texte(c.bilans)), periodes, reste);
    return tr;
  });
  $("classes-synthese").replaceChildren(...lignes);
  $("bloc-classes").hidden = lignes.length === 0;
}
function remplirBilans() {
  if (!synthese) return;
  const d = $("filtre-division").value, n = $("filtre-niveau").value, st = $("filtre-statut").value, c = $("filtre-code").value;
  const lignes = synthese.bilans.filter((b) => (!d || b.division === d) && (!n || niveauDe(b.division) === n) && (!st || b.statut === st)
                                             && (!c || b.messages.some((m) => m.code === c))).map((b) => {
    const tr = el("tr");
    const bilan = b.type === "periodique" ? "Période " + b.periode.indice + "/" + b.periode.nb_periodes : "Fin de cycle " + b.cycle;
    tr.append(el("td", b.division), el("td", b.nom + " " + b.prenom), el("td", bilan), cellule(badge(b.statut)),
              el("td", b.messages.map((m) => "[" + m.code + "] " + m.message + (m.conseil ? " Que faire ? " + m.conseil : "")).join("\n"), "lsu-messages"));
    return tr;
  });
  $("bilans").replaceChildren(...lignes);
}
["filtre-division", "filtre-niveau", "filtre-statut", "filtre-code"].forEach((id) => $(id).addEventListener("change", remplirBilans));
$("synthese-pdf").addEventListener("click", () => telecharger("/imports/" + encodeURIComponent(synthese.import_id) + "/synthese?format=pdf",
  "synthese-import-" + synthese.import_id + ".pdf").catch((e) => { $("etat").textContent = e.message; }));
$("csv").addEventListener("click", () => telecharger("/imports/" + encodeURIComponent(synthese.import_id) + "/synthese?format=csv",
  "synthese-import-" + synthese.import_id + ".csv").catch((e) => { $("etat").textContent = e.message; }));

async function historique() {
  try {
    const { imports } = await api("GET", "/imports");
    $("historique").replaceChildren(...imports.map((i) => {
      const tr = el("tr"); const b = bouton("Ouvrir la synthèse", "fr-btn--secondary");
      b.setAttribute("aria-label", "Ouvrir la synthèse de l'import de " + i.fichier.nom + " du " + i.cree_le);
      b.addEventListener("click", async () => { afficher("page-import"); afficherSynthese(await api("GET", "/imports/" + encodeURIComponent(i.import_id) + "/synthese")); });
      const td = el("td"); td.append(b);
      tr.append(el("td", i.cree_le), el("td", i.fichier.nom), el("td", i.cree_par ? qui(i.cree_par) : ""), cellule(badge(i.statut)), el("td", i.totaux.bilans),
                el("td", i.totaux.importes), el("td", i.totaux.rejetes), td);
      return tr;
    }));
  } catch (e) { $("historique").replaceChildren(); }
}

// --- recherche de bilans ----------------------------------------------------------------------------
let divisions = [];
let divisionsChargees = Promise.resolve();
async function chargerDivisions() {
  try { divisions = (await api("GET", "/divisions")).divisions; } catch (e) { divisions = []; }
  $("r-division").replaceChildren(...divisions.map((d) => { const o = el("option", d.code); o.value = d.code; return o; }));
  const d = divisions[0];
  const bilans = [];
  if (d) {
    for (let i = 1; i <= (d.nb_periodes || 3); i++) bilans.push(["P-2025-" + (d.nb_periodes || 3) + "-" + i, "Période " + i]);
    bilans.push(["C-3-2025", "Fin de cycle 3"], ["C-4-2025", "Fin de cycle 4"]);
  }
  $("r-bilan").replaceChildren(el("option", "Tous"), ...bilans.map(([v, t]) => { const o = el("option", t); o.value = v; return o; }));
  $("r-bilan").options[0].value = "";
}
$("form-recherche").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const q = new URLSearchParams();
  if ($("r-eleve").value.trim()) q.set("eleve", $("r-eleve").value.trim()); else q.set("division", $("r-division").value);
  ["bilan", "statut", "provenance"].forEach((k) => { if ($("r-" + k).value) q.set(k, $("r-" + k).value); });
  alerte("recherche-etat", "", "info");
  try {
    const { bilans } = await api("GET", "/bilans?" + q);
    $("resultats").replaceChildren(...bilans.map((b) => {
      const tr = el("tr");
      const libelle = b.type === "periodique" ? "Période " + b.periode.indice + "/" + b.periode.nb_periodes : "Fin de cycle " + b.cycle;
      const ouvrir = bouton("Ouvrir"); ouvrir.addEventListener("click", () => ouvrirBilan(b.id_be, b.bilan));
      ouvrir.setAttribute("aria-label", "Ouvrir le bilan de " + b.nom + " " + b.prenom + " (" + libelle + ")");
      const pdf = bouton("PDF", "fr-btn--secondary");
      pdf.setAttribute("aria-label", "PDF du bilan de " + b.nom + " " + b.prenom + " (" + libelle + ")");
      pdf.addEventListener("click", () => telecharger("/bilans/" + b.id_be + "/" + b.bilan + "/pdf", "bilan-" + b.nom + "-" + b.prenom + "-" + b.bilan + ".pdf"));
      const td = el("td"); td.append(ouvrir, pdf);
      tr.append(el("td", b.division), el("td", b.nom + " " + b.prenom), el("td", libelle), el("td", MODES[b.mode] || texte(b.mode)),
                cellule(badge(b.verrouille ? "VERROUILLE" : (b.statut === "COMPLET" ? "COMPLET" : "A_COMPLETER"))), td);
      return tr;
    }));
    $("recherche-etat").textContent = bilans.length + " bilan(s) trouvé(s)" + (filtreTableau ? " — " + filtreTableau : "") + ".";
  } catch (e) { $("resultats").replaceChildren(); alerte("recherche-etat", e.message); }
});
$("pdf-classe").addEventListener("click", () => {
  const q = new URLSearchParams(); if ($("r-bilan").value) q.set("bilan", $("r-bilan").value);
  telecharger("/divisions/" + encodeURIComponent($("r-division").value) + "/pdf?" + q, "bilans-" + $("r-division").value + ".pdf")
    .catch((e) => { alerte("recherche-etat", e.message); });
});

// --- tableau de bord --------------------------------------------------------------------------------
// GET /tableau-de-bord: per class a DSFR table, per période its counts; each count opens « Recherche de
// bilans » with the search the API gives for it, filled in and run (one click).
let filtreTableau = "";
const objet = (v) => (v && typeof v === "object" && !Array.isArray(v) ? v : null);
async function tableauDeBord() {
  $("tableau-etat").textContent = "Chargement du tableau de bord…";
  try {
    const t = await api("GET", "/tableau-de-bord");
    const classes = liste(t.classes).filter(objet);
    $("tableau-classes").replaceChildren(...classes.map(tableClasse));
    alerte("tableau-etat", classes.length ? "" : "Aucune classe à afficher.", "info");
  } catch (e) { $("tableau-classes").replaceChildren(); alerte("tableau-etat", e.message); }
}
function lienRecherche(nombre, recherche, description, libelle) {
  const n = typeof nombre === "number" && Number.isFinite(nombre) ? nombre : 0;
  const params = objet(recherche);
  if (!params || !n) return document.createTextNode(String(n));
  const a = el("a", String(n), "fr-link"); a.href = "#page-recherche";
  a.setAttribute("aria-label", n + " " + description + " : ouvrir la recherche");
  a.addEventListener("click", (ev) => { ev.preventDefault(); rechercherDepuis(params, n + " " + description, libelle); });
  return a;
}
async function rechercherDepuis(params, description, libelle) {
  await divisionsChargees;
  const champs = { division: "r-division", bilan: "r-bilan", statut: "r-statut", provenance: "r-provenance", eleve: "r-eleve" };
  Object.entries(champs).forEach(([k, id]) => {
    const v = typeof params[k] === "string" ? params[k] : "", champ = $(id);
    if (champ.tagName === "SELECT" && v && ![...champ.options].some((o) => o.value === v)) {
      const o = el("option", k === "bilan" && libelle ? libelle : v); o.value = v; champ.append(o);
    }
    champ.value = v;
  });
  afficher("page-recherche");
  filtreTableau = description;
  $("t-recherche").focus();
  $("form-recherche").requestSubmit();
}
$("form-recherche").addEventListener("change", () => { filtreTableau = ""; });
function tableClasse(c) {
  const division = texte(c.division);
  const table = el("table");
  table.append(el("caption", "Classe " + division + (c.niveau ? " — niveau " + c.niveau : "") + (c.mode ? " — " + (MODES[c.mode] || c.mode) : "")));
  const tete = el("tr");
  ["Période ou cycle", "Importés", "À compléter", "Ce qui manque", "Complets non verrouillés", "Verrouillés"]
    .forEach((h) => { const th = el("th", h); th.scope = "col"; tete.append(th); });
  const thead = el("thead"); thead.append(tete);
  const corps = el("tbody");
  liste(c.periodes).filter(objet).forEach((p) => {
    const tr = el("tr"); const libelle = texte(p.libelle); const ou = "classe " + division + ", " + libelle;
    const th = el("th", libelle); th.scope = "row";
    const a = objet(p.a_completer) || {}, complets = objet(p.complets_non_verrouilles) || {}, verrous = objet(p.verrouilles) || {};
    const manques = el("td");
    liste(a.manques).filter(objet).forEach((m) => manques.append(el("div",
      texte(m.partie) + (m.discipline ? " (" + m.discipline + ")" : "") + " : " + texte(m.nombre))));
    const importes = typeof c.division === "string" && typeof p.bilan === "string" ? { division: c.division, bilan: p.bilan } : null;
    tr.append(th, cellule(lienRecherche(p.importes, importes, "bilans importés, " + ou, libelle)),
              cellule(lienRecherche(a.nombre, a.recherche, "bilans à compléter, " + ou, libelle)), manques,
              cellule(lienRecherche(complets.nombre, complets.recherche, "bilans complets non verrouillés, " + ou, libelle)),
              cellule(lienRecherche(verrous.nombre, verrous.recherche, "bilans verrouillés, " + ou, libelle)));
    corps.append(tr);
  });
  if (!corps.children.length) {
    const tr = el("tr"), td = el("td", "Aucun bilan importé pour cette classe."); td.colSpan = 6; tr.append(td); corps.append(tr);
  }
  table.append(thead, corps);
  const bloc = el("div", undefined, "fr-table fr-table--bordered");
  const w = el("div", undefined, "fr-table__wrapper"), ct = el("div", undefined, "fr-table__container"), cn = el("div", undefined, "fr-table__content");
  cn.append(table); ct.append(cn); w.append(ct); bloc.append(w);
  return bloc;
}

// --- compléter un bilan -----------------------------------------------------------------------------
let courant = null;
// Which parts each role enters (the API enforces it; the form only offers what is allowed). The
// fiche: CE, PP and CPE « peuvent aussi saisir les informations facultatives : parcours, EPI, AP ».
const FACULTATIVES = ["parcours", "epis", "acc_persos"];
const PARTIES = { CE: ["acquis_conseils", "vie_scolaire", "elements_programme", ...FACULTATIVES],
                  DELEGUE_CE: ["acquis_conseils", "vie_scolaire", "elements_programme", ...FACULTATIVES],
                  PP: ["acquis_conseils", "elements_programme", ...FACULTATIVES], CPE: ["vie_scolaire", ...FACULTATIVES],
                  ENSEIGNANT: ["elements_programme"] };
const PARCOURS = { PAR_AVN: "Parcours Avenir", PAR_ART: "Parcours d'éducation artistique et culturelle",
                   PAR_CIT: "Parcours citoyen", PAR_SAN: "Parcours éducatif de santé" };
const peut = (partie) => (PARTIES[identite.role] || []).includes(partie);
const prov = (p) => !p ? "" : p.provenance === "IMPORT" ? "importé (non modifiable)" : p.provenance === "SAISIE" ? "saisi par " + qui(p.par) + " le " + texte(p.le) : "à saisir";
const figee = (b, partie) => !b[partie] || b[partie].provenance === "IMPORT" || b.verrouille || !peut(partie);
async function ouvrirBilan(idBe, bilan) {
  courant = { idBe, bilan };
  afficher("page-bilan");
  try { montrerBilan(await api("GET", "/bilans/" + idBe + "/" + bilan)); } catch (e) { $("bilan-etat").textContent = e.message; }
}
// EPI and AP: one row per entry (intitulé, comment for the élève).
function ligneGroupe(partie, g, n, fige) {
  const div = el("div", undefined, "lsu-groupe groupe");
  const lib = partie === "epis" ? "EPI" : "AP";
  const i = el("input"); i.type = "text"; i.maxLength = 150; i.className = "fr-input intitule";
  i.setAttribute("aria-label", lib + " " + n + " : intitulé"); i.value = (g && (g.intitule || (g.definition || {}).intitule)) || "";
  const c = el("textarea"); c.maxLength = 600; c.className = "fr-input commentaire";
  c.setAttribute("aria-label", lib + " " + n + " : commentaire pour l'élève"); c.value = (g && (g.commentaire_eleve || g.commentaire)) || "";
  i.disabled = c.disabled = fige;
  const d1 = el("div"); d1.append(i); const d2 = el("div"); d2.append(c);
  div.append(d1, d2);
  return div;
}
function montrerGroupes(b, partie) {
  const fige = figee(b, partie);
  const valeurs = liste(b[partie] && b[partie].valeur).filter((g) => g && typeof g === "object");
  const lignes = valeurs.map((g, n) => ligneGroupe(partie, g, n + 1, fige));
  if (!fige && !lignes.length) lignes.push(ligneGroupe(partie, null, 1, false));
  $("b-" + partie).replaceChildren(...lignes);
  $("ajout-" + partie).hidden = fige;
  $("p-" + partie).textContent = prov(b[partie]);
}
function lireGroupes(partie) {
  const out = [];
  $("b-" + partie).querySelectorAll(".groupe").forEach((d) => {
    const intitule = d.querySelector(".intitule").value.trim(), commentaire = d.querySelector(".commentaire").value.trim();
    if (intitule) out.push(commentaire ? { intitule, commentaire_eleve: commentaire } : { intitule });
  });
  return out;
}
const groupesDe = (b, partie) => liste(b[partie] && b[partie].valeur).filter((g) => g && typeof g === "object")
  .map((g) => g.commentaire_eleve ? { intitule: g.intitule, commentaire_eleve: g.commentaire_eleve } : { intitule: g.intitule });
FACULTATIVES.filter((p) => p !== "parcours").forEach((partie) => $("ajout-" + partie).addEventListener("click", () => {
  $("b-" + partie).append(ligneGroupe(partie, null, $("b-" + partie).querySelectorAll(".groupe").length + 1, false));
}));
function montrerBilan(b) {
  courant.vue = b;
  const e = b.eleve || {};
  const p = b.periode || {};
  $("bilan-titre").textContent = texte(e.prenom) + " " + texte(e.nom) + " — classe " + texte(e.division) + " — " +
    (b.type === "periodique" ? "période " + texte(p.indice) + "/" + texte(p.nb_periodes) : "fin de cycle " + texte(b.cycle)) + " — mode " + texte(b.mode);
  $("bilan-etat").textContent = (b.verrouille ? "Verrouillé" : "Non verrouillé") + " — " + (b.statut === "COMPLET" ? "complet" : "à compléter");
  $("bilan-manquants").replaceChildren(...liste(b.manquants).map((m) => el("li", "Manque : " + m)));
  const ag = b.acquis_conseils || {};
  $("b-ag").value = typeof ag.valeur === "string" ? ag.valeur : ""; $("p-ag").textContent = prov(ag);
  $("b-ag").disabled = figee(b, "acquis_conseils");
  const vs = (b.vie_scolaire && b.vie_scolaire.valeur) || {};
  $("b-retards").value = vs.nb_retards ?? ""; $("b-absj").value = vs.nb_abs_justifiees ?? ""; $("b-absi").value = vs.nb_abs_injustifiees ?? "";
  $("b-heures").value = vs.nb_heures_manquees ?? ""; $("b-vs-commentaire").value = vs.commentaire || "";
  $("p-vs").textContent = prov(b.vie_scolaire);
  ["b-retards", "b-absj", "b-absi", "b-heures", "b-vs-commentaire"].forEach((id) => { $(id).disabled = figee(b, "vie_scolaire"); });
  const parcours = liste(b.parcours && b.parcours.valeur);
  $("b-parcours").replaceChildren(...Object.entries(PARCOURS).map(([code, libelle]) => {
    const div = el("div", undefined, "fr-input-group"); const t = el("textarea", undefined, "fr-input"); t.id = "b-parcours-" + code; t.dataset.code = code; t.maxLength = 600;
    const lab = el("label", libelle + " (appréciation)", "fr-label"); lab.htmlFor = t.id;
    const x = parcours.find((q) => q && q.code === code); t.value = (x && x.texte) || "";
    t.disabled = figee(b, "parcours");
    div.append(lab, t); return div;
  }));
  $("p-parcours").textContent = prov(b.parcours);
  montrerGroupes(b, "epis"); montrerGroupes(b, "acc_persos");
  $("verrouiller").hidden = b.verrouille || !["CE", "DELEGUE_CE", "PP"].includes(identite.role);
  $("deverrouiller").hidden = !b.verrouille || identite.role !== "CE" || b.mode === "EDITEUR";
  $("b-disciplines").replaceChildren(...Object.entries(b.acquis || {}).map(([code, a]) => {
    const tr = el("tr"); const input = el("input", undefined, "fr-input"); input.type = "text"; input.dataset.code = code;
    input.setAttribute("aria-label", "Éléments de programme en " + texte(a.discipline));
    const ep = a.elements_programme || {};
    input.value = liste(ep.valeur).join(" ; ");
    input.disabled = ep.provenance === "IMPORT" || b.verrouille || !peut("elements_programme");
    const td = el("td"); td.append(input, el("span", " " + prov(ep), "provenance"));
    tr.append(el("td", texte(a.discipline)), el("td", a.moyenne_eleve || (a.positionnement ? "Positionnement " + a.positionnement : "—")), td);
    return tr;
  }));
}
async function saisir(partie, valeur, discipline) {
  return api("PUT", "/bilans/" + courant.idBe + "/" + courant.bilan + "/parties/" + partie, { valeur, discipline });
}
$("form-bilan").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const b = courant.vue; let vue = b;
  alerte("bilan-erreur", "");
  try {
    if (!$("b-ag").disabled && $("b-ag").value.trim() !== ((b.acquis_conseils || {}).valeur || "")) vue = await saisir("acquis_conseils", $("b-ag").value.trim() || null);
    const vs = [$("b-retards").value, $("b-absj").value, $("b-absi").value];
    const avant = (b.vie_scolaire && b.vie_scolaire.valeur) || {};
    if (!$("b-retards").disabled && vs.every((v) => v !== "")) {
      const valeur = { nb_retards: +vs[0], nb_abs_justifiees: +vs[1], nb_abs_injustifiees: +vs[2] };
      if ($("b-heures").value !== "") valeur.nb_heures_manquees = +$("b-heures").value;
      if ($("b-vs-commentaire").value.trim()) valeur.commentaire = $("b-vs-commentaire").value.trim();
      const ancienne = { nb_retards: avant.nb_retards, nb_abs_justifiees: avant.nb_abs_justifiees, nb_abs_injustifiees: avant.nb_abs_injustifiees };
      if (avant.nb_heures_manquees !== undefined && avant.nb_heures_manquees !== null) ancienne.nb_heures_manquees = avant.nb_heures_manquees;
      if (avant.commentaire) ancienne.commentaire = avant.commentaire;
      if (JSON.stringify(valeur) !== JSON.stringify(ancienne)) vue = await saisir("vie_scolaire", valeur);
    }
    if (!figee(b, "parcours")) {
      const valeur = [...document.querySelectorAll("#b-parcours textarea")].filter((t) => t.value.trim())
        .map((t) => ({ code: t.dataset.code, texte: t.value.trim() }));
      const ancienne = liste(b.parcours && b.parcours.valeur).map((q) => ({ code: q.code, texte: q.texte }));
      const tri = (l) => JSON.stringify([...l].sort((x, y) => String(x.code).localeCompare(String(y.code))));
      if (tri(valeur) !== tri(ancienne)) vue = await saisir("parcours", valeur.length ? valeur : null);
    }
    for (const partie of ["epis", "acc_persos"]) {
      if (figee(b, partie)) continue;
      const valeur = lireGroupes(partie);
      if (JSON.stringify(valeur) !== JSON.stringify(groupesDe(b, partie))) vue = await saisir(partie, valeur.length ? valeur : null);
    }
    for (const input of document.querySelectorAll("#b-disciplines input")) {
      const ep = (b.acquis[input.dataset.code] || {}).elements_programme || {};
      if (!input.disabled && input.value.trim() !== liste(ep.valeur).join(" ; ")) {
        const libelles = input.value.split(";").map((x) => x.trim()).filter(Boolean);
        vue = await saisir("elements_programme", libelles.length ? libelles : null, input.dataset.code);
      }
    }
    montrerBilan(vue); $("bilan-etat").textContent += " — enregistré.";
  } catch (e) {
    // A refused entry: its French message (and what to do); the form keeps what was typed, the
    // parts saved before the refusal are the bilan's now (the next save compares with them).
    alerte("bilan-erreur", e.message);
    courant.vue = vue;
  }
});
async function verrou(methode) {
  try { montrerBilan(await api(methode, "/bilans/" + courant.idBe + "/" + courant.bilan + "/verrou")); }
  catch (e) { $("bilan-etat").textContent = e.message; }
}
$("verrouiller").addEventListener("click", () => verrou("PUT"));
$("deverrouiller").addEventListener("click", () => verrou("DELETE"));
$("bilan-pdf").addEventListener("click", () => telecharger("/bilans/" + courant.idBe + "/" + courant.bilan + "/pdf", "bilan.pdf")
  .catch((e) => { $("bilan-etat").textContent = e.message; }));

// --- paramétrage des classes ------------------------------------------------------------------------
const MODES = { EDITEUR: "Import Éditeurs", SCONET_NOTES: "Import Sconet Notes", SAISIE: "Saisie dans LSU" };
const SYSTEMES = { NOTES: "Notes", POSITIONNEMENT: "Positionnement (échelle de 1 à 4)" };
async function parametrage() {
  try {
    const { divisions } = await api("GET", "/divisions");
    $("classes").replaceChildren(...divisions.map((d) => {
      const tr = el("tr"); const sel = el("select", undefined, "fr-select"); sel.setAttribute("aria-label", "Mode de la classe " + d.code);
      Object.entries(MODES).forEach(([v, t]) => { const o = el("option", t); o.value = v; o.selected = v === d.mode_import; sel.append(o); });
      sel.addEventListener("change", async () => {
        try { await api("PUT", "/referentiel/divisions/" + encodeURIComponent(d.code) + "/mode", { mode_import: sel.value });
              $("parametrage-etat").textContent = "Classe " + d.code + " : " + MODES[sel.value] + "."; }
        catch (e) { $("parametrage-etat").textContent = e.message; }
      });
      const td = el("td"); td.append(sel);
      const eva = el("select", undefined, "fr-select"); eva.setAttribute("aria-label", "Système d'évaluation de la classe " + d.code);
      [["", "Non défini"], ...Object.entries(SYSTEMES)].forEach(([v, t]) => { const o = el("option", t); o.value = v; o.selected = v === (d.systeme_evaluation || ""); eva.append(o); });
      eva.addEventListener("change", async () => {
        try { await api("PUT", "/referentiel/divisions/" + encodeURIComponent(d.code) + "/evaluation", { systeme_evaluation: eva.value || null });
              $("parametrage-etat").textContent = "Classe " + d.code + " : système d'évaluation " + (SYSTEMES[eva.value] || "non défini") + "."; }
        catch (e) { $("parametrage-etat").textContent = e.message; }
      });
      const td2 = el("td"); td2.append(eva);
      tr.append(el("td", d.code), el("td", d.niveau), td, td2);
      return tr;
    }));
  } catch (e) { $("parametrage-etat").textContent = e.message; }
}

// --- référentiel depuis les exports SIECLE et STS Web ----------------------------------------------
const DONNEES = { eleves: "Élèves", enseignants: "Enseignants", divisions: "Classes", services: "Services d'enseignement",
                  matieres: "Matières", modalites_election: "Modalités d'élection" };
// Exports beyond this go through a deposit (the API takes at most 4 MiB inline: chalicelib/api/referentiel.py).
const LIMITES = { exportsEnLigne: 3 * 1024 * 1024 };
const base64 = (file) => new Promise((ok, ko) => { const r = new FileReader();
  r.onload = () => ok(String(r.result).split(",")[1] || ""); r.onerror = () => ko(r.error); r.readAsDataURL(file); });
$("form-exports").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const preControle = $("exports-pre-controle").checked;
  $("exports-erreurs").replaceChildren(); $("exports-alerte").hidden = true; $("exports-rapport").hidden = true;
  $("exports-etat").textContent = "Lecture des exports…";
  try {
    const choisis = [...$("exports").files];
    let corps;
    if (choisis.reduce((n, f) => n + f.size, 0) > LIMITES.exportsEnLigne) {
      // Too large for a request (API Gateway, Lambda): each file straight to S3 by its presigned form
      // (POST /referentiel/exports/depots), then the deposit is read (docs/contrats.md).
      const depot = await api("POST", "/referentiel/exports/depots", { fichiers: choisis.map((f) => ({ nom: f.name, taille: f.size })) });
      for (const [i, f] of depot.fichiers.entries()) {
        $("exports-etat").textContent = "Dépôt des exports : " + (i + 1) + " / " + depot.fichiers.length + " (" + f.nom + ")…";
        await deposer(f.upload, choisis[i], null);
      }
      corps = { depot: depot.depot, pre_controle: preControle };
    } else {
      corps = { fichiers: await Promise.all(choisis.map(async (f) => ({ nom: f.name, contenu: await base64(f) }))), pre_controle: preControle };
    }
    $("exports-etat").textContent = "Lecture des exports…";
    const r = await fetch("/referentiel/exports", { method: "POST",
      headers: { "Authorization": autorisation(), "Content-Type": "application/json" },
      body: JSON.stringify(corps) });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const erreurs = data.erreurs || [data.erreur || { code: r.status, message: "Erreur" }];
      $("exports-etat").textContent = "Référentiel inchangé : " + erreurs.length + " problème(s).";
      $("exports-erreurs").replaceChildren(...erreurs.map((e) => el("li", "[" + e.code + "] " + (e.fichier ? e.fichier + (e.ligne ? ", ligne " + e.ligne : "") + " : " : "")
        + e.message + (e.conseil ? " — Que faire ? " + e.conseil : ""))));
      $("exports-alerte").hidden = false;
      return;
    }
    const resume = data.rapport.resume || {};
    $("exports-lignes").replaceChildren(...Object.entries(DONNEES).filter(([k]) => resume[k]).map(([k, libelle]) => {
      const tr = el("tr"); tr.append(el("td", libelle), el("td", resume[k].ajoutes || 0), el("td", resume[k].modifies || 0), el("td", resume[k].supprimes || 0));
      return tr; }));
    $("exports-rapport").hidden = false;
    const ignores = (data.rapport.eleves && data.rapport.eleves.ignores) || [];
    $("exports-etat").textContent = (preControle ? "Pré-contrôle : rien n'a été enregistré." : "Référentiel mis à jour.")
      + (ignores.length ? " " + ignores.length + " élève(s) ignoré(s) : " + ignores.map((e) => e.prenom + " " + e.nom + " (" + e.motif + ")").join(", ") + "." : "");
    if (!preControle) { parametrage(); divisionsChargees = chargerDivisions(); }
  } catch (e) { $("exports-etat").textContent = e.message; }
});

// --- démarrage --------------------------------------------------------------------------------------
(async () => {
  if (COGNITO.domaine) {
    document.querySelectorAll("#connexion .lsu-connexion-dev").forEach((d) => { d.hidden = true; });
    const params = new URLSearchParams(location.search);
    if (params.get("code")) { try { await finConnexionCognito(params); } catch (e) { $("identite").textContent = e.message; } }
    else if (jeton()) connecter(jeton());
    return;
  }
  await chargerEtablissements();
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("jeton")) { history.replaceState(null, "", location.pathname + (hash.get("synthese") ? "#synthese=" + hash.get("synthese") : "")); connecter(hash.get("jeton")); }
  else if (jeton()) connecter(jeton());
  const id = new URLSearchParams(location.hash.slice(1)).get("synthese");
  if (id && identite) {
    afficher("page-import");
    try { afficherSynthese(await api("GET", "/imports/" + encodeURIComponent(id) + "/synthese")); }
    catch (e) { $("suivi").hidden = false; alerte("etat", e.message); }
  }
})();

// --- brevet 2026 ------------------------------------------------------------------------------------
const troisiemes = () => divisions.filter((d) => /^3/.test(String(d.niveau || "")));
const note = (v) => (typeof v === "number" ? v.toFixed(2).replace(".", ",") : "—");
async function brevetClasses() {
  await divisionsChargees;
  $("brevet-division").replaceChildren(...troisiemes().map((d) => { const o = el("option", d.code); o.value = d.code; return o; }));
  alerte("brevet-erreur", troisiemes().length ? "" : "Aucune classe de 3e parmi vos classes.", "info");
}
$("form-brevet").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  alerte("brevet-erreur", "");
  try {
    const t = await api("GET", "/divisions/" + encodeURIComponent($("brevet-division").value) + "/brevet");
    const matieres = liste(t.matieres).filter((m) => m && typeof m === "object");
    const tete = el("tr");
    ["Élève", "Moyenne des moyennes annuelles", "Sans moyenne", "Meilleur facultatif", ...matieres.map((m) => texte(m.libelle))]
      .forEach((h) => { const th = el("th", h); th.scope = "col"; tete.append(th); });
    $("brevet-tete").replaceChildren(tete);
    $("brevet-lignes").replaceChildren(...liste(t.eleves).filter((r) => r && typeof r === "object").map((r) => {
      const tr = el("tr"); const parMatiere = {};
      liste(r.enseignements).forEach((l) => { if (l && typeof l === "object") parMatiere[l.matiere] = l; });
      const nom = el("th", texte(r.nom) + " " + texte(r.prenom)); nom.scope = "row"; tr.append(nom);
      const libelles = Object.fromEntries(matieres.map((m) => [m.matiere, m.libelle]));
      const fac = r.facultatif && typeof r.facultatif === "object" ? r.facultatif : null;
      tr.append(el("td", r.formation_connue === false ? "formation inconnue" : note(r.moyenne)),
                el("td", liste(r.manquants).map((c) => libelles[c] || String(c)).join(", "), liste(r.manquants).length ? "erreur" : ""),
                el("td", fac ? texte(fac.libelle) + " (+" + note(fac.points) + ")" : ""));
      matieres.forEach((m) => {
        const l = parMatiere[m.matiere];
        tr.append(el("td", !l ? "" : l.dispense ? "dispensé" : note(l.moyenne) + (l.estimee && typeof l.moyenne === "number" ? " (estimée)" : "")));
      });
      return tr;
    }));
  } catch (e) { alerte("brevet-erreur", e.message); $("brevet-lignes").replaceChildren(); }
});
$("brevet-csv").addEventListener("click", () => {
  const code = $("brevet-division").value;
  telecharger("/divisions/" + encodeURIComponent(code) + "/brevet?format=csv", "brevet-2026-" + code + ".csv")
    .catch((e) => { alerte("brevet-erreur", e.message); });
});
