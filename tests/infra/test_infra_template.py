"""Facts of the synthesized CloudFormation templates (infra/cdk.out, written by `make synth`).

Each check is a function returning the list of what is wrong with a template; the tests assert
that list is empty for every stage's template, and — so that no check passes vacuously — that it
is not empty for a copy of the template broken on purpose."""
from __future__ import annotations

import copy
import fnmatch
import json
import re
import tempfile
import zipfile
from pathlib import Path

import pytest

from chalicelib.api.auth import ROLES
from chalicelib.config import DEFAULT_NAMES, Settings, UPLOAD_PREFIX
from chalicelib.config import QUEUE_SETTINGS, dlq_name
from chalicelib.adapters.dynamodb import bind_models
from chalicelib.pipeline.handoff import REPORT_REQUEST_STALE_SECONDS
from chalicelib import observability

ROOT = Path(__file__).resolve().parents[2]
CDK_OUT = ROOT / "infra" / "cdk.out"
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
DEPLOYED_STAGES = [s for s in CONFIG["stages"] if s != "local"]
PUBLIC_ROUTES = {("/", "get"), ("/app.js", "get")}
PUBLIC_API_ROUTES = {("/openapi.json", "get")}       # no token, served by the API itself
DATA_SERVICES = ("s3:", "sqs:", "dynamodb:")
# Handler → the queue (by its role in the stage's names) it must consume.
CONSUMERS = {"app.on_upload": "LSU_UPLOADS_QUEUE", "app.on_bilans": "LSU_BILANS_QUEUE",
             "app.on_bilans_dead_letters": "LSU_BILANS_QUEUE/dlq", "app.on_report": "LSU_REPORT_QUEUE"}


def load_template(stage: str) -> dict:
    path = CDK_OUT / f"{stage}.template.json"
    if not path.is_file():
        pytest.fail(f"{path} absent : lancer `make synth` (les tests lisent le modèle synthétisé)", pytrace=False)
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(params=DEPLOYED_STAGES)
def stage(request) -> str:
    return request.param


@pytest.fixture
def template(stage) -> dict:
    return load_template(stage)


def env_of(stage: str) -> dict:
    return {**CONFIG.get("environment_variables", {}), **CONFIG["stages"][stage]["environment_variables"]}


# --- helpers -------------------------------------------------------------------------------------

def resources(t: dict, type_: str) -> dict:
    return {k: r for k, r in t["Resources"].items() if r["Type"] == type_}


def getatt_target(value, attribute: str = "Arn") -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target, attr = value["Fn::GetAtt"]
        return target if attr == attribute else None
    return None


def listify(x) -> list:
    return x if isinstance(x, list) else [x]


def sqs_events(t: dict):
    """(function id, handler, event name, event properties) of every SQS event source: SAM
    events of functions and plain event source mappings alike."""
    for fid, fn in resources(t, "AWS::Serverless::Function").items():
        for name, ev in (fn["Properties"].get("Events") or {}).items():
            if ev.get("Type") == "SQS":
                yield fid, fn["Properties"]["Handler"], name, ev.get("Properties", {})
    for eid, esm in resources(t, "AWS::Lambda::EventSourceMapping").items():
        p = esm["Properties"]
        yield eid, None, eid, {**p, "Queue": p.get("EventSourceArn")}


def queue_name(t: dict, logical_id: str) -> str | None:
    r = t["Resources"].get(logical_id)
    return r["Properties"].get("QueueName") if r and r["Type"] == "AWS::SQS::Queue" else None


def public_routes(paths: dict) -> set[tuple[str, str]]:
    """The page and its script, and any GET of a front file (`/dsfr/{name}`: a top-level name of
    chalicelib/api/static/): no token."""
    static = {p.name for p in (ROOT / "chalicelib" / "api" / "static").iterdir()}
    return PUBLIC_ROUTES | PUBLIC_API_ROUTES | {(path, "get") for path, methods in paths.items()
                            if "get" in methods and path.strip("/").partition("/")[0] in static}


# --- checks --------------------------------------------------------------------------------------

def check_report_batch_item_failures(t: dict, stage: str) -> list[str]:
    problems = []
    events = list(sqs_events(t))
    handlers = {h for _, h, _, _ in events}
    if handlers != set(CONSUMERS):
        problems.append(f"consommateurs SQS {sorted(h or '?' for h in handlers)} ≠ {sorted(CONSUMERS)}")
    for fid, handler, name, p in events:
        if p.get("FunctionResponseTypes") != ["ReportBatchItemFailures"]:
            problems.append(f"{fid}.{name} : FunctionResponseTypes = {p.get('FunctionResponseTypes')}")
    return problems


def check_event_sources_bound_to_stage_queues(t: dict, stage: str) -> list[str]:
    env, problems = env_of(stage), []
    for fid, handler, name, p in sqs_events(t):
        target = getatt_target(p.get("Queue"))
        actual = queue_name(t, target) if target else None
        key, _, dlq = CONSUMERS.get(handler, "?/").partition("/")
        expected = env.get(key)
        if expected and dlq:
            expected = dlq_name(expected)
        if actual is None or actual != expected:
            problems.append(f"{fid}.{name} lit {p.get('Queue')!r} ({actual}), attendu la file {expected}")
        if actual in {DEFAULT_NAMES[k] for k in ("LSU_UPLOADS_QUEUE", "LSU_BILANS_QUEUE", "LSU_REPORT_QUEUE")}:
            problems.append(f"{fid}.{name} lit une file locale : {actual}")
    return problems


def check_queues_have_dlqs(t: dict, stage: str) -> list[str]:
    """Every queue has a redrive to another queue of the stack, except the terminal DLQs (a DLQ
    nobody consumes); receive counts and visibility as the local stack's."""
    queues = resources(t, "AWS::SQS::Queue")
    consumed = {getatt_target(p.get("Queue")) for _, _, _, p in sqs_events(t)}
    targets = {getatt_target((q["Properties"].get("RedrivePolicy") or {}).get("deadLetterTargetArn"))
               for q in queues.values()}
    env, problems = env_of(stage), []
    for qid, q in queues.items():
        redrive = q["Properties"].get("RedrivePolicy")
        if redrive is None:
            if qid in consumed or qid not in targets:
                problems.append(f"file {q['Properties'].get('QueueName')} sans file d'erreurs")
            continue
        if getatt_target(redrive.get("deadLetterTargetArn")) not in queues:
            problems.append(f"file {qid} : file d'erreurs hors de la pile")
    by_name = {q["Properties"].get("QueueName"): q["Properties"] for q in queues.values()}
    for role, key in (("uploads", "LSU_UPLOADS_QUEUE"), ("bilans", "LSU_BILANS_QUEUE"), ("report", "LSU_REPORT_QUEUE")):
        visibility, max_receive = QUEUE_SETTINGS[role]
        p = by_name.get(env[key])
        if p is None:
            problems.append(f"file {env[key]} absente")
            continue
        if p.get("VisibilityTimeout") != visibility:
            problems.append(f"{env[key]} : visibilité {p.get('VisibilityTimeout')} ≠ {visibility}")
        if int((p.get("RedrivePolicy") or {}).get("maxReceiveCount", -1)) != max_receive:
            problems.append(f"{env[key]} : maxReceiveCount ≠ {max_receive}")
        if dlq_name(env[key]) not in by_name:
            problems.append(f"{dlq_name(env[key])} absente")
    if by_name.get(env["LSU_BILANS_QUEUE"], {}).get("VisibilityTimeout", 0) <= REPORT_REQUEST_STALE_SECONDS:
        problems.append("visibilité de la file des bilans ≤ REPORT_REQUEST_STALE_SECONDS")
    return problems


def check_functions_fit_their_queues(t: dict, stage: str) -> list[str]:
    """Timeout below the consumed queue's visibility; maximum concurrency within the reserve."""
    problems = []
    fns = resources(t, "AWS::Serverless::Function")
    for fid, handler, name, p in sqs_events(t):
        fn = fns.get(fid, {}).get("Properties", {})
        q = t["Resources"].get(getatt_target(p.get("Queue")) or "", {}).get("Properties", {})
        if fn.get("Timeout", 3) > q.get("VisibilityTimeout", 30):
            problems.append(f"{fid} : délai {fn.get('Timeout')} s > visibilité {q.get('VisibilityTimeout')} s")
        maximum = (p.get("ScalingConfig") or {}).get("MaximumConcurrency")
        reserved = fn.get("ReservedConcurrentExecutions")
        if maximum is None or (reserved is not None and maximum > reserved):
            problems.append(f"{fid}.{name} : concurrence maximale {maximum} (réservée {reserved})")
    return problems


def check_function_settings(t: dict, stage: str) -> list[str]:
    """Memory, timeout, reserved concurrency as .chalice/config.json says; Powertools and the
    packaged schema in the environment; a role of its own with one inline policy."""
    fns = resources(t, "AWS::Serverless::Function")
    configured = CONFIG["stages"][stage].get("lambda_functions", {})
    problems, roles = [], []
    for fid, fn in fns.items():
        p = fn["Properties"]
        name = "api_handler" if p["Handler"] == "app.app" else p["Handler"].split(".", 1)[1]
        cfg = configured.get(name, {})
        for key, prop in (("lambda_memory_size", "MemorySize"), ("lambda_timeout", "Timeout"),
                          ("reserved_concurrency", "ReservedConcurrentExecutions")):
            if cfg.get(key) != p.get(prop):
                problems.append(f"{fid} : {prop} = {p.get(prop)}, config.json : {cfg.get(key)}")
        env = p.get("Environment", {}).get("Variables", {})
        for var in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE", "LSU_STAGE"):
            if not env.get(var):
                problems.append(f"{fid} : {var} absente")
        if env.get("LSU_STAGE") != stage:
            problems.append(f"{fid} : LSU_STAGE = {env.get('LSU_STAGE')}")
        # The packaged schema folder (issue 15): LSU_SCHEMA_DIR, and no one-file LSU_XSD_PATH beside it.
        if env.get("LSU_SCHEMA_DIR") != "/var/task/chalicelib/schema" or "LSU_XSD_PATH" in env:
            problems.append(f"{fid} : LSU_SCHEMA_DIR = {env.get('LSU_SCHEMA_DIR')}, LSU_XSD_PATH = {env.get('LSU_XSD_PATH')}")
        role = getatt_target(p.get("Role"))
        r = t["Resources"].get(role or "", {})
        if r.get("Type") != "AWS::IAM::Role":
            problems.append(f"{fid} : rôle {p.get('Role')!r} hors de la pile")
            continue
        roles.append(role)
        if len(r["Properties"].get("Policies", [])) != 1 or r["Properties"].get("ManagedPolicyArns"):
            problems.append(f"{fid} : le rôle doit porter une seule politique, sans politique gérée")
        if p.get("Policies"):
            problems.append(f"{fid} : politiques SAM en plus du rôle")
    if len(set(roles)) != len(roles):
        problems.append("des fonctions partagent un rôle")
    return problems


def _statements(t: dict):
    for rid, r in t["Resources"].items():
        p = r.get("Properties", {})
        docs = []
        if r["Type"] == "AWS::IAM::Role":
            docs = [pol["PolicyDocument"] for pol in p.get("Policies", [])]
        elif r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            docs = [p["PolicyDocument"]]
        elif r["Type"] == "AWS::Serverless::Function" and isinstance(p.get("Policies"), list):
            docs = [d for d in p["Policies"] if isinstance(d, dict) and "Statement" in d]
        for doc in docs:
            for st in listify(doc.get("Statement", [])):
                yield rid, st


def check_no_wildcard_data_access(t: dict, stage: str) -> list[str]:
    problems = []
    for rid, st in _statements(t):
        if st.get("Effect") != "Allow":
            continue
        actions = [a.lower() for a in listify(st.get("Action", []))]
        data = [a for a in actions if a == "*" or a.startswith(DATA_SERVICES)]
        if not data:
            continue
        if any(a == "*" or a.endswith(":*") for a in data):
            problems.append(f"{rid} : action générique {data}")
        if "NotResource" in st or "NotAction" in st:
            problems.append(f"{rid} : NotResource/NotAction")
        for res in listify(st.get("Resource", [])):
            if res == "*" or (isinstance(res, str) and res.endswith(":*") and "log-group" not in res):
                problems.append(f"{rid} : ressource « {res} » pour {data}")
    return problems


def check_tables(t: dict, stage: str) -> list[str]:
    """On demand, PITR, keys and GSI of chalicelib/store.py's models, TTL on the results."""
    models = bind_models(Settings.from_env(env_of(stage)))
    tables = {r["Properties"]["TableName"]: r["Properties"] for r in resources(t, "AWS::DynamoDB::Table").values()}
    problems = []
    for model in models.all():
        name = model.Meta.table_name
        p = tables.get(name)
        if p is None:
            problems.append(f"table {name} absente")
            continue
        if p.get("BillingMode") != "PAY_PER_REQUEST":
            problems.append(f"{name} : BillingMode {p.get('BillingMode')}")
        if not (p.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"):
            problems.append(f"{name} : PITR désactivée")
        attrs = model.get_attributes()
        expected = [{"AttributeName": a.attr_name, "KeyType": "HASH" if a.is_hash_key else "RANGE"}
                    for a in attrs.values() if a.is_hash_key or a.is_range_key]
        expected.sort(key=lambda k: k["KeyType"] != "HASH")
        if p.get("KeySchema") != expected:
            problems.append(f"{name} : clés {p.get('KeySchema')} ≠ {expected}")
        gsis = {g["IndexName"]: g for g in p.get("GlobalSecondaryIndexes", [])}
        for index in model._indexes.values():                 # noqa: SLF001 — pynamodb's registry
            g = gsis.get(index.Meta.index_name)
            hash_key = next(a.attr_name for a in index.Meta.attributes.values() if a.is_hash_key)
            range_key = next((a.attr_name for a in index.Meta.attributes.values() if a.is_range_key), None)
            keys = [{"AttributeName": hash_key, "KeyType": "HASH"}] + (
                [{"AttributeName": range_key, "KeyType": "RANGE"}] if range_key else [])
            projection = index.Meta.projection.projection_type
            if g is None or g["KeySchema"] != keys or g["Projection"]["ProjectionType"] != projection:
                problems.append(f"{name} : index {index.Meta.index_name} ≠ {keys} ({projection})")
    resultats = tables.get(models.Resultat.Meta.table_name, {})
    ttl = resultats.get("TimeToLiveSpecification") or {}
    if not ttl.get("Enabled") or not ttl.get("AttributeName"):
        problems.append("table des résultats sans TTL")
    from pynamodb.attributes import TTLAttribute
    model_ttl = [a.attr_name for a in models.Resultat.get_attributes().values() if isinstance(a, TTLAttribute)]
    if model_ttl and model_ttl != [ttl.get("AttributeName")]:
        problems.append(f"TTL du modèle {model_ttl} ≠ TTL de la table {ttl.get('AttributeName')}")
    return problems


def files_bucket(t: dict, stage: str) -> tuple[str | None, dict]:
    """The files bucket (uploads, référentiel, synthèses), by its stage's name."""
    name = env_of(stage)["LSU_BUCKET"]
    return next(((bid, b) for bid, b in resources(t, "AWS::S3::Bucket").items()
                 if b["Properties"].get("BucketName") == name), (None, {}))


def check_bucket(t: dict, stage: str) -> list[str]:
    problems = []
    buckets = resources(t, "AWS::S3::Bucket")
    bid, b = files_bucket(t, stage)
    if bid is None:
        return [f"compartiment {env_of(stage)['LSU_BUCKET']} absent ({len(buckets)} compartiments)"]
    p = b["Properties"]
    if p.get("BucketName") != env_of(stage)["LSU_BUCKET"]:
        problems.append(f"nom {p.get('BucketName')}")
    block = p.get("PublicAccessBlockConfiguration") or {}
    for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        if block.get(key) is not True:
            problems.append(f"{key} ≠ true")
    sse = (p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
    if not sse or sse[0].get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") not in ("AES256", "aws:kms"):
        problems.append("chiffrement absent")
    for rule in (p.get("CorsConfiguration") or {}).get("CorsRules", []):
        if "*" in rule.get("AllowedOrigins", []) or set(rule.get("AllowedMethods", [])) - {"POST"}:
            problems.append(f"CORS trop large : {rule}")
    expiring = {r.get("Prefix") for r in (p.get("LifecycleConfiguration") or {}).get("Rules", [])
                if r.get("Status") == "Enabled" and r.get("ExpirationInDays")}
    for prefix in (UPLOAD_PREFIX, "messages/", "manifestes/", "depots-referentiel/"):
        if prefix not in expiring:
            problems.append(f"les objets de {prefix} n'expirent pas")
    tls_only = any(st.get("Effect") == "Deny" and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
                   for r in resources(t, "AWS::S3::BucketPolicy").values()
                   if r["Properties"]["Bucket"] == {"Ref": bid}
                   for st in listify(r["Properties"]["PolicyDocument"]["Statement"]))
    if not tls_only:
        problems.append("accès hors TLS non refusé")
    for r in resources(t, "AWS::S3::BucketPolicy").values():
        for st in listify(r["Properties"]["PolicyDocument"]["Statement"]):
            if st.get("Effect") == "Allow" and st.get("Principal") in ("*", {"AWS": "*"}):
                problems.append("politique de compartiment publique")
    return problems


def check_upload_notification(t: dict, stage: str) -> list[str]:
    env, problems = env_of(stage), []
    bid, b = files_bucket(t, stage)
    configs = (b["Properties"].get("NotificationConfiguration") or {}).get("QueueConfigurations", [])
    uploads = next((qid for qid, q in resources(t, "AWS::SQS::Queue").items()
                    if q["Properties"].get("QueueName") == env["LSU_UPLOADS_QUEUE"]), None)
    ok = [c for c in configs if c.get("Event") == "s3:ObjectCreated:*" and getatt_target(c.get("Queue")) == uploads
          and {"Name": "prefix", "Value": UPLOAD_PREFIX} in c.get("Filter", {}).get("S3Key", {}).get("Rules", [])]
    if not ok:
        problems.append(f"pas de notification ObjectCreated sur {UPLOAD_PREFIX} vers {env['LSU_UPLOADS_QUEUE']}")
    policies = [(pid, p) for pid, p in resources(t, "AWS::SQS::QueuePolicy").items()
                if {"Ref": uploads} in p["Properties"]["Queues"]]
    if len(policies) != 1:
        problems.append(f"{len(policies)} politiques sur la file des dépôts (une seule s'appliquerait)")
    allows = [st for _, p in policies for st in listify(p["Properties"]["PolicyDocument"]["Statement"])
              if st.get("Effect") == "Allow" and st.get("Principal") == {"Service": "s3.amazonaws.com"}
              and "sqs:SendMessage" in listify(st.get("Action")) and "aws:SourceArn" in json.dumps(st.get("Condition"))]
    if not allows:
        problems.append("S3 n'a pas le droit d'écrire dans la file des dépôts (ou sans condition de source)")
    if policies and policies[0][0] not in listify(b.get("DependsOn", [])):
        problems.append("le compartiment ne dépend pas de la politique de la file")
    return problems


def check_cognito_authorizer(t: dict, stage: str) -> list[str]:
    problems = []
    pools = resources(t, "AWS::Cognito::UserPool")
    if len(pools) != 1:
        return [f"{len(pools)} groupes d'utilisateurs Cognito"]
    (pool_id, pool), = pools.items()
    if not any(a.get("Name") == "uai" for a in pool["Properties"].get("Schema", [])):
        problems.append("attribut personnalisé uai absent")
    groups = {g["Properties"]["GroupName"] for g in resources(t, "AWS::Cognito::UserPoolGroup").values()
              if g["Properties"]["UserPoolId"] == {"Ref": pool_id}}
    if groups != set(ROLES):
        problems.append(f"groupes {sorted(groups)} ≠ rôles {sorted(ROLES)}")
    apis = resources(t, "AWS::Serverless::Api")
    if len(apis) != 1:
        return problems + [f"{len(apis)} API"]
    body = next(iter(apis.values()))["Properties"]["DefinitionBody"]
    schemes = {name for name, d in (body.get("securityDefinitions") or {}).items()
               if d.get("x-amazon-apigateway-authtype") == "cognito_user_pools"
               and [getatt_target(a) for a in d["x-amazon-apigateway-authorizer"].get("providerARNs", [])] == [pool_id]}
    if not schemes:
        problems.append("pas d'autorisation Cognito déclarée sur ce groupe d'utilisateurs")
    public = public_routes(body.get("paths", {}))
    for path, methods in body.get("paths", {}).items():
        for method, op in methods.items():
            if method.startswith("x-"):
                continue
            secured = any(set(s) & schemes for s in op.get("security", []))
            if (path, method) in public and op.get("security"):
                problems.append(f"{method.upper()} {path} devrait être public")
            elif (path, method) not in public and not secured:
                problems.append(f"{method.upper()} {path} sans autorisation Cognito")
    return problems


def check_routes_match_the_app(t: dict, stage: str) -> list[str]:
    """The API of the template is the app's of today (a stale cdk.out fails here)."""
    from app import app
    routes = {(path, m.lower()) for path, entries in app.routes.items() for m in entries}
    body = next(iter(resources(t, "AWS::Serverless::Api").values()))["Properties"]["DefinitionBody"]
    templated = {(path, m) for path, methods in body["paths"].items() for m in methods if not m.startswith("x-")}
    return [] if routes == templated else [f"routes : app {sorted(routes - templated)} / modèle {sorted(templated - routes)}"]


def check_alarms(t: dict, stage: str) -> list[str]:
    queues = resources(t, "AWS::SQS::Queue")
    dlqs = {getatt_target((q["Properties"].get("RedrivePolicy") or {}).get("deadLetterTargetArn")) for q in queues.values()}
    watched: dict[str, set] = {}
    for a in resources(t, "AWS::CloudWatch::Alarm").values():
        p = a["Properties"]
        if p.get("Namespace") != "AWS/SQS" or not p.get("AlarmActions"):
            continue
        for d in p.get("Dimensions", []):
            if d["Name"] == "QueueName":
                qid = (d["Value"].get("Fn::GetAtt") or [None])[0]
                watched.setdefault(qid, set()).add(p["MetricName"])
    problems = []
    for qid, q in queues.items():
        if qid in dlqs and "ApproximateNumberOfMessagesVisible" not in watched.get(qid, set()):
            problems.append(f"file d'erreurs {q['Properties']['QueueName']} sans alarme de profondeur")
        if q["Properties"].get("RedrivePolicy") and "ApproximateAgeOfOldestMessage" not in watched.get(qid, set()):
            problems.append(f"file {q['Properties']['QueueName']} sans alarme d'âge")
    return problems


def check_front_login(t: dict, stage: str) -> list[str]:
    """The web front logs in through the Cognito hosted UI: the page the front bucket gets
    (issue 16: rendered at deploy time, the bucket deployment's markers) carries the stage's
    login domain and client in its <meta> tags (synthesized with a cognitoDomainPrefix)."""
    domains = resources(t, "AWS::Cognito::UserPoolDomain")
    clients = resources(t, "AWS::Cognito::UserPoolClient")
    if len(domains) != 1 or len(clients) != 1:
        return [f"{len(domains)} domaine(s) de connexion, {len(clients)} client(s) Cognito (1 et 1 attendus)"]
    (did, domain), (cid, _client) = next(iter(domains.items())), next(iter(clients.items()))
    problems = []
    if not str(domain["Properties"].get("Domain", "")).endswith(f"-{stage}"):
        problems.append(f"domaine de connexion {domain['Properties'].get('Domain')} : pas celui de l'étape {stage}")
    page = deployed_page(t, stage)
    if page is None:
        return problems + ["aucun déploiement de index.html dans le compartiment du front"]
    body, markers = page
    metas = {name: value for name, value in re.findall(r'<meta name="(lsu-cognito-[a-z]+)" content="(.*?)">\n', body)}
    if markers.get(metas.get("lsu-cognito-client", "?")) != {"Ref": cid}:
        problems.append(f"la page ne porte pas le client Cognito de l'étape : {metas.get('lsu-cognito-client')}")
    domain_meta = metas.get("lsu-cognito-domaine", "")
    if not any(m in domain_meta and markers.get(m) == {"Ref": did} for m in markers) \
            or not domain_meta.startswith("https://"):
        problems.append(f"la page ne porte pas le domaine de connexion de l'étape : {domain_meta}")
    return problems


def check_tracing_and_powertools(t: dict, stage: str) -> list[str]:
    """X-Ray active tracing on every function, its role allowed to send the segments; the
    Powertools service and metrics namespace the code defaults to (chalicelib/observability.py),
    responses kept out of the traces (they carry pupils' data)."""
    problems = []
    expected_env = {"POWERTOOLS_SERVICE_NAME": observability.SERVICE,
                    "POWERTOOLS_METRICS_NAMESPACE": observability.METRICS_NAMESPACE,
                    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false"}
    fns = resources(t, "AWS::Serverless::Function")
    if not fns:
        return ["aucune fonction"]
    for fid, fn in fns.items():
        p = fn["Properties"]
        if p.get("Tracing") != "Active":
            problems.append(f"{fid} : Tracing = {p.get('Tracing')}")
        env = (p.get("Environment") or {}).get("Variables") or {}
        for var, value in expected_env.items():
            if env.get(var) != value:
                problems.append(f"{fid} : {var} = {env.get(var)!r}, attendu {value!r}")
        if str(env.get("POWERTOOLS_TRACE_DISABLED", "")).lower() in ("1", "true"):
            problems.append(f"{fid} : POWERTOOLS_TRACE_DISABLED")
        role = t["Resources"].get(getatt_target(p.get("Role")) or "", {})
        allowed = {a for pol in role.get("Properties", {}).get("Policies", [])
                   for st in listify(pol["PolicyDocument"].get("Statement", [])) if st.get("Effect") == "Allow"
                   for a in listify(st.get("Action", []))}
        missing = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} - allowed
        if missing:
            problems.append(f"{fid} : le rôle ne permet pas {sorted(missing)}")
    return problems


# --- the web front on AWS (issue 16): bucket, distribution, headers, origin ----------------------

# CloudFront's managed policies (their ids are fixed by AWS): nothing cached for the API, and every
# viewer header but Host forwarded (API Gateway answers only to its own Host; the token passes).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
STATIC_DIR = ROOT / "chalicelib" / "api" / "static"
HTTPS_VIEWER = {"redirect-to-https", "https-only"}


def render(value) -> str:
    """A CloudFormation value as text: `${Id}` for a Ref, `${Id.Attr}` for a GetAtt."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(render(v) for v in value)
    if isinstance(value, dict):
        if "Ref" in value:
            return "${" + value["Ref"] + "}"
        if "Fn::GetAtt" in value:
            return "${" + ".".join(value["Fn::GetAtt"]) + "}"
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            return sep.join(render(v) for v in parts)
        if "Fn::Sub" in value:
            text, names = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
            for name, v in names.items():
                text = text.replace("${" + name + "}", render(v))
            return text
    return json.dumps(value)


def the_distribution(t: dict) -> tuple[str | None, dict]:
    dists = resources(t, "AWS::CloudFront::Distribution")
    return next(iter(dists.items())) if len(dists) == 1 else (None, {})


def front_bucket_id(t: dict) -> str | None:
    """The bucket of the distribution's default origin (the front's files)."""
    _, d = the_distribution(t)
    config = d.get("Properties", {}).get("DistributionConfig", {})
    target = config.get("DefaultCacheBehavior", {}).get("TargetOriginId")
    origin = next((o for o in config.get("Origins", []) if o.get("Id") == target), {})
    return getatt_target(origin.get("DomainName"), "RegionalDomainName")


def behaviors(config: dict) -> list[dict]:
    return [config.get("DefaultCacheBehavior", {}), *config.get("CacheBehaviors", [])]


def api_routes(t: dict) -> set[tuple[str, str]]:
    """The API's routes with a token (all but the front's files)."""
    body = next(iter(resources(t, "AWS::Serverless::Api").values()))["Properties"]["DefinitionBody"]
    return {(path, m) for path, methods in body["paths"].items() for m, op in methods.items()
            if not m.startswith("x-") and op.get("security")}


def _private_bucket_problems(t: dict, bid: str) -> list[str]:
    """Block public access, SSE, owner enforced, a Deny outside TLS, no public Allow."""
    p = t["Resources"][bid]["Properties"]
    problems = []
    block = p.get("PublicAccessBlockConfiguration") or {}
    for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        if block.get(key) is not True:
            problems.append(f"{bid} : {key} ≠ true")
    sse = (p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
    if not sse or sse[0].get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") != "AES256":
        problems.append(f"{bid} : pas de chiffrement SSE-S3")
    rules = (p.get("OwnershipControls") or {}).get("Rules") or []
    if [r.get("ObjectOwnership") for r in rules] != ["BucketOwnerEnforced"]:
        problems.append(f"{bid} : propriétaire non imposé (ACL possibles)")
    if p.get("WebsiteConfiguration"):
        problems.append(f"{bid} : site web S3 public")
    statements = [st for r in resources(t, "AWS::S3::BucketPolicy").values() if r["Properties"]["Bucket"] == {"Ref": bid}
                  for st in listify(r["Properties"]["PolicyDocument"]["Statement"])]
    if not any(st.get("Effect") == "Deny" and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
               for st in statements):
        problems.append(f"{bid} : accès hors TLS non refusé")
    if any(st.get("Effect") == "Allow" and st.get("Principal") in ("*", {"AWS": "*"}) for st in statements):
        problems.append(f"{bid} : politique de compartiment publique")
    return problems


def check_front_bucket(t: dict, stage: str) -> list[str]:
    """The front's files in a private bucket of their own (not the files bucket), read only by
    this distribution through OAC: its policy allows cloudfront.amazonaws.com to GetObject with
    AWS:SourceArn = this distribution, and nobody else."""
    did, _ = the_distribution(t)
    bid = front_bucket_id(t)
    if did is None or bid is None or t["Resources"].get(bid, {}).get("Type") != "AWS::S3::Bucket":
        return [f"pas de compartiment à l'origine par défaut de la distribution ({did}, {bid})"]
    problems = _private_bucket_problems(t, bid)
    files_id, _ = files_bucket(t, stage)
    if bid == files_id:
        problems.append("le front est servi depuis le compartiment des fichiers (données des élèves)")
    if len(resources(t, "AWS::S3::Bucket")) != 2:
        problems.append(f"{len(resources(t, 'AWS::S3::Bucket'))} compartiments (fichiers et front attendus)")
    policies = [r for r in resources(t, "AWS::S3::BucketPolicy").values() if r["Properties"]["Bucket"] == {"Ref": bid}]
    if len(policies) != 1:
        problems.append(f"{len(policies)} politiques sur le compartiment du front")
    allows = [st for r in policies for st in listify(r["Properties"]["PolicyDocument"]["Statement"]) if st.get("Effect") == "Allow"]
    expected_arn = f":cloudfront::${{AWS::AccountId}}:distribution/${{{did}}}"
    for st in allows:
        arn = render((st.get("Condition") or {}).get("StringEquals", {}).get("AWS:SourceArn"))
        if st.get("Principal") != {"Service": "cloudfront.amazonaws.com"}:
            problems.append(f"compartiment du front : accès accordé à {st.get('Principal')}")
        if listify(st.get("Action")) != ["s3:GetObject"]:
            problems.append(f"compartiment du front : actions {st.get('Action')} (lecture seule attendue)")
        if not arn.endswith(expected_arn) or set((st.get("Condition") or {})) != {"StringEquals"}:
            problems.append(f"compartiment du front : condition {st.get('Condition')} ≠ AWS:SourceArn de la distribution")
    if not allows:
        problems.append("la distribution n'a pas le droit de lire le compartiment du front")
    return problems


def check_front_distribution(t: dict, stage: str) -> list[str]:
    """One distribution: index.html at its root, the front bucket through Origin Access Control
    (no legacy OAI), HTTPS for the viewer and to the origins, the security headers on every
    behaviour; every API route routed to this stage of API Gateway, uncached."""
    did, d = the_distribution(t)
    if did is None:
        return [f"{len(resources(t, 'AWS::CloudFront::Distribution'))} distributions CloudFront"]
    config, problems = d["Properties"]["DistributionConfig"], []
    if config.get("DefaultRootObject") != "index.html":
        problems.append(f"objet racine {config.get('DefaultRootObject')}")
    if resources(t, "AWS::CloudFront::CloudFrontOriginAccessIdentity"):
        problems.append("identité d'accès d'origine (OAI) héritée")
    origins = {o["Id"]: o for o in config.get("Origins", [])}
    default = config.get("DefaultCacheBehavior", {})
    s3_origin = origins.get(default.get("TargetOriginId"), {})
    oac = t["Resources"].get(getatt_target(s3_origin.get("OriginAccessControlId"), "Id") or "", {})
    oac_config = oac.get("Properties", {}).get("OriginAccessControlConfig", {})
    if oac.get("Type") != "AWS::CloudFront::OriginAccessControl" or oac_config.get("OriginAccessControlOriginType") != "s3" \
            or oac_config.get("SigningBehavior") != "always" or oac_config.get("SigningProtocol") != "sigv4":
        problems.append(f"origine du front sans contrôle d'accès d'origine (OAC) signé : {s3_origin.get('OriginAccessControlId')}")
    if (s3_origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity", "") != "":
        problems.append("origine du front par OAI")
    if front_bucket_id(t) is None:
        problems.append("l'origine par défaut n'est pas un compartiment de la pile")
    api_origins = set()
    for oid, o in origins.items():
        custom = o.get("CustomOriginConfig")
        if custom is None:
            continue
        if custom.get("OriginProtocolPolicy") != "https-only":
            problems.append(f"origine {oid} : {custom.get('OriginProtocolPolicy')}")
        if render(o.get("DomainName")) == "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}" \
                and o.get("OriginPath") == f"/{stage}":
            api_origins.add(oid)
    policies = resources(t, "AWS::CloudFront::ResponseHeadersPolicy")
    for b in behaviors(config):
        where = b.get("PathPattern", "par défaut")
        if b.get("ViewerProtocolPolicy") not in HTTPS_VIEWER:
            problems.append(f"comportement {where} : {b.get('ViewerProtocolPolicy')} (HTTPS seul attendu)")
        if (b.get("ResponseHeadersPolicyId") or {}).get("Ref") not in policies:
            problems.append(f"comportement {where} sans en-têtes de sécurité de la pile")
        if b.get("TargetOriginId") in api_origins and (b.get("CachePolicyId") != CACHING_DISABLED
                                                      or b.get("OriginRequestPolicyId") != ALL_VIEWER_EXCEPT_HOST_HEADER):
            problems.append(f"comportement {where} vers l'API : mis en cache, ou Host transmis")
    to_api = [b["PathPattern"] for b in config.get("CacheBehaviors", []) if b.get("TargetOriginId") in api_origins]
    for path, method in sorted(api_routes(t) | PUBLIC_API_ROUTES):
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        first = next((b for b in config.get("CacheBehaviors", []) if fnmatch.fnmatchcase(concrete, b["PathPattern"])), None)
        if first is None or first.get("TargetOriginId") not in api_origins:
            problems.append(f"{method.upper()} {path} non routé vers l'API de l'étape")
        elif method.upper() not in first.get("AllowedMethods", []):
            problems.append(f"{method.upper()} {path} : méthode refusée par CloudFront")
    for front_path in ("/", "/app.js", "/index.html"):
        if any(fnmatch.fnmatchcase(front_path, p) for p in to_api):
            problems.append(f"{front_path} routé vers l'API au lieu du compartiment du front")
    return problems


def csp_directives(t: dict) -> tuple[dict[str, list[str]], dict]:
    """The CSP of the distribution's default behaviour (directive → sources) and its policy."""
    _, d = the_distribution(t)
    ref = (d.get("Properties", {}).get("DistributionConfig", {}).get("DefaultCacheBehavior", {})
           .get("ResponseHeadersPolicyId") or {}).get("Ref")
    policy = t["Resources"].get(ref or "", {}).get("Properties", {}).get("ResponseHeadersPolicyConfig", {})
    csp = (policy.get("SecurityHeadersConfig") or {}).get("ContentSecurityPolicy") or {}
    directives = {}
    for part in render(csp.get("ContentSecurityPolicy", "")).split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives, policy


def check_front_headers(t: dict, stage: str) -> list[str]:
    """CSP without inline script, eval or third-party origin (connect-src: the stage's Cognito
    domain and files bucket only), frame-ancestors 'none'; HSTS, nosniff, frame denial."""
    directives, policy = csp_directives(t)
    security = policy.get("SecurityHeadersConfig") or {}
    problems = []
    if not directives or not (security.get("ContentSecurityPolicy") or {}).get("Override"):
        return ["pas de Content-Security-Policy imposée par la distribution"]
    script = directives.get("script-src", directives.get("default-src"))
    if script is None or set(script) - {"'self'"}:
        problems.append(f"script-src {script} (seulement 'self' attendu : ni 'unsafe-inline', ni eval, ni tiers)")
    if directives.get("default-src") not in (["'self'"], ["'none'"]):
        problems.append(f"default-src {directives.get('default-src')}")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors {directives.get('frame-ancestors')}")
    (did, _), = resources(t, "AWS::Cognito::UserPoolDomain").items() or [(None, None)]
    bucket = env_of(stage)["LSU_BUCKET"]
    own = (f"https://${{{did}}}.auth.", f"https://{bucket}.s3.")
    for name, sources in directives.items():
        for src in sources:
            if "*" in src or "unsafe" in src or src.startswith(("http:", "ws:")):
                problems.append(f"{name} : source {src}")
            elif src.startswith(("https:", "wss:")) and (name != "connect-src" or not src.startswith(own)):
                problems.append(f"{name} : origine tierce {src}")
    if not any(s.startswith(own[0]) for s in directives.get("connect-src", [])):
        problems.append("connect-src sans le domaine de connexion Cognito de l'étape")
    hsts = security.get("StrictTransportSecurity") or {}
    if int(hsts.get("AccessControlMaxAgeSec", 0)) < 31536000 or not hsts.get("Override"):
        problems.append(f"HSTS : {hsts}")
    if not (security.get("ContentTypeOptions") or {}).get("Override"):
        problems.append("X-Content-Type-Options: nosniff non imposé")
    if (security.get("FrameOptions") or {}).get("FrameOption") != "DENY":
        problems.append(f"X-Frame-Options : {security.get('FrameOptions')}")
    return problems


def check_front_origin(t: dict, stage: str) -> list[str]:
    """The front's origin is the distribution's: the Cognito client's callback and logout URLs,
    the only origin of the files bucket's CORS (the browser's upload) and the FrontOrigin output;
    the API itself allows no cross-origin call (the page reaches it through the distribution)."""
    did, _ = the_distribution(t)
    origin = f"https://${{{did}.DomainName}}"
    problems = []
    (_, client), = resources(t, "AWS::Cognito::UserPoolClient").items() or [(None, {"Properties": {}})]
    for key in ("CallbackURLs", "LogoutURLs"):
        urls = [render(u) for u in client["Properties"].get(key, [])]
        if not urls or any(u != origin + "/" for u in urls):
            problems.append(f"{key} {urls} ≠ [{origin}/]")
    _, b = files_bucket(t, stage)
    allowed = [render(o) for r in (b.get("Properties", {}).get("CorsConfiguration") or {}).get("CorsRules", [])
               for o in r.get("AllowedOrigins", [])]
    if allowed != [origin]:
        problems.append(f"CORS du compartiment des fichiers : {allowed} ≠ [{origin}]")
    if render(t.get("Outputs", {}).get("FrontOrigin", {}).get("Value")) != origin:
        problems.append("sortie FrontOrigin : pas l'origine de la distribution")
    body = json.dumps(next(iter(resources(t, "AWS::Serverless::Api").values()))["Properties"]["DefinitionBody"])
    if "Access-Control-Allow-Origin" in body:
        problems.append("l'API déclare du CORS : le front l'appelle par la distribution (même origine)")
    return problems


def _references(value, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, v in value.items():
            if key == "Ref" and isinstance(v, str):
                out.add(v)
            elif key == "Fn::GetAtt":
                out.add(v[0] if isinstance(v, list) else v.split(".")[0])
            elif key == "Fn::Sub":
                text = v if isinstance(v, str) else v[0]
                out.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
                _references(v if isinstance(v, str) else v[1], out)
            else:
                _references(v, out)
    elif isinstance(value, list):
        for v in value:
            _references(v, out)
    return out


def check_no_dependency_cycle(t: dict, stage: str) -> list[str]:
    """No circular dependency between resources (CloudFormation refuses the template): the front's
    client names the distribution, which names the API, which names its function."""
    ids = set(t["Resources"])
    graph = {rid: (_references(r.get("Properties", {}), set()) | set(listify(r.get("DependsOn", [])))) & ids
             for rid, r in t["Resources"].items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for rid in sorted(graph):
        if rid not in state:
            visit(rid, [rid])
    return [f"dépendance circulaire : {' → '.join(c)}" for c in cycles]


def deployed_page(t: dict, stage: str) -> tuple[str, dict] | None:
    """index.html as the bucket deployment writes it to the front bucket (its asset in cdk.out)
    and the deploy-time values of its markers."""
    bid = front_bucket_id(t)
    assets = json.loads((CDK_OUT / f"{stage}.assets.json").read_text(encoding="utf-8"))["files"]
    for r in resources(t, "Custom::CDKBucketDeployment").values():
        p = r["Properties"]
        if p.get("DestinationBucketName") != {"Ref": bid}:
            continue
        for key, markers in zip(p.get("SourceObjectKeys", []), p.get("SourceMarkers", [])):
            source = next((a["source"]["path"] for h, a in assets.items() if key.startswith(h)), None)
            page = CDK_OUT / source / "index.html" if source else None
            if page is not None and page.is_file():
                return page.read_text(encoding="utf-8"), markers
    return None


def check_front_deployment(t: dict, stage: str) -> list[str]:
    """The front bucket is filled at deploy time from chalicelib/api/static/ (every file), the old
    files removed, the distribution's cache invalidated, no file cached without revalidation."""
    bid, (did, _) = front_bucket_id(t), the_distribution(t)
    deployments = [r["Properties"] for r in resources(t, "Custom::CDKBucketDeployment").values()
                   if r["Properties"].get("DestinationBucketName") == {"Ref": bid}]
    if len(deployments) != 1:
        return [f"{len(deployments)} déploiements vers le compartiment du front"]
    (p,) = deployments
    problems = []
    if p.get("DistributionId") != {"Ref": did} or p.get("DistributionPaths") != ["/*"]:
        problems.append("le déploiement n'invalide pas le cache de la distribution")
    if p.get("Prune") is False:
        problems.append("le déploiement garde les fichiers retirés du front")
    if (p.get("SystemMetadata") or {}).get("cache-control") != "no-cache":
        problems.append(f"Cache-Control des fichiers : {p.get('SystemMetadata')}")
    assets = json.loads((CDK_OUT / f"{stage}.assets.json").read_text(encoding="utf-8"))["files"]
    deployed: dict[str, bytes] = {}
    for key in p.get("SourceObjectKeys", []):
        source = next((a["source"]["path"] for h, a in assets.items() if key.startswith(h)), None)
        folder = CDK_OUT / source if source else None
        if folder is None or not folder.is_dir():
            problems.append(f"source {key} absente de cdk.out")
            continue
        deployed.update({str(f.relative_to(folder)): f.read_bytes() for f in folder.rglob("*") if f.is_file()})
    expected = {str(f.relative_to(STATIC_DIR)): f.read_bytes() for f in STATIC_DIR.rglob("*") if f.is_file()}
    if set(deployed) != set(expected):
        problems.append(f"fichiers déployés ≠ chalicelib/api/static/ : {sorted(set(deployed) ^ set(expected))[:5]}")
    changed = sorted(n for n in set(deployed) & set(expected) if n != "index.html" and deployed[n] != expected[n])
    if changed:
        problems.append(f"fichiers déployés modifiés : {changed[:5]}")
    return problems


def _access() -> dict:
    """infra/lsu_infra/access.py's table (a plain module: loaded from its file)."""
    import file_modules
    return file_modules.load("_lsu_access", ROOT / "infra" / "lsu_infra" / "access.py").ACCESS


def check_watchdog(t: dict, stage: str) -> list[str]:
    """The watchdog (issue 17): run every 5 minutes by a schedule rule, alone (reserved
    concurrency 1); it may list the uploads prefix only (whether a waited-for file came), send to
    the report queue only; the alarms on its metrics."""
    problems = []
    fns = [(fid, f) for fid, f in resources(t, "AWS::Serverless::Function").items()
           if f["Properties"]["Handler"] == "app.on_watchdog"]
    if len(fns) != 1:
        return [f"{len(fns)} fonction(s) de surveillance"]
    fid, fn = fns[0]
    events = list((fn["Properties"].get("Events") or {}).values())
    if [(e["Type"], e["Properties"].get("Schedule")) for e in events] != [("Schedule", "rate(5 minutes)")]:
        problems.append(f"{fid} : déclencheurs {events}")
    if fn["Properties"].get("ReservedConcurrentExecutions") != 1:
        problems.append(f"{fid} : concurrence réservée {fn['Properties'].get('ReservedConcurrentExecutions')}")
    role = t["Resources"][getatt_target(fn["Properties"]["Role"])]
    statements = [st for pol in role["Properties"]["Policies"] for st in listify(pol["PolicyDocument"]["Statement"])]
    lists = [st for st in statements if "s3:ListBucket" in listify(st["Action"])]
    if len(lists) != 1 or lists[0].get("Condition") != {"StringLike": {"s3:prefix": [f"{UPLOAD_PREFIX}*"]}}:
        problems.append(f"{fid} : ListBucket {lists}")
    for other_id, other in resources(t, "AWS::Serverless::Function").items():
        handler = other["Properties"]["Handler"]
        name = "api_handler" if handler == "app.app" else handler.split(".", 1)[1]
        r = t["Resources"][getatt_target(other["Properties"]["Role"])]
        listed = [st.get("Condition") for pol in r["Properties"]["Policies"]
                  for st in listify(pol["PolicyDocument"]["Statement"]) if "s3:ListBucket" in listify(st["Action"])]
        expected = [{"StringLike": {"s3:prefix": [f"{prefix}*"]}} for prefix in _access()[name].get("s3_list", [])]
        if listed != expected:
            problems.append(f"{other_id} : ListBucket {listed} ≠ {expected} (par préfixe, infra/lsu_infra/access.py)")
    sends = [st for st in statements if "sqs:SendMessage" in listify(st["Action"])]
    targets = {queue_name(t, getatt_target(res)) for st in sends for res in listify(st["Resource"])}
    if targets != {env_of(stage)["LSU_REPORT_QUEUE"]}:
        problems.append(f"{fid} : envoie à {targets}")
    alarms = {a["Properties"].get("MetricName") for a in resources(t, "AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("AlarmActions")}
    for metric in ("ImportsInterrompus", "ImportsSurveillanceEnEchec"):
        if metric not in alarms:
            problems.append(f"pas d'alarme sur {metric}")
    return problems


CHECKS = [check_watchdog, check_report_batch_item_failures, check_event_sources_bound_to_stage_queues, check_queues_have_dlqs,
          check_functions_fit_their_queues, check_function_settings, check_no_wildcard_data_access,
          check_tables, check_bucket, check_upload_notification, check_cognito_authorizer,
          check_routes_match_the_app, check_alarms, check_front_login, check_tracing_and_powertools,
          check_front_bucket, check_front_distribution, check_front_headers, check_front_origin,
          check_no_dependency_cycle, check_front_deployment]


# --- the templates pass --------------------------------------------------------------------------

@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_template(template, stage, check):
    assert check(template, stage) == []


def test_every_deployed_stage_is_synthesized():
    assert DEPLOYED_STAGES == ["dev", "prod"]
    for stage in DEPLOYED_STAGES:
        t = load_template(stage)
        assert t.get("Transform") == "AWS::Serverless-2016-10-31"      # the Chalice app, via SAM


def test_the_package_holds_the_official_schema(template, stage):
    """The packaging step copied the XSD (never committed) into the Lambda package."""
    assets = json.loads((CDK_OUT / f"{stage}.assets.json").read_text(encoding="utf-8"))["files"]
    keys = {fn["Properties"]["CodeUri"]["Key"] for fn in resources(template, "AWS::Serverless::Function").values()}
    assert len(keys) == 1
    (key,) = keys
    source = next(a["source"]["path"] for h, a in assets.items() if key.startswith(h))
    official = (ROOT.parent / "shared" / "lsun" / "import-complet-strict.xsd").read_bytes()
    with zipfile.ZipFile(CDK_OUT / source) as z:
        names = set(z.namelist())
        assert {"app.py", "chalicelib/api/imports.py", "chalicelib/api/static/app.js"} <= names
        assert z.read("chalicelib/schema/import-complet-strict.xsd") == official
    assert not (ROOT / "chalicelib" / "schema" / "import-complet-strict.xsd").exists()   # removed after


def test_the_package_holds_the_whole_schema_folder(template, stage):
    """The packaging step copied the schema folder (every XSD and the manifest, if any) into the
    package; the folder the functions read (LSU_SCHEMA_DIR) loads there, and keeps v7.0 only."""
    from chalicelib.pipeline.split.schemas import load_schemas
    assets = json.loads((CDK_OUT / f"{stage}.assets.json").read_text(encoding="utf-8"))["files"]
    (key,) = {fn["Properties"]["CodeUri"]["Key"] for fn in resources(template, "AWS::Serverless::Function").values()}
    source = next(a["source"]["path"] for h, a in assets.items() if key.startswith(h))
    folder = ROOT.parent / "shared" / "lsun"
    expected = {f"chalicelib/schema/{p.name}": p.read_bytes()
                for p in sorted(folder.glob("*.xsd")) + sorted(folder.glob("manifest.json"))}
    with zipfile.ZipFile(CDK_OUT / source) as z:
        packaged = {n: z.read(n) for n in z.namelist() if n.startswith("chalicelib/schema/") and not n.endswith("/")}
    assert packaged == expected
    with tempfile.TemporaryDirectory() as tmp:
        for name, body in packaged.items():
            (Path(tmp) / Path(name).name).write_bytes(body)
        assert load_schemas(tmp).versions == ("2.0", "3.0", "4.0", "5.0", "6.0", "7.0")
    assert not (ROOT / "chalicelib" / "schema").exists()                                   # removed after


def test_the_package_holds_no_tooling(template, stage):
    """The Lambda package is app.py, chalicelib/ and the runtime dependencies: no CLI, generator
    or local stack (lsu_tools/), no test, and nothing of moto or chalice's local server."""
    assets = json.loads((CDK_OUT / f"{stage}.assets.json").read_text(encoding="utf-8"))["files"]
    (key,) = {fn["Properties"]["CodeUri"]["Key"] for fn in resources(template, "AWS::Serverless::Function").values()}
    source = next(a["source"]["path"] for h, a in assets.items() if key.startswith(h))
    with zipfile.ZipFile(CDK_OUT / source) as z:
        names = z.namelist()
    top = {n.split("/", 1)[0] for n in names}
    assert {"app.py", "chalicelib"} <= top
    assert not top & {"lsu_tools", "tests", "bench", "infra", "moto"}, sorted(top)
    ours = {n for n in names if n.startswith("chalicelib/") and n.endswith(".py")}
    assert not {n for n in ours if "/local/" in n or n.endswith(("/cli.py", "/generator.py"))}, sorted(ours)


# --- the checks catch a wrong template -----------------------------------------------------------

def _functions(t):
    return resources(t, "AWS::Serverless::Function").values()


def _watchdog(t):
    return next(f for f in _functions(t) if f["Properties"]["Handler"] == "app.on_watchdog")


def _break_watchdog_schedule(t):
    next(iter(_watchdog(t)["Properties"]["Events"].values()))["Properties"]["Schedule"] = "rate(1 day)"


def _break_watchdog_list_everything(t):
    role = t["Resources"][getatt_target(_watchdog(t)["Properties"]["Role"])]
    for st in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
        st.pop("Condition", None)


def _break_watchdog_alarm(t):
    for rid in [k for k, r in resources(t, "AWS::CloudWatch::Alarm").items()
                if r["Properties"].get("MetricName") == "ImportsInterrompus"]:
        del t["Resources"][rid]


def _break_actifs_index(t):
    for table in resources(t, "AWS::DynamoDB::Table").values():
        for g in table["Properties"].get("GlobalSecondaryIndexes", []):
            if g["IndexName"] == "actifs":
                g["Projection"]["ProjectionType"] = "ALL"


def _break_rbif(t):
    fn = next(f for f in _functions(t) if f["Properties"].get("Events"))
    next(iter(fn["Properties"]["Events"].values()))["Properties"].pop("FunctionResponseTypes")


def _break_binding(t):
    fn = next(f for f in _functions(t) if f["Properties"]["Handler"] == "app.on_bilans_dead_letters")
    ev = next(iter(fn["Properties"]["Events"].values()))["Properties"]
    ev["Queue"] = {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:lsu-import-bilans-dlq"}


def _break_redrive(t):
    q = next(q for q in resources(t, "AWS::SQS::Queue").values() if q["Properties"]["QueueName"].endswith("-bilans-dlq"))
    q["Properties"].pop("RedrivePolicy")


def _break_visibility(t):
    q = next(q for q in resources(t, "AWS::SQS::Queue").values() if q["Properties"]["QueueName"].endswith("-bilans"))
    q["Properties"]["VisibilityTimeout"] = REPORT_REQUEST_STALE_SECONDS


def _break_timeout(t):
    fn = next(f for f in _functions(t) if f["Properties"]["Handler"] == "app.on_report")
    fn["Properties"]["Timeout"] = 900


def _break_shared_role(t):
    fns = list(_functions(t))
    fns[1]["Properties"]["Role"] = fns[0]["Properties"]["Role"]


def _break_wildcard(t):
    role = next(iter(resources(t, "AWS::IAM::Role").values()))
    role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": "*"})


def _break_wildcard_action(t):
    role = next(iter(resources(t, "AWS::IAM::Role").values()))
    st = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][-1]
    st["Action"] = "sqs:*"


def _break_pitr(t):
    table = next(iter(resources(t, "AWS::DynamoDB::Table").values()))
    table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False


def _break_keys(t):
    table = next(x for x in resources(t, "AWS::DynamoDB::Table").values() if x["Properties"].get("GlobalSecondaryIndexes"))
    table["Properties"]["GlobalSecondaryIndexes"][0]["KeySchema"][0]["AttributeName"] = "division"


def _break_public(t):
    b = files_bucket(t, "prod")[1]
    b["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] = False


def _break_encryption(t):
    files_bucket(t, "prod")[1]["Properties"].pop("BucketEncryption")


def _break_notification(t):
    b = files_bucket(t, "prod")[1]
    b["Properties"]["NotificationConfiguration"]["QueueConfigurations"][0]["Filter"]["S3Key"]["Rules"][0]["Value"] = "x/"


def _break_second_queue_policy(t):
    pid, p = next((k, v) for k, v in resources(t, "AWS::SQS::QueuePolicy").items()
                  if "sqs:SendMessage" in json.dumps(v))
    t["Resources"][pid + "Bis"] = copy.deepcopy(p)


def _break_authorizer(t):
    api = next(iter(resources(t, "AWS::Serverless::Api").values()))
    api["Properties"]["DefinitionBody"]["paths"]["/imports"]["post"].pop("security")


def _break_public_route(t):
    api = next(iter(resources(t, "AWS::Serverless::Api").values()))
    api["Properties"]["DefinitionBody"]["paths"]["/"]["get"]["security"] = [{"Cognito": []}]


def _break_groups(t):
    gid = next(iter(resources(t, "AWS::Cognito::UserPoolGroup")))
    del t["Resources"][gid]


def _break_alarm(t):
    aid = next(k for k, a in resources(t, "AWS::CloudWatch::Alarm").items()
               if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible")
    del t["Resources"][aid]


def _break_route(t):
    api = next(iter(resources(t, "AWS::Serverless::Api").values()))
    del api["Properties"]["DefinitionBody"]["paths"]["/referentiel"]


def _deployment(t):
    bid = front_bucket_id(t)
    return next(r["Properties"] for r in resources(t, "Custom::CDKBucketDeployment").values()
                if r["Properties"]["DestinationBucketName"] == {"Ref": bid})


def _break_login(t):
    """The page's client marker no longer resolves to the stage's client."""
    for markers in _deployment(t)["SourceMarkers"]:
        for k, v in list(markers.items()):
            if v.get("Ref", "").startswith("UtilisateursFront"):
                markers[k] = "un-autre-client"


def _break_login_domain(t):
    for markers in _deployment(t)["SourceMarkers"]:
        for k, v in list(markers.items()):
            if v.get("Ref", "").startswith("UtilisateursDomaine"):
                del markers[k]


def _dist_config(t):
    return the_distribution(t)[1]["Properties"]["DistributionConfig"]


def _front_policy_allow(t):
    bid = front_bucket_id(t)
    policy = next(r for r in resources(t, "AWS::S3::BucketPolicy").values() if r["Properties"]["Bucket"] == {"Ref": bid})
    return next(st for st in policy["Properties"]["PolicyDocument"]["Statement"] if st["Effect"] == "Allow")


def _break_front_public(t):
    _front_policy_allow(t)["Principal"] = "*"


def _break_front_any_distribution(t):
    _front_policy_allow(t)["Condition"] = {"StringLike": {"AWS:SourceArn": "arn:aws:cloudfront::*:distribution/*"}}


def _break_front_write(t):
    _front_policy_allow(t)["Action"] = ["s3:GetObject", "s3:PutObject"]


def _break_front_block(t):
    t["Resources"][front_bucket_id(t)]["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] = False


def _break_front_in_files_bucket(t):
    config = _dist_config(t)
    s3_origin = next(o for o in config["Origins"] if o["Id"] == config["DefaultCacheBehavior"]["TargetOriginId"])
    s3_origin["DomainName"] = {"Fn::GetAtt": [files_bucket(t, "prod")[0], "RegionalDomainName"]}


def _break_oac(t):
    config = _dist_config(t)
    for o in config["Origins"]:
        if o.pop("OriginAccessControlId", None):
            o["S3OriginConfig"]["OriginAccessIdentity"] = "origin-access-identity/cloudfront/E2EXEMPLE"


def _break_root_object(t):
    _dist_config(t).pop("DefaultRootObject")


def _break_http(t):
    _dist_config(t)["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = "allow-all"


def _break_api_http(t):
    _dist_config(t)["CacheBehaviors"][0]["ViewerProtocolPolicy"] = "allow-all"


def _break_api_route_missing(t):
    config = _dist_config(t)
    config["CacheBehaviors"] = [b for b in config["CacheBehaviors"] if b["PathPattern"] != "/imports/*"]


def _break_api_cached(t):
    _dist_config(t)["CacheBehaviors"][0]["CachePolicyId"] = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def _break_page_to_api(t):
    config = _dist_config(t)
    config["CacheBehaviors"].append({**config["CacheBehaviors"][0], "PathPattern": "/app.js"})


def _csp_policy(t):
    ref = _dist_config(t)["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]["Ref"]
    return t["Resources"][ref]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]


def _edit_csp(t, old, new):
    csp = _csp_policy(t)["ContentSecurityPolicy"]
    value = csp["ContentSecurityPolicy"]
    if isinstance(value, str):
        csp["ContentSecurityPolicy"] = value.replace(old, new, 1)
    else:
        parts = value["Fn::Join"][1]
        i = next(i for i, p in enumerate(parts) if isinstance(p, str) and old in p)
        parts[i] = parts[i].replace(old, new, 1)


def _break_csp_inline(t):
    _edit_csp(t, "script-src 'self'", "script-src 'self' 'unsafe-inline'")


def _break_csp_third_party(t):
    _edit_csp(t, "style-src 'self'", "style-src 'self' https://cdn.exemple.org")


def _break_csp_connect(t):
    _edit_csp(t, "connect-src 'self'", "connect-src 'self' https://api.exemple.org")


def _break_frame_ancestors(t):
    _edit_csp(t, "frame-ancestors 'none'", "frame-ancestors 'self'")


def _break_hsts(t):
    _csp_policy(t).pop("StrictTransportSecurity")


def _break_nosniff(t):
    _csp_policy(t).pop("ContentTypeOptions")


def _break_callback(t):
    client = next(iter(resources(t, "AWS::Cognito::UserPoolClient").values()))
    client["Properties"]["CallbackURLs"] = [{"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/prod/"}]


def _break_logout(t):
    next(iter(resources(t, "AWS::Cognito::UserPoolClient").values()))["Properties"].pop("LogoutURLs")


def _break_cors_origin(t):
    rule = files_bucket(t, "prod")[1]["Properties"]["CorsConfiguration"]["CorsRules"][0]
    rule["AllowedOrigins"] = [{"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}]


def _break_cycle(t):
    """The API function naming the front's client again (client → distribution → API → function)."""
    api = next(f for f in _functions(t) if f["Properties"]["Handler"] == "app.app")
    client = next(iter(resources(t, "AWS::Cognito::UserPoolClient")))
    api["Properties"]["Environment"]["Variables"]["LSU_COGNITO_CLIENT_ID"] = {"Ref": client}


def _break_no_invalidation(t):
    _deployment(t).pop("DistributionId")


def _break_deployment_source(t):
    _deployment(t)["SourceObjectKeys"].pop(0)


def _break_tracing(t):
    fn = next(f for f in _functions(t) if f["Properties"]["Handler"] == "app.on_bilans")
    fn["Properties"]["Tracing"] = "PassThrough"


def _break_xray_permission(t):
    fn = next(f for f in _functions(t) if f["Properties"]["Handler"] == "app.on_report")
    role = t["Resources"][getatt_target(fn["Properties"]["Role"])]
    doc = role["Properties"]["Policies"][0]["PolicyDocument"]
    doc["Statement"] = [st for st in doc["Statement"] if not any(
        a.startswith("xray:") for a in listify(st.get("Action", [])))]


def _break_namespace(t):
    fn = next(f for f in _functions(t) if f["Properties"]["Handler"] == "app.on_upload")
    fn["Properties"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] = "LSU/Import"


BROKEN = [
    (check_report_batch_item_failures, _break_rbif),
    (check_event_sources_bound_to_stage_queues, _break_binding),
    (check_queues_have_dlqs, _break_redrive),
    (check_queues_have_dlqs, _break_visibility),
    (check_functions_fit_their_queues, _break_timeout),
    (check_function_settings, _break_shared_role),
    (check_no_wildcard_data_access, _break_wildcard),
    (check_no_wildcard_data_access, _break_wildcard_action),
    (check_tables, _break_pitr),
    (check_tables, _break_keys),
    (check_bucket, _break_public),
    (check_bucket, _break_encryption),
    (check_upload_notification, _break_notification),
    (check_upload_notification, _break_second_queue_policy),
    (check_cognito_authorizer, _break_authorizer),
    (check_cognito_authorizer, _break_public_route),
    (check_cognito_authorizer, _break_groups),
    (check_routes_match_the_app, _break_route),
    (check_alarms, _break_alarm),
    (check_front_login, _break_login),
    (check_front_login, _break_login_domain),
    (check_front_bucket, _break_front_public),
    (check_front_bucket, _break_front_any_distribution),
    (check_front_bucket, _break_front_write),
    (check_front_bucket, _break_front_block),
    (check_front_bucket, _break_front_in_files_bucket),
    (check_front_distribution, _break_oac),
    (check_front_distribution, _break_root_object),
    (check_front_distribution, _break_http),
    (check_front_distribution, _break_api_http),
    (check_front_distribution, _break_api_route_missing),
    (check_front_distribution, _break_api_cached),
    (check_front_distribution, _break_page_to_api),
    (check_front_headers, _break_csp_inline),
    (check_front_headers, _break_csp_third_party),
    (check_front_headers, _break_csp_connect),
    (check_front_headers, _break_frame_ancestors),
    (check_front_headers, _break_hsts),
    (check_front_headers, _break_nosniff),
    (check_front_origin, _break_callback),
    (check_front_origin, _break_logout),
    (check_front_origin, _break_cors_origin),
    (check_no_dependency_cycle, _break_cycle),
    (check_front_deployment, _break_no_invalidation),
    (check_front_deployment, _break_deployment_source),
    (check_tracing_and_powertools, _break_tracing),
    (check_tracing_and_powertools, _break_xray_permission),
    (check_tracing_and_powertools, _break_namespace),
    (check_watchdog, _break_watchdog_schedule),
    (check_watchdog, _break_watchdog_list_everything),
    (check_watchdog, _break_watchdog_alarm),
    (check_tables, _break_actifs_index),
]


@pytest.mark.parametrize("check, breaker", BROKEN, ids=lambda x: x.__name__.lstrip("_").removeprefix("check_"))
def test_check_catches(check, breaker):
    t = copy.deepcopy(load_template("prod"))
    breaker(t)
    assert check(t, "prod") != []


def test_packaging_copies_the_schema_folder_and_removes_it_after(tmp_path, monkeypatch):
    """infra/lsu_infra/packaging.py on a project of the test's own: every XSD and the manifest of
    LSU_SCHEMA_DIR (here the TEST folder of tests/schema_fixtures.py), then nothing left."""
    monkeypatch.syspath_prepend(str(ROOT / "infra"))
    monkeypatch.syspath_prepend(str(ROOT / "tests"))
    from lsu_infra.packaging import packaged_schema
    from schema_fixtures import derived_test_schema_dir
    folder = derived_test_schema_dir(tmp_path / "schemas")
    (folder / "notes.txt").write_text("pas un schéma", encoding="utf-8")
    project = tmp_path / "project"
    (project / "chalicelib").mkdir(parents=True)
    monkeypatch.setenv("LSU_SCHEMA_DIR", str(folder))
    monkeypatch.delenv("LSU_XSD_PATH", raising=False)
    with packaged_schema(project) as target:
        assert sorted(p.name for p in target.iterdir()) == ["import-complet-strict.xsd", "lsu-test-99.xsd",
                                                           "manifest.json"]
        assert (target / "lsu-test-99.xsd").read_bytes() == (folder / "lsu-test-99.xsd").read_bytes()
    assert not (project / "chalicelib" / "schema").exists()
