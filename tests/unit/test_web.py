"""The page served by the API: in local, no Cognito; on AWS, the login domain and client."""
from __future__ import annotations

from chalicelib.api import web
from chalicelib.config import Settings


def test_local_page_has_no_cognito_login():
    body = web.index_page(Settings.from_env({})).body
    assert 'lang="fr"' in body and "lsu-cognito" not in body


def test_aws_page_names_its_login_domain_and_client_escaped():
    settings = Settings.from_env({"LSU_COGNITO_DOMAIN": "https://lsu-prod.auth.eu-west-3.amazoncognito.com/",
                                  "LSU_COGNITO_CLIENT_ID": 'abc"><script>'})
    body = web.index_page(settings).body
    assert '<meta name="lsu-cognito-domaine" content="https://lsu-prod.auth.eu-west-3.amazoncognito.com">' in body
    assert '<meta name="lsu-cognito-client" content="abc&quot;&gt;&lt;script&gt;">' in body
    assert body.index("lsu-cognito-client") < body.index("</head>")


def test_settings_carry_the_login_to_the_environment():
    env = Settings.from_env({"LSU_COGNITO_DOMAIN": "https://d", "LSU_COGNITO_CLIENT_ID": "c"}).as_env()
    assert (env["LSU_COGNITO_DOMAIN"], env["LSU_COGNITO_CLIENT_ID"]) == ("https://d", "c")
    assert "LSU_COGNITO_DOMAIN" not in Settings.from_env({}).as_env()


def test_development_login_is_a_french_404_off_the_local_stage():
    import json
    from types import SimpleNamespace

    from chalicelib.api import dev as api
    rt = SimpleNamespace(settings=Settings.from_env({"LSU_STAGE": "prod"}))
    request = SimpleNamespace(json_body={"uai": "0750001A", "role": "CE"})
    for route in (api.dev_login, api.dev_schools):
        r = route(request, rt)
        assert r.status_code == 404 and json.loads(r.body)["erreur"]["code"] == "NOT_FOUND"


def test_development_login_refuses_a_teacher_without_sts_id_in_french():
    import json
    from types import SimpleNamespace

    from chalicelib.api import dev as api
    rt = SimpleNamespace(settings=Settings.from_env({}))
    r = api.dev_login(SimpleNamespace(json_body={"uai": "0750001A", "role": "PP"}), rt)
    assert r.status_code == 400 and "identifiant STS" in json.loads(r.body)["erreur"]["message"]


# --- issue 16: security headers on every page and asset, the DSFR files (allow-list, French 404) ---

import json as _json
import re as _re
from dataclasses import replace as _replace
from pathlib import Path as _Path

import pytest as _pytest

_DSFR = _Path(web.__file__).parent / "static" / "dsfr"


def _csp(headers) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in headers["Content-Security-Policy"].split(";")) if d}


def _assert_secure(headers) -> dict[str, list[str]]:
    csp = _csp(headers)
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["font-src"] == ["'self'"] and csp["img-src"] == ["'self'", "data:"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert not any("unsafe" in v or v == "*" for values in csp.values() for v in values)
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "same-origin"
    return csp


def test_the_page_and_its_script_carry_the_security_headers():
    page = web.index_page(Settings.from_env({}))
    csp = _assert_secure(page.headers)
    # The page talks to its API and to S3's presigned form only (AWS: the bucket's names).
    assert csp["connect-src"] == ["'self'", "https://lsu-import-fichiers.s3.amazonaws.com",
                                  "https://lsu-import-fichiers.s3.eu-west-3.amazonaws.com"]
    _assert_secure(web.static("app.js").headers)
    assert web.static("app.js").headers["Content-Type"].startswith("application/javascript")


def test_the_page_connects_to_the_local_endpoint_and_to_cognito_only_by_their_origins():
    s = Settings.from_env({"LSU_AWS_ENDPOINT_URL": "http://127.0.0.1:5000/x", "LSU_COGNITO_DOMAIN": "https://lsu.auth.test/",
                           "LSU_COGNITO_CLIENT_ID": "c"})
    assert _csp(web.index_page(s).headers)["connect-src"] == ["'self'", "http://127.0.0.1:5000", "https://lsu.auth.test"]
    hostile = _replace(s, cognito_domain="javascript:alert(1); script-src *")
    assert _csp(web.index_page(hostile).headers)["connect-src"] == ["'self'", "http://127.0.0.1:5000"]


def test_the_page_has_no_inline_script_nor_style_nor_third_party_origin():
    body = web.index_page(Settings.from_env({})).body
    assert _re.findall(r"<script[^>]*>", body) == ['<script type="module" src="/dsfr/dsfr.module.min.js">',
                                                   '<script src="/app.js">']
    assert "<style" not in body and " style=" not in body
    assert not _re.search(r"\son[a-z]+\s*=", body), "no inline event handler"
    assert not _re.search(r"(src|href)=\"(https?:)?//", body), "no third-party origin"
    assert '<html lang="fr"' in body and "Livret scolaire unique — Bilans" in body


@_pytest.mark.parametrize("name", ["", "..", "../app.js", "..%2Fapp.js", "fonts/Marianne-Bold.woff2", ".hidden.css",
                                   "manifest.json", "index.html", "absent.css", "dsfr.min.css\x00.js", "a" * 300])
def test_a_file_outside_the_dsfr_allow_list_is_a_french_404(name):
    r = web.dsfr_asset(name)
    assert r.status_code == 404 and _json.loads(r.body)["erreur"]["message"].startswith("Fichier introuvable")
    assert len(_json.loads(r.body)["erreur"]["message"]) < 120
    _assert_secure(r.headers)


def test_the_allow_list_is_the_manifest_of_safe_flat_names(monkeypatch, tmp_path):
    web.dsfr_manifest.cache_clear()
    monkeypatch.setattr(web, "_files", lambda: tmp_path)
    (tmp_path / "dsfr").mkdir()
    (tmp_path / "dsfr" / "manifest.json").write_text(_json.dumps({"fichiers": {"ok.css": "x", "../app.js": "x", ".x.css": "x"}}))
    (tmp_path / "dsfr" / "ok.css").write_text("body{}")
    (tmp_path / "dsfr" / "pas-liste.css").write_text("body{}")
    try:
        assert web.dsfr_manifest() == {"ok.css"}
        assert web.dsfr_asset("ok.css").status_code == 200 and web.dsfr_asset("ok.css").body == "body{}"
        assert web.dsfr_asset("pas-liste.css").status_code == 404
    finally:
        web.dsfr_manifest.cache_clear()


@_pytest.mark.skipif(not (_DSFR / "manifest.json").exists(), reason="front non construit (make front)")
def test_the_built_dsfr_files_are_served_with_their_types_and_headers():
    web.dsfr_manifest.cache_clear()
    names = web.dsfr_manifest()
    assert {"dsfr.min.css", "dsfr.module.min.js", "lsu.css", "favicon.svg", "Marianne-Regular.woff2"} <= names
    css = web.dsfr_asset("dsfr.min.css")
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    _assert_secure(css.headers)
    # Every url the stylesheet names is a file of the allow-list (build.mjs flattens them).
    refs = {u.strip("'\"") for u in _re.findall(r"url\(([^)]+)\)", css.body) if not u.strip("'\"").startswith("data:")}
    assert refs and refs <= names
    font = web.dsfr_asset("Marianne-Regular.woff2")
    assert font.headers["Content-Type"] == "font/woff2" and font.body[:4] == b"wOF2"
    assert web.dsfr_asset("favicon.svg").headers["Content-Type"] == "image/svg+xml"


def test_app_routes_the_dsfr_files_and_encodes_the_fonts():
    """app.py (the lead's): GET /dsfr/{name} → web.dsfr_asset, the fonts as binary types."""
    import app as app_module
    assert "/dsfr/{name}" in app_module.app.routes
    assert set(web.BINARY_TYPES) <= set(app_module.app.api.binary_types)
