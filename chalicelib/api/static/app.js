"use strict";
// LSU — Bilans : interface web (français). Toutes les données passent par l'API, avec le jeton.
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = text; if (cls) e.className = cls; return e; };
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
  if (!r.ok) { const e = data.erreur || {}; const err = new Error("[" + (e.code || r.status) + "] " + (e.message || "Erreur")); err.status = r.status; throw err; }
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
    if (!b.hidden && !premiere) premiere = b.dataset.page;
  });
  afficher(premiere);
  chargerDivisions();
  if (!document.querySelector("#menu button[data-page=page-historique]").hidden) historique();
}
function afficher(page) {
  document.querySelectorAll(".page").forEach((p) => { p.hidden = p.id !== page; });
  document.querySelectorAll("#menu button").forEach((b) => b.setAttribute("aria-current", b.dataset.page === page ? "page" : "false"));
  if (page === "page-parametrage") parametrage();
}
document.querySelectorAll("#menu button").forEach((b) => b.addEventListener("click", () => afficher(b.dataset.page)));

// --- import ----------------------------------------------------------------------------------------
function deposer(upload, fichier) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    Object.entries(upload.fields).forEach(([k, v]) => form.append(k, v));
    form.append("file", fichier);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", upload.url);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) $("barre-depot").value = 100 * e.loaded / e.total; };
    xhr.onload = () => xhr.status < 300 ? resolve() : reject(new Error("Le dépôt du fichier a été refusé (HTTP " + xhr.status + ")."));
    xhr.onerror = () => reject(new Error("Dépôt du fichier impossible (réseau)."));
    xhr.send(form);
  });
}
async function suivre(id) {
  for (;;) {
    const s = await api("GET", "/imports/" + encodeURIComponent(id));
    const p = s.progression;
    $("barre-traitement").max = p.total || 1; $("barre-traitement").value = p.traites;
    $("etat").textContent = s.statut + " — " + p.traites + " / " + (p.total ?? "?") + " bilans traités";
    if (s.statut === "TERMINE" || s.statut === "FICHIER_REJETE") return;
    await new Promise((r) => setTimeout(r, 500));
  }
}
$("form-import").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const fichier = $("fichier").files[0]; if (!fichier) return;
  $("importer").disabled = true; $("suivi").hidden = false; $("barre-depot").value = 0; $("barre-traitement").value = 0; $("etat").className = "";
  try {
    $("etat").textContent = "Création de l'import…";
    const cree = await api("POST", "/imports", { nom_fichier: fichier.name, taille: fichier.size, pre_controle: $("pre-controle").checked });
    $("etat").textContent = "Dépôt du fichier…";
    await deposer(cree.upload, fichier);
    await suivre(cree.import_id);
    afficherSynthese(await api("GET", "/imports/" + encodeURIComponent(cree.import_id) + "/synthese"));
    historique();
  } catch (e) { $("etat").textContent = e.message; $("etat").className = "erreur"; }
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
  const t = s.totaux; $("totaux").replaceChildren(
    el("span", "Bilans : " + t.bilans), el("span", "Importés : " + t.importes), el("span", "dont mis à jour : " + t.mis_a_jour),
    el("span", "Inchangés : " + t.inchanges), el("span", "Rejetés : " + t.rejetes), el("span", "Avec avertissement : " + t.avertissements));
  $("erreurs-fichier").replaceChildren(...[...s.messages, ...s.erreurs_fichier].map((m) =>
    el("li", "[" + m.code + "]" + (m.ligne ? " ligne " + m.ligne : "") + " : " + m.message + (m.conseil ? " — Que faire ? " + m.conseil : ""))));
  $("codes").textContent = Object.keys(s.codes || {}).length
    ? "Bilans par code : " + Object.entries(s.codes).map(([c, n]) => c + " " + n).join(", ") : "";
  const divisions = [...new Set(s.bilans.map((b) => b.division))];
  options($("filtre-division"), divisions, "Toutes");
  options($("filtre-niveau"), [...new Set(divisions.map(niveauDe))], "Tous");
  options($("filtre-code"), Object.keys(s.codes || {}), "Tous");
  remplirBilans();
}
function remplirBilans() {
  if (!synthese) return;
  const d = $("filtre-division").value, n = $("filtre-niveau").value, st = $("filtre-statut").value, c = $("filtre-code").value;
  const lignes = synthese.bilans.filter((b) => (!d || b.division === d) && (!n || niveauDe(b.division) === n) && (!st || b.statut === st)
                                             && (!c || b.messages.some((m) => m.code === c))).map((b) => {
    const tr = el("tr");
    const bilan = b.type === "periodique" ? "Période " + b.periode.indice + "/" + b.periode.nb_periodes : "Fin de cycle " + b.cycle;
    tr.append(el("td", b.division), el("td", b.nom + " " + b.prenom), el("td", bilan), el("td", b.statut, b.statut),
              el("td", b.messages.map((m) => "[" + m.code + "] " + m.message + (m.conseil ? " Que faire ? " + m.conseil : "")).join("\n")));
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
      const tr = el("tr"); const b = el("button", "Ouvrir la synthèse");
      b.addEventListener("click", async () => { afficher("page-import"); afficherSynthese(await api("GET", "/imports/" + encodeURIComponent(i.import_id) + "/synthese")); });
      const td = el("td"); td.append(b);
      tr.append(el("td", i.cree_le), el("td", i.fichier.nom), el("td", i.cree_par || ""), el("td", i.statut), el("td", i.totaux.bilans),
                el("td", i.totaux.importes), el("td", i.totaux.rejetes), td);
      return tr;
    }));
  } catch (e) { $("historique").replaceChildren(); }
}

// --- recherche de bilans ----------------------------------------------------------------------------
let divisions = [];
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
  try {
    const { bilans } = await api("GET", "/bilans?" + q);
    $("resultats").replaceChildren(...bilans.map((b) => {
      const tr = el("tr");
      const libelle = b.type === "periodique" ? "Période " + b.periode.indice + "/" + b.periode.nb_periodes : "Fin de cycle " + b.cycle;
      const ouvrir = el("button", "Ouvrir"); ouvrir.addEventListener("click", () => ouvrirBilan(b.id_be, b.bilan));
      const pdf = el("button", "PDF", "secondaire");
      pdf.addEventListener("click", () => telecharger("/bilans/" + b.id_be + "/" + b.bilan + "/pdf", "bilan-" + b.nom + "-" + b.prenom + "-" + b.bilan + ".pdf"));
      const td = el("td"); td.append(ouvrir, " ", pdf);
      tr.append(el("td", b.division), el("td", b.nom + " " + b.prenom), el("td", libelle), el("td", b.mode),
                el("td", b.verrouille ? "Verrouillé" : (b.statut === "COMPLET" ? "Complet" : "À compléter")), td);
      return tr;
    }));
  } catch (e) { $("resultats").replaceChildren(el("tr", e.message, "erreur")); }
});
$("pdf-classe").addEventListener("click", () => {
  const q = new URLSearchParams(); if ($("r-bilan").value) q.set("bilan", $("r-bilan").value);
  telecharger("/divisions/" + encodeURIComponent($("r-division").value) + "/pdf?" + q, "bilans-" + $("r-division").value + ".pdf")
    .catch((e) => { $("resultats").replaceChildren(el("tr", e.message, "erreur")); });
});

// --- compléter un bilan -----------------------------------------------------------------------------
let courant = null;
// Which parts each role enters (the API enforces it; the form only offers what is allowed).
const PARTIES = { CE: ["acquis_conseils", "vie_scolaire", "parcours", "elements_programme"],
                  DELEGUE_CE: ["acquis_conseils", "vie_scolaire", "parcours", "elements_programme"],
                  PP: ["acquis_conseils", "elements_programme"], CPE: ["vie_scolaire"], ENSEIGNANT: ["elements_programme"] };
const peut = (partie) => (PARTIES[identite.role] || []).includes(partie);
const prov = (p) => p.provenance === "IMPORT" ? "importé (non modifiable)" : p.provenance === "SAISIE" ? "saisi par " + p.par + " le " + p.le : "à saisir";
async function ouvrirBilan(idBe, bilan) {
  courant = { idBe, bilan };
  afficher("page-bilan");
  try { montrerBilan(await api("GET", "/bilans/" + idBe + "/" + bilan)); } catch (e) { $("bilan-etat").textContent = e.message; }
}
function montrerBilan(b) {
  courant.vue = b;
  const e = b.eleve || {};
  $("bilan-titre").textContent = e.prenom + " " + e.nom + " — classe " + e.division + " — " +
    (b.type === "periodique" ? "période " + b.periode.indice + "/" + b.periode.nb_periodes : "fin de cycle " + b.cycle) + " — mode " + b.mode;
  $("bilan-etat").textContent = (b.verrouille ? "Verrouillé" : "Non verrouillé") + " — " + (b.statut === "COMPLET" ? "complet" : "à compléter");
  $("bilan-manquants").replaceChildren(...(b.manquants || []).map((m) => el("li", "Manque : " + m)));
  $("b-ag").value = b.acquis_conseils.valeur || ""; $("p-ag").textContent = prov(b.acquis_conseils);
  $("b-ag").disabled = b.acquis_conseils.provenance === "IMPORT" || b.verrouille || !peut("acquis_conseils");
  const vs = b.vie_scolaire.valeur || {};
  $("b-retards").value = vs.nb_retards ?? ""; $("b-absj").value = vs.nb_abs_justifiees ?? ""; $("b-absi").value = vs.nb_abs_injustifiees ?? "";
  $("p-vs").textContent = prov(b.vie_scolaire);
  ["b-retards", "b-absj", "b-absi"].forEach((id) => { $(id).disabled = b.vie_scolaire.provenance === "IMPORT" || b.verrouille || !peut("vie_scolaire"); });
  const cit = (b.parcours.valeur || []).find((p) => p.code === "PAR_CIT");
  $("b-parcours").value = cit ? cit.texte : ""; $("p-parcours").textContent = prov(b.parcours);
  $("b-parcours").disabled = b.parcours.provenance === "IMPORT" || b.verrouille || !peut("parcours");
  $("verrouiller").hidden = b.verrouille || !["CE", "DELEGUE_CE", "PP"].includes(identite.role);
  $("deverrouiller").hidden = !b.verrouille || identite.role !== "CE" || b.mode === "EDITEUR";
  $("b-disciplines").replaceChildren(...Object.entries(b.acquis || {}).map(([code, a]) => {
    const tr = el("tr"); const input = el("input"); input.type = "text"; input.dataset.code = code;
    input.setAttribute("aria-label", "Éléments de programme en " + a.discipline);
    input.value = (a.elements_programme.valeur || []).join(" ; ");
    input.disabled = a.elements_programme.provenance === "IMPORT" || b.verrouille || !peut("elements_programme");
    const td = el("td"); td.append(input, el("span", " " + prov(a.elements_programme), "provenance"));
    tr.append(el("td", a.discipline), el("td", a.moyenne_eleve || (a.positionnement ? "Positionnement " + a.positionnement : "—")), td);
    return tr;
  }));
}
async function saisir(partie, valeur, discipline) {
  return api("PUT", "/bilans/" + courant.idBe + "/" + courant.bilan + "/parties/" + partie, { valeur, discipline });
}
$("form-bilan").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const b = courant.vue; let vue = b;
  try {
    if (!$("b-ag").disabled && $("b-ag").value.trim() !== (b.acquis_conseils.valeur || "")) vue = await saisir("acquis_conseils", $("b-ag").value.trim() || null);
    const vs = [$("b-retards").value, $("b-absj").value, $("b-absi").value];
    if (!$("b-retards").disabled && vs.every((v) => v !== "") && JSON.stringify(vs.map(Number)) !==
        JSON.stringify([b.vie_scolaire.valeur?.nb_retards, b.vie_scolaire.valeur?.nb_abs_justifiees, b.vie_scolaire.valeur?.nb_abs_injustifiees]))
      vue = await saisir("vie_scolaire", { nb_retards: +vs[0], nb_abs_justifiees: +vs[1], nb_abs_injustifiees: +vs[2] });
    const cit = (b.parcours.valeur || []).find((p) => p.code === "PAR_CIT");
    if (!$("b-parcours").disabled && $("b-parcours").value.trim() !== (cit ? cit.texte : ""))
      vue = await saisir("parcours", $("b-parcours").value.trim() ? [{ code: "PAR_CIT", texte: $("b-parcours").value.trim() }] : null);
    for (const input of document.querySelectorAll("#b-disciplines input")) {
      const avant = (b.acquis[input.dataset.code].elements_programme.valeur || []).join(" ; ");
      if (!input.disabled && input.value.trim() !== avant) {
        const liste = input.value.split(";").map((x) => x.trim()).filter(Boolean);
        vue = await saisir("elements_programme", liste.length ? liste : null, input.dataset.code);
      }
    }
    montrerBilan(vue); $("bilan-etat").textContent += " — enregistré.";
  } catch (e) { $("bilan-etat").textContent = e.message; }
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
async function parametrage() {
  try {
    const { divisions } = await api("GET", "/divisions");
    $("classes").replaceChildren(...divisions.map((d) => {
      const tr = el("tr"); const sel = el("select"); sel.setAttribute("aria-label", "Mode de la classe " + d.code);
      Object.entries(MODES).forEach(([v, t]) => { const o = el("option", t); o.value = v; o.selected = v === d.mode_import; sel.append(o); });
      sel.addEventListener("change", async () => {
        try { await api("PUT", "/referentiel/divisions/" + encodeURIComponent(d.code) + "/mode", { mode_import: sel.value });
              $("parametrage-etat").textContent = "Classe " + d.code + " : " + MODES[sel.value] + "."; }
        catch (e) { $("parametrage-etat").textContent = e.message; }
      });
      const td = el("td"); td.append(sel);
      tr.append(el("td", d.code), el("td", d.niveau), td);
      return tr;
    }));
  } catch (e) { $("parametrage-etat").textContent = e.message; }
}

// --- référentiel depuis les exports SIECLE et STS Web ----------------------------------------------
const DONNEES = { eleves: "Élèves", enseignants: "Enseignants", divisions: "Classes", services: "Services d'enseignement",
                  matieres: "Matières", modalites_election: "Modalités d'élection" };
const base64 = (file) => new Promise((ok, ko) => { const r = new FileReader();
  r.onload = () => ok(String(r.result).split(",")[1] || ""); r.onerror = () => ko(r.error); r.readAsDataURL(file); });
$("form-exports").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const preControle = $("exports-pre-controle").checked;
  $("exports-erreurs").replaceChildren(); $("exports-rapport").hidden = true;
  $("exports-etat").textContent = "Lecture des exports…";
  try {
    const fichiers = await Promise.all([...$("exports").files].map(async (f) => ({ nom: f.name, contenu: await base64(f) })));
    const r = await fetch("/referentiel/exports", { method: "POST",
      headers: { "Authorization": autorisation(), "Content-Type": "application/json" },
      body: JSON.stringify({ fichiers, pre_controle: preControle }) });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const erreurs = data.erreurs || [data.erreur || { code: r.status, message: "Erreur" }];
      $("exports-etat").textContent = "Référentiel inchangé : " + erreurs.length + " problème(s).";
      $("exports-erreurs").replaceChildren(...erreurs.map((e) => el("li", "[" + e.code + "] " + (e.fichier ? e.fichier + (e.ligne ? ", ligne " + e.ligne : "") + " : " : "")
        + e.message + (e.conseil ? " — Que faire ? " + e.conseil : ""))));
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
    if (!preControle) { parametrage(); chargerDivisions(); }
  } catch (e) { $("exports-etat").textContent = e.message; }
});

// --- démarrage --------------------------------------------------------------------------------------
(async () => {
  if (COGNITO.domaine) {
    document.querySelectorAll("#connexion .ligne > div:not(:last-child)").forEach((d) => { d.hidden = true; });
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
    catch (e) { $("suivi").hidden = false; $("etat").textContent = e.message; $("etat").className = "erreur"; }
  }
})();
