"""What each Lambda function may touch: one policy per function, built from this table.

Read from the code (chalicelib/*.py, and the requests `bench/count_requests.py` counts per
operation). A function that starts calling a new API or a new prefix needs its line here: the
stack refuses a function it has no line for. No `*` resource: every statement names a table
(or its indexes), a queue, a bucket prefix or the function's own log group."""
from __future__ import annotations

# DynamoDB actions. TransactWriteItems has no action of its own: each item of a transaction
# needs PutItem/UpdateItem/ConditionCheckItem on its table.
GET = ("dynamodb:GetItem",)
BATCH_GET = ("dynamodb:BatchGetItem",)
QUERY = ("dynamodb:Query",)
PUT = ("dynamodb:PutItem", "dynamodb:ConditionCheckItem")
UPDATE = ("dynamodb:UpdateItem", "dynamodb:ConditionCheckItem")

# SQS: the event source mapping polls with the function's role.
CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
           "sqs:GetQueueAttributes", "sqs:GetQueueUrl")
SEND = ("sqs:SendMessage", "sqs:GetQueueUrl")

# S3 key prefixes (chalicelib: api.upload_key, api.referentiel_key, splitter.bilan_messages,
# report.synthese_key). HeadObject is allowed by s3:GetObject.
IMPORTS, REFERENTIELS, MESSAGES, SYNTHESES = "imports/", "referentiels/", "messages/", "syntheses/"
# SIECLE / STS Web exports too large for a request body: uploaded by a presigned POST, read back
# by the API (chalicelib/api/referentiel.py).
EXPORTS = "depots-referentiel/"
# What the splitter sent, by identity (chalicelib/pipeline/manifest.py), read by the watchdog.
MANIFESTS = "manifestes/"

# function (Chalice name) → {"tables": {table role: actions}, "indexes": {table role: actions},
#                            "s3": {prefix: actions}, "consumes": queue role, "sends": [queue roles],
#                            "s3_list": [prefixes whose keys it may list (ListBucket, by prefix)]}
ACCESS: dict[str, dict] = {
    # Routes: presigned upload (the POST to S3 is signed with this role), imports, référentiel,
    # bilans (search by division through the GSI, completion, locks), synthèse read from S3.
    "api_handler": {
        "tables": {"imports": GET + QUERY + PUT + UPDATE, "bilans": GET + QUERY + PUT + UPDATE,
                   "etablissements": GET + PUT + UPDATE},
        "indexes": {"bilans": QUERY},
        "s3": {IMPORTS: ("s3:PutObject",), REFERENTIELS: ("s3:GetObject", "s3:PutObject"),
               SYNTHESES: ("s3:GetObject",), EXPORTS: ("s3:GetObject", "s3:PutObject")},
        "s3_list": [EXPORTS],          # whether an announced export was deposited (its exact key)
        "consumes": None, "sends": [],
    },
    # Splitter: reads the uploaded file, takes the school's lease, sends messages of up to 10 bilans
    # (a large bilan by reference to S3), asks for the report of an empty or rejected file.
    "on_upload": {
        "tables": {"imports": GET + UPDATE, "etablissements": GET + UPDATE},
        "indexes": {},
        "s3": {IMPORTS: ("s3:GetObject",), MESSAGES: ("s3:PutObject",), MANIFESTS: ("s3:PutObject",)},
        "consumes": "uploads", "sends": ["bilans", "report"],
    },
    # Worker: one transaction per batch (bilans, results, counters), référentiel read once per
    # version, report request.
    "on_bilans": {
        "tables": {"bilans": GET + BATCH_GET + PUT, "resultats": PUT, "imports": GET + UPDATE},
        "indexes": {},
        "s3": {MESSAGES: ("s3:GetObject",), REFERENTIELS: ("s3:GetObject",)},
        "consumes": "bilans", "sends": ["report"],
    },
    # Dead messages: each bilan retried alone (as the worker writes it), those still failing
    # recorded ERREUR_TECHNIQUE with their counters, then the report request.
    "on_bilans_dead_letters": {
        "tables": {"bilans": GET + BATCH_GET + PUT, "resultats": PUT, "imports": GET + UPDATE},
        "indexes": {},
        "s3": {MESSAGES: ("s3:GetObject",), REFERENTIELS: ("s3:GetObject",)},
        "consumes": "bilans-dlq", "sends": ["report"],
    },
    # Report: reads the results, writes the synthèse, marks the import finished, frees the school.
    "on_report": {
        "tables": {"resultats": QUERY, "imports": GET + UPDATE, "etablissements": GET + UPDATE},
        "indexes": {},
        "s3": {SYNTHESES: ("s3:PutObject",)},
        "consumes": "report", "sends": [],
    },
    # Watchdog (scheduled): the imports not over (sparse index), their results and manifest; a
    # bilan without a result recorded ERREUR_TECHNIQUE with its counters (a transaction), the import
    # marked interrupted or expired, its report asked for; whether a waited-for file came (a list
    # of its exact key).
    "on_watchdog": {
        "tables": {"imports": GET + UPDATE, "resultats": QUERY + PUT},
        "indexes": {"imports": QUERY},
        "s3": {MANIFESTS: ("s3:GetObject",), IMPORTS: ("s3:GetObject",)},
        "s3_list": [IMPORTS],
        "consumes": None, "sends": ["report"],
    },
}
