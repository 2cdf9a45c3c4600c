"""Browser tier: Playwright for Python driving Debian's Chromium (never `playwright install`).

The page is the DSFR one (front/, built by `make front`): every test checks that the browser
reported no Content-Security-Policy violation, and `axe` runs axe-core (front/node_modules) on the
screen shown — zero violations of impact serious or critical."""
from __future__ import annotations

import os
import warnings
from collections import Counter
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LSU_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "front" / "node_modules" / "axe-core" / "axe.min.js"
DSFR_MANIFEST = ROOT / "chalicelib" / "api" / "static" / "dsfr" / "manifest.json"
DOCS = ROOT / "docs"
# Where the tests serve axe-core from: the page's origin (its CSP allows no other script source).
AXE_PATH = "/__tests__/axe.min.js"


@pytest.fixture(scope="session", autouse=True)
def front_built():
    """The DSFR files and axe-core, from `make front` (npm ci then node front/build.mjs)."""
    missing = [str(p.relative_to(ROOT)) for p in (DSFR_MANIFEST, AXE) if not p.exists()]
    if missing:
        pytest.fail("Front non construit (" + ", ".join(missing) + ") : lancez `make front`.")
    import app as app_module
    from chalicelib.api import web
    if "/dsfr/{name}" not in app_module.app.routes:   # until app.py has the route (issue 16): same handler
        warnings.warn("app.py n'a pas la route GET /dsfr/{name} : ajoutée le temps des tests du navigateur.")

        @app_module.app.route("/dsfr/{name}", methods=["GET"])
        def dsfr(name):
            return web.dsfr_asset(name)
    for t in web.BINARY_TYPES:
        if t not in app_module.app.api.binary_types:
            app_module.app.api.binary_types.append(t)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium absent ({CHROMIUM}) : `make test` l'installe (apt-get install chromium).")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="fr-FR")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    violations: list[str] = []
    pg.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    yield pg
    context.close()
    assert not violations, f"violations de la politique de sécurité du contenu : {violations}"


@pytest.fixture
def login(page, stack):
    """Log in through the development login form, as a person would."""
    def do(uai: str, role: str = "CE", id_sts: str | None = None):
        page.goto(stack.api_url + "/")
        page.select_option("#etablissement", uai)
        page.select_option("#role", role)
        if id_sts:
            page.select_option("#personne", id_sts)
        page.click("#se-connecter")
        page.wait_for_selector("#menu:not([hidden])")
        return page
    return do


@pytest.fixture
def axe(page, stack):
    """`axe("import")`: axe-core on the page as shown; prints the violations' counts by impact and
    fails on any serious or critical one. axe is served from the page's origin by Playwright (the
    CSP forbids inline scripts, so `add_script_tag(path=…)` would be refused)."""
    page.route(stack.api_url + AXE_PATH, lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))

    def run(screen: str) -> list[dict]:
        if not page.evaluate("typeof window.axe === 'object'"):
            page.add_script_tag(url=stack.api_url + AXE_PATH)
        found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map((v) => ({id: v.id, impact: v.impact, help: v.help, noeuds: v.nodes.slice(0, 5).map((n) => n.target.join(" "))}))""")
        counts = Counter(v["impact"] or "?" for v in found)
        print(f"axe [{screen}] : {len(found)} violation(s) — " + (", ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "aucune"))
        for v in found:
            print(f"    {v['impact']} {v['id']} : {v['help']} {v['noeuds']}")
        grave = [v for v in found if v["impact"] in ("serious", "critical")]
        assert not grave, f"axe [{screen}] : violations graves {grave}"
        return found
    return run


@pytest.fixture
def screenshot(page):
    """`screenshot("synthese")` writes docs/ecran-synthese.png when LSU_SCREENSHOT is set (make screenshot)."""
    def take(name: str, full_page: bool = False) -> None:
        if os.environ.get("LSU_SCREENSHOT"):
            page.screenshot(path=str(DOCS / f"ecran-{name}.png"), full_page=full_page)
    return take
