// Copies the parts of the DSFR (@gouvfr/dsfr, pinned by package-lock.json) that the page uses into
// chalicelib/api/static/dsfr/ (git-ignored; Chalice packages the whole chalicelib/ folder).
// Offline: it reads node_modules only. The API serves that folder flat (GET /dsfr/{nom}), so the
// CSS's relative urls (fonts/…, icons/<groupe>/…) are rewritten to flat names, and every file the
// CSS names is copied: nothing it asks for is missing. A manifest lists the files (an allow-list).
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "node_modules", "@gouvfr", "dsfr", "dist");
const out = join(here, "..", "chalicelib", "api", "static", "dsfr");

if (!existsSync(join(dist, "dsfr.min.css"))) {
  console.error("DSFR absent : lancez d'abord `npm ci --prefix front` (ou `make front`).");
  process.exit(1);
}
const version = JSON.parse(readFileSync(join(here, "node_modules", "@gouvfr", "dsfr", "package.json"), "utf8")).version;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const SAFE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const files = {};
function copy(source, name) {
  if (!SAFE.test(name)) throw new Error("nom de fichier refusé : " + name);
  if (files[name] && files[name] !== source) throw new Error("deux fichiers pour un même nom : " + name);
  copyFileSync(join(dist, source), join(out, name));
  files[name] = source;
}

// The stylesheet: every non-data url() becomes a flat name next to it.
let css = readFileSync(join(dist, "dsfr.min.css"), "utf8");
css = css.replace(/url\((["']?)([^"')]+)\1\)/g, (all, quote, ref) => {
  if (ref.startsWith("data:")) return all;
  const clean = ref.split(/[?#]/)[0];
  const name = clean.startsWith("fonts/") ? clean.slice("fonts/".length)
    : clean.startsWith("icons/") ? "icone-" + clean.slice("icons/".length).replace(/\//g, "-")
    : null;
  if (!name) throw new Error("url inattendue dans dsfr.min.css : " + ref);
  copy(clean, name);
  return "url(" + name + ")";
});
css = css.replace(/\/\*# sourceMappingURL=[^*]*\*\//g, "");
writeFileSync(join(out, "dsfr.min.css"), css);
files["dsfr.min.css"] = "dsfr.min.css (urls aplaties)";

const js = readFileSync(join(dist, "dsfr.module.min.js"), "utf8").replace(/\/\/# sourceMappingURL=\S+/g, "");
writeFileSync(join(out, "dsfr.module.min.js"), js);
files["dsfr.module.min.js"] = "dsfr.module.min.js";
copy("favicon/favicon.svg", "favicon.svg");
// The page's own few rules (front/lsu.css), next to the DSFR's.
copyFileSync(join(here, "lsu.css"), join(out, "lsu.css"));
files["lsu.css"] = "front/lsu.css";

const digest = (name) => createHash("sha256").update(readFileSync(join(out, name))).digest("hex").slice(0, 16);
const manifest = { dsfr: version, fichiers: Object.fromEntries(Object.keys(files).sort().map((n) => [n, digest(n)])) };
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 1) + "\n");
console.log(`DSFR ${version} : ${Object.keys(files).length} fichiers dans chalicelib/api/static/dsfr/`);
