"""The LocalStack tier's own tests (`make test-localstack`): S3 on LocalStack enforces the
presigned POST's policy, which moto ignores. They need an S3 that enforces it: run on moto alone,
they fail with a French message, never skip."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _policies_enforced(s3_enforces_post_policy):
    if not s3_enforces_post_policy:
        pytest.fail("Ces tests demandent un S3 qui applique la politique des formulaires de dépôt (LocalStack, "
                    "AWS) : lancez « make test-localstack » (ou définissez LSU_TEST_ENDPOINT_S3).")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never `playwright install`), as in tests/browser."""
    import os

    from playwright.sync_api import sync_playwright
    chromium = os.environ.get("LSU_CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(chromium):
        pytest.fail(f"Chromium absent ({chromium}) : `make test` l'installe (apt-get install chromium).")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser, stack):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()
