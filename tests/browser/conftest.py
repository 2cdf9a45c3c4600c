"""Browser tier: Playwright for Python driving Debian's Chromium (never `playwright install`)."""
from __future__ import annotations

import os

import pytest

CHROMIUM = os.environ.get("LSU_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


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
    yield pg
    context.close()


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
