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
