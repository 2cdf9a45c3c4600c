"""The stack of one stage (dev, prod): the Chalice app (API Gateway + Lambda, packaged by
`chalice package` through Chalice's CDK construct) and everything around it.

Resource names come from the stage's environment variables in `.chalice/config.json`, the same
ones the code reads (chalicelib/config.py). What Chalice cannot express is set here through the
construct's escape hatch, on the SAM template it generates:

- each SQS event of a function is bound to this stage's queue (app.py names the base queues)
  with ReportBatchItemFailures and a maximum concurrency;
- each function gets its own role with one least-privilege policy (lsu_infra/access.py), a fixed
  name and a log group with a retention;
- X-Ray active tracing on every function (Chalice's `xray` setting: `Tracing: Active`), its role
  allowed to send the segments; the Powertools variables (service, metrics namespace) come from
  `.chalice/config.json` like the other variables;
- the REST API gets a Cognito authorizer on every method but the front's two public files, and
  French JSON bodies for API Gateway's own 401/403;
- the web front (lsu_infra/front.py): chalicelib/api/static/ deployed to a private bucket of its
  own, served by a CloudFront distribution (Origin Access Control, HTTPS, security headers) that
  also routes the API's paths to API Gateway: the front's origin is the distribution's, for the
  Cognito callback and logout URLs and the files bucket's CORS.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.api.auth import ROLES
from chalicelib.domain.catalogue import message
from chalicelib.config import DEFAULT_NAMES, UPLOAD_PREFIX
from chalicelib.config import QUEUE_SETTINGS, dlq_name
from chalicelib.pipeline.handoff import REPORT_REQUEST_STALE_SECONDS
from chalicelib.observability import METRICS_NAMESPACE
from lsu_infra import front
from lsu_infra.access import ACCESS, CONSUME, EXPORTS, IMPORTS, MANIFESTS, MESSAGES, SEND

APP_NAME = "lsu-import"
# In the Lambda package (chalicelib/schema/ is filled by the packaging step, infra/lsu_infra/packaging.py):
# the schema folder (its XSD files and manifest), the functions' LSU_SCHEMA_DIR.
PACKAGED_SCHEMA_DIR = "/var/task/chalicelib/schema"
PACKAGED_XSD = f"{PACKAGED_SCHEMA_DIR}/import-complet-strict.xsd"
# The front's two files: public routes of the API (the local stack serves them), on AWS the
# distribution's bucket's (lsu_infra/front.py); the page then logs in.
PUBLIC_ROUTES = {("/", "get"), ("/app.js", "get")}
# Routes of the API itself without a token (CloudFront sends them to the API, not to the bucket).
PUBLIC_API_ROUTES = {("/openapi.json", "get")}
# Cognito attributes: the school of the user and, for teachers, their STS identifier.
UAI_ATTRIBUTE, ID_STS_ATTRIBUTE = "uai", "id_sts"
# Results of an import (idempotency keys of its bilans): kept this long after their write.
RESULTATS_TTL_ATTRIBUTE = "expire_le"
# Age of the oldest message (s) above which a queue is late.
OLDEST_MESSAGE_ALARM = {"uploads": 1800, "bilans": 900, "report": 600, "bilans-dlq": 900}
# Event source mappings of stages without a reserved concurrency.
DEFAULT_MAX_CONCURRENCY = 5
# What a function's role needs for active tracing (Lambda's documentation: the segments the
# function's X-Ray daemon sends; sampling is Lambda's, not the SDK's).
XRAY_WRITE = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


def stage_config(project_dir: Path, stage: str) -> dict:
    """The stage's Chalice configuration merged as Chalice does (global, then stage)."""
    config = json.loads((project_dir / ".chalice" / "config.json").read_text(encoding="utf-8"))
    if stage not in config.get("stages", {}):
        raise ValueError(f"étape inconnue de .chalice/config.json : {stage}")
    st = config["stages"][stage]
    env = {**config.get("environment_variables", {}), **st.get("environment_variables", {})}
    missing = sorted(set(DEFAULT_NAMES) - set(env))
    if missing:
        raise ValueError(f"étape {stage} : noms de ressources absents de .chalice/config.json : {missing}")
    return {"env": env, "functions": {**config.get("lambda_functions", {}), **st.get("lambda_functions", {})}}


class LsuImportStack(Stack):
    """One stage of lsu-import. The construct id is the Chalice stage name (the Chalice construct
    packages the stage named after its scope)."""

    def __init__(self, scope: Construct, stage: str, *, project_dir: Path, front_origin: str | None = None,
                 alarm_email: str | None = None, cognito_domain_prefix: str | None = None,
                 callback_urls: list[str] | None = None, **kwargs) -> None:
        super().__init__(scope, stage, stack_name=f"{APP_NAME}-{stage}", **kwargs)
        self.stage, self.project_dir = stage, project_dir
        cfg = stage_config(project_dir, stage)
        self.names, self.function_config = cfg["env"], cfg["functions"]
        prod = stage == "prod"
        self.keep = RemovalPolicy.RETAIN if prod else RemovalPolicy.DESTROY

        self.alarm_topic = sns.Topic(self, "Alarmes", display_name=f"{APP_NAME} {stage} : alarmes",
                                     enforce_ssl=True)
        if alarm_email:
            self.alarm_topic.add_subscription(subs.EmailSubscription(alarm_email))

        self.queues = self._queues()
        self.tables = self._tables(prod)
        self.chalice = self._chalice(project_dir)
        self.user_pool = self._user_pool(cognito_domain_prefix)
        # The front is served by the distribution (its bucket, and the API's paths): its origin
        # is the distribution's, unless a domain pointed at it is given.
        self.front_bucket, self.distribution = self._front(project_dir)
        origin = front_origin or cdk.Fn.join("", ["https://", self.distribution.distribution_domain_name])
        self.user_pool_client = self._client(callback_urls or [cdk.Fn.join("", [origin, "/"])],
                                             [cdk.Fn.join("", [origin, "/"])])
        self.bucket = self._bucket(origin)
        self._functions()
        self._authorizer()
        self._front_deployment(project_dir)
        self._alarms()

        cdk.CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=self.user_pool_client.user_pool_client_id)
        cdk.CfnOutput(self, "Bucket", value=self.bucket.bucket_name)
        cdk.CfnOutput(self, "FrontOrigin", value=origin)
        cdk.CfnOutput(self, "FrontBucket", value=self.front_bucket.bucket_name)
        cdk.CfnOutput(self, "DistributionId", value=self.distribution.distribution_id)

    # --- queues --------------------------------------------------------------------------------

    def _queue(self, cid: str, name: str, visibility: int, dlq: sqs.Queue | None, max_receive: int,
               retention: Duration) -> sqs.Queue:
        return sqs.Queue(
            self, cid, queue_name=name, visibility_timeout=Duration.seconds(visibility),
            retention_period=retention, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive) if dlq else None,
            removal_policy=RemovalPolicy.DESTROY)

    def _queues(self) -> dict[str, sqs.Queue]:
        """Queue and DLQ per role, with local/resources.py's visibility and receive counts. The
        bilans DLQ is consumed (poison bilans become ERREUR_TECHNIQUE): it has its own DLQ."""
        bilans_visibility = QUEUE_SETTINGS["bilans"][0]
        if bilans_visibility <= REPORT_REQUEST_STALE_SECONDS:
            raise ValueError("la visibilité de la file des bilans doit dépasser "
                             f"handoff.REPORT_REQUEST_STALE_SECONDS ({REPORT_REQUEST_STALE_SECONDS} s)")
        fourteen_days, four_days = Duration.days(14), Duration.days(4)
        names = {"uploads": self.names["LSU_UPLOADS_QUEUE"], "bilans": self.names["LSU_BILANS_QUEUE"],
                 "report": self.names["LSU_REPORT_QUEUE"]}
        queues: dict[str, sqs.Queue] = {}
        for role, name in names.items():
            visibility, max_receive = QUEUE_SETTINGS[role]
            title = role.capitalize()
            if role == "bilans":
                last = self._queue("BilansDlqDlq", dlq_name(dlq_name(name)), 30, None, 0, fourteen_days)
                dlq = self._queue("BilansDlq", dlq_name(name), 30, last, 5, fourteen_days)
                queues["bilans-dlq-dlq"] = last
            else:
                dlq = self._queue(f"{title}Dlq", dlq_name(name), 30, None, 0, fourteen_days)
            queues[f"{role}-dlq"] = dlq
            queues[role] = self._queue(f"{title}Queue", name, visibility, dlq, max_receive, four_days)
        return queues

    # --- tables --------------------------------------------------------------------------------

    def _table(self, cid: str, name: str, pk: str, sk: str | None, prod: bool, ttl: str | None = None) -> ddb.Table:
        return ddb.Table(
            self, cid, table_name=name,
            partition_key=ddb.Attribute(name=pk, type=ddb.AttributeType.STRING),
            sort_key=ddb.Attribute(name=sk, type=ddb.AttributeType.STRING) if sk else None,
            billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            encryption=ddb.TableEncryption.AWS_MANAGED, deletion_protection=prod,
            time_to_live_attribute=ttl, removal_policy=self.keep)

    def _tables(self, prod: bool) -> dict[str, ddb.Table]:
        """Keys of chalicelib/store.py's models. Every partition key starts with the school (UAI),
        then the import or the élève: thousands of schools importing at once spread over as many
        partitions (docs/capacite.md)."""
        n = self.names
        bilans = self._table("Bilans", n["LSU_BILANS_TABLE"], "eleve_key", "cle", prod)
        bilans.add_global_secondary_index(
            index_name="par-division",
            partition_key=ddb.Attribute(name="division_key", type=ddb.AttributeType.STRING),
            sort_key=ddb.Attribute(name="cle", type=ddb.AttributeType.STRING),
            projection_type=ddb.ProjectionType.ALL)
        imports = self._table("Imports", n["LSU_IMPORTS_TABLE"], "uai", "import_id", prod)
        # The imports not over, every school's (sparse: `actif` only while waiting or running), for
        # the watchdog; keys only, so the counters' updates never write to it.
        imports.add_global_secondary_index(
            index_name="actifs",
            partition_key=ddb.Attribute(name="actif", type=ddb.AttributeType.STRING),
            sort_key=ddb.Attribute(name="cree_le", type=ddb.AttributeType.STRING),
            projection_type=ddb.ProjectionType.KEYS_ONLY)
        return {
            "imports": imports,
            "resultats": self._table("Resultats", n["LSU_RESULTATS_TABLE"], "import_key", "bilan_id", prod,
                                     ttl=RESULTATS_TTL_ATTRIBUTE),
            "bilans": bilans,
            "etablissements": self._table("Etablissements", n["LSU_ETABLISSEMENTS_TABLE"], "uai", None, prod),
        }

    # --- Cognito -------------------------------------------------------------------------------

    def _user_pool(self, domain_prefix: str | None) -> cognito.UserPool:
        """Users are created by the académie (no self sign-up), one group per LSU role; the
        school (UAI) and the STS identifier are attributes only administrators write. The
        hosted UI's domain (the page logs in there) when a prefix is given."""
        pool = cognito.UserPool(
            self, "Utilisateurs", user_pool_name=f"{APP_NAME}-{self.stage}",
            self_sign_up_enabled=False, sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            custom_attributes={
                UAI_ATTRIBUTE: cognito.StringAttribute(min_len=8, max_len=8, mutable=True),
                ID_STS_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=32, mutable=True),
            },
            password_policy=cognito.PasswordPolicy(min_length=12, require_digits=True, require_lowercase=True,
                                                   require_uppercase=True, require_symbols=False),
            mfa=cognito.Mfa.OPTIONAL, mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            user_invitation=cognito.UserInvitationConfig(
                email_subject="LSU collège : votre compte",
                email_body="Bonjour,<br>votre compte LSU « Bilans > Import » est créé. Identifiant : "
                           "{username} ; mot de passe provisoire : {####} (à changer à la première connexion)."),
            user_verification=cognito.UserVerificationConfig(
                email_subject="LSU collège : code de vérification",
                email_body="Votre code de vérification LSU : {####}",
                email_style=cognito.VerificationEmailStyle.CODE),
            removal_policy=self.keep)
        for precedence, role in enumerate(ROLES):
            cognito.CfnUserPoolGroup(self, f"Groupe{role.title().replace('_', '')}", user_pool_id=pool.user_pool_id,
                                     group_name=role, precedence=precedence,
                                     description=f"Rôle LSU {role}")
        self.login_domain = None   # the hosted UI the web front logs in with (app.js, PKCE)
        if domain_prefix:
            domain = pool.add_domain("Domaine", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix))
            self.login_domain = domain.base_url()
        return pool

    def _client(self, callback_urls: list[str], logout_urls: list[str]) -> cognito.UserPoolClient:
        """The front's client: authorization code + PKCE, back to the front's origin."""
        read = cognito.ClientAttributes().with_standard_attributes(email=True, fullname=True).with_custom_attributes(
            UAI_ATTRIBUTE, ID_STS_ATTRIBUTE)
        return self.user_pool.add_client(
            "Front", user_pool_client_name=f"{APP_NAME}-{self.stage}-front", generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(flows=cognito.OAuthFlows(authorization_code_grant=True),
                                         scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                                         callback_urls=callback_urls, logout_urls=logout_urls),
            read_attributes=read,
            write_attributes=cognito.ClientAttributes().with_standard_attributes(fullname=True),
            id_token_validity=Duration.hours(1), access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12), prevent_user_existence_errors=True)

    # --- the Chalice app -----------------------------------------------------------------------

    def _chalice(self, project_dir: Path) -> Chalice:
        """`chalice package` of this stage. Roles are the stack's (one per function, set below):
        Chalice must not make its own; the placeholder ARN is replaced on every function."""
        return Chalice(self, "App", source_dir=str(project_dir), stage_config={
            "manage_iam_role": False,
            "iam_role_arn": "arn:aws:iam::123456789012:role/remplace-par-la-pile",
            "api_gateway_endpoint_type": "REGIONAL",
            "xray": True,   # Tracing: Active on every function (the Powertools Tracer, chalicelib/observability.py)
            "environment_variables": {"LSU_SCHEMA_DIR": PACKAGED_SCHEMA_DIR},
        })

    def _sam(self) -> dict:
        """The SAM template Chalice generated (the construct keeps it in its package folder)."""
        path = Path(self.chalice._sam_package_dir) / "sam.json"   # noqa: SLF001 — no public accessor
        return json.loads(path.read_text(encoding="utf-8"))

    def _api_paths(self) -> dict:
        """The paths of Chalice's Swagger definition (the app's routes)."""
        return self._sam()["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]

    def _functions(self) -> None:
        sam = self._sam()
        functions = {lid: r for lid, r in sam["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
        by_base_name = {self._base_queue_name(role): q for role, q in self.queues.items()}
        for logical_id, resource in functions.items():
            name = _chalice_function_name(resource["Properties"]["Handler"])
            if name not in ACCESS:
                raise ValueError(f"fonction {name} ({logical_id}) sans ligne dans infra/lsu_infra/access.py")
            access = ACCESS[name]
            function_name = f"{APP_NAME}-{self.stage}-{name}"
            log_group = logs.LogGroup(
                self, f"Logs{logical_id}", log_group_name=f"/aws/lambda/{function_name}",
                retention=logs.RetentionDays.THREE_MONTHS if self.stage == "prod" else logs.RetentionDays.TWO_WEEKS,
                removal_policy=RemovalPolicy.DESTROY)
            role = iam.Role(
                self, f"Role{logical_id}",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"{APP_NAME} {self.stage} : {name}",
                inline_policies={"acces": self._policy(access, log_group)})
            fn = self.chalice.get_resource(logical_id)
            fn.add_property_override("Role", role.role_arn)
            fn.add_property_override("FunctionName", function_name)
            fn.add_resource_dependency(log_group.node.default_child)
            # No LSU_COGNITO_* on the API function: on AWS the page comes from the front bucket,
            # rendered with them (_front_deployment); the function naming the client would close a
            # cycle (client → distribution → API → function → client).
            reserved = self.function_config.get(name, {}).get("reserved_concurrency")
            for event_name, event in (resource["Properties"].get("Events") or {}).items():
                if event["Type"] != "SQS":
                    continue
                base = _queue_name_of(event["Properties"]["Queue"])
                queue = by_base_name.get(base)
                if queue is None or access["consumes"] is None or by_base_name[base] is not self.queues[access["consumes"]]:
                    raise ValueError(f"{name} consomme {base}, que infra/lsu_infra/access.py ne lui donne pas")
                prefix = f"Events.{event_name}.Properties"
                fn.add_property_override(f"{prefix}.Queue", queue.queue_arn)
                fn.add_property_override(f"{prefix}.FunctionResponseTypes", ["ReportBatchItemFailures"])
                fn.add_property_override(f"{prefix}.ScalingConfig",
                                         {"MaximumConcurrency": max(2, reserved or DEFAULT_MAX_CONCURRENCY)})

    def _base_queue_name(self, role: str) -> str:
        """The name app.py's decorators use for a queue of this stage (the base, local names)."""
        base = {"uploads": DEFAULT_NAMES["LSU_UPLOADS_QUEUE"], "bilans": DEFAULT_NAMES["LSU_BILANS_QUEUE"],
                "report": DEFAULT_NAMES["LSU_REPORT_QUEUE"]}
        main, _, rest = role.partition("-")
        name = base[main]
        for _ in range(rest.count("dlq")):
            name = dlq_name(name)
        return name

    def _policy(self, access: dict, log_group: logs.LogGroup) -> iam.PolicyDocument:
        statements = [iam.PolicyStatement(
            sid="Journaux", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[f"{log_group.log_group_arn}"])]
        # Active tracing: Lambda's X-Ray daemon sends the segments with the function's role (X-Ray
        # has no resource-level permissions for these actions: `*` is the only resource).
        statements.append(iam.PolicyStatement(
            sid="Traces", actions=sorted(XRAY_WRITE), resources=["*"]))
        for role, actions in access["tables"].items():
            statements.append(iam.PolicyStatement(
                sid=f"Table{role.capitalize()}", actions=sorted(set(actions)),
                resources=[self.tables[role].table_arn]))
        for role, actions in access["indexes"].items():
            statements.append(iam.PolicyStatement(
                sid=f"Index{role.capitalize()}", actions=sorted(set(actions)),
                resources=[f"{self.tables[role].table_arn}/index/*"]))
        bucket_arn = f"arn:{Aws.PARTITION}:s3:::{self.names['LSU_BUCKET']}"   # by name: no cycle with CORS
        for prefix, actions in access["s3"].items():
            statements.append(iam.PolicyStatement(
                sid=f"Fichiers{_sid(prefix)}", actions=sorted(set(actions)),
                resources=[f"{bucket_arn}/{prefix}*"]))
        for prefix in access.get("s3_list", []):
            statements.append(iam.PolicyStatement(
                sid=f"Liste{_sid(prefix)}", actions=["s3:ListBucket"], resources=[bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}}))
        if access["consumes"]:
            statements.append(iam.PolicyStatement(
                sid="Consomme", actions=sorted(CONSUME),
                resources=[self.queues[access["consumes"]].queue_arn]))
        if access["sends"]:
            statements.append(iam.PolicyStatement(
                sid="Envoie", actions=sorted(SEND),
                resources=[self.queues[r].queue_arn for r in access["sends"]]))
        return iam.PolicyDocument(statements=statements)

    # --- API authorizer ------------------------------------------------------------------------

    def _authorizer(self) -> None:
        """A Cognito user pool authorizer on every method of Chalice's Swagger definition except
        the public files, and API Gateway's own 401/403 in the API's French JSON."""
        api = self.chalice.get_resource("RestAPI")
        body = "DefinitionBody"
        api.add_property_override(f"{body}.securityDefinitions", {"Cognito": {
            "type": "apiKey", "name": "Authorization", "in": "header",
            "x-amazon-apigateway-authtype": "cognito_user_pools",
            "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools",
                                               "providerARNs": [self.user_pool.user_pool_arn]}}})
        paths = self._api_paths()
        public = front.public_routes(paths, PUBLIC_ROUTES | PUBLIC_API_ROUTES, front.static_segments(self.project_dir))
        for path, methods in paths.items():
            for method in methods:
                if method.startswith("x-") or (path, method) in public:
                    continue
                escaped = path.replace(".", "\\.")
                api.add_property_override(f"{body}.paths.{escaped}.{method}.security", [{"Cognito": []}])

        def gateway_response(status: str, code: str) -> dict:
            return {"statusCode": status, "responseTemplates": {
                "application/json": json.dumps({"erreur": message(code)}, ensure_ascii=False)}}
        api.add_property_override(f"{body}.x-amazon-apigateway-gateway-responses", {
            "UNAUTHORIZED": gateway_response("401", "AUTH_REQUIRED"),
            "ACCESS_DENIED": gateway_response("403", "FORBIDDEN"),
        })
        api.add_property_override("MethodSettings", [{
            "ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": 200, "ThrottlingBurstLimit": 400}])

    # --- the web front -------------------------------------------------------------------------

    def _front(self, project_dir: Path) -> tuple[s3.Bucket, cloudfront.Distribution]:
        """The front's private bucket and the distribution: the bucket by Origin Access Control
        (the bucket policy lets only this distribution read), the API's paths to API Gateway
        (this stage's path, nothing cached, the viewer's headers but Host, the token included)."""
        bucket = s3.Bucket(
            self, "Front", block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, versioned=False,
            removal_policy=self.keep)
        page = front.rendered_page(project_dir, self.names["LSU_BUCKET"], None, None)
        connect = [f"https://{self.names['LSU_BUCKET']}.s3.{Aws.REGION}.{Aws.URL_SUFFIX}",   # presigned POST
                   f"https://{self.names['LSU_BUCKET']}.s3.{Aws.URL_SUFFIX}"]
        if self.login_domain:
            connect.insert(0, self.login_domain)                                              # /oauth2/token
        headers = front.security_headers(self, "EnTetesFront", f"{APP_NAME}-{self.stage}-front",
                                         front.content_security_policy(page, connect))
        api = origins.HttpOrigin(
            cdk.Fn.sub("${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}",
                       {"Api": self.chalice.get_resource("RestAPI").ref}),
            origin_path=f"/{self.stage}", protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2])
        api_behavior = cloudfront.BehaviorOptions(
            origin=api, viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=headers)
        paths, static = self._api_paths(), front.static_segments(project_dir)
        patterns = front.api_path_patterns(paths, front.public_routes(paths, PUBLIC_ROUTES, static), static)
        distribution = cloudfront.Distribution(
            self, "Distribution", comment=f"{APP_NAME} {self.stage} : le front et l'API",
            default_root_object=front.PAGE,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers),
            additional_behaviors={p: api_behavior for p in patterns},
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3)
        return bucket, distribution

    def _front_deployment(self, project_dir: Path) -> None:
        """chalicelib/api/static/ into the front bucket at deploy time (a Lambda of CDK's), the
        page rendered with this stage's login domain and client; the distribution's cache
        invalidated. In dev the files go with the stack (the bucket can then be deleted)."""
        static = project_dir / front.STATIC_DIR
        client = self.user_pool_client.user_pool_client_id
        sources = [s3deploy.Source.asset(str(static), exclude=[front.PAGE]),
                   s3deploy.Source.data(front.PAGE, front.rendered_page(
                       project_dir, self.names["LSU_BUCKET"], self.login_domain, client))]
        s3deploy.BucketDeployment(
            self, "DeploiementFront", destination_bucket=self.front_bucket, sources=sources,
            distribution=self.distribution, distribution_paths=["/*"], prune=True,
            cache_control=[s3deploy.CacheControl.no_cache()],
            retain_on_delete=self.stage == "prod", memory_limit=256)

    # --- bucket --------------------------------------------------------------------------------

    def _bucket(self, origin: str) -> s3.Bucket:
        """Private, encrypted, TLS only; the browser's POST (presigned) from the front's origin
        only; uploaded files and message claim checks expire. ObjectCreated on imports/ feeds
        the uploads queue (set on the L1 bucket: CDK's helper would add a Lambda with a `*`)."""
        bucket = s3.Bucket(
            self, "Fichiers", bucket_name=self.names["LSU_BUCKET"],
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL, encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, versioned=False,
            cors=[s3.CorsRule(allowed_origins=[origin], allowed_methods=[s3.HttpMethods.POST],
                              allowed_headers=["*"], max_age=3000)],
            lifecycle_rules=[
                s3.LifecycleRule(id="fichiers-importes", prefix=IMPORTS, expiration=Duration.days(30)),
                s3.LifecycleRule(id="messages-volumineux", prefix=MESSAGES, expiration=Duration.days(15)),
                s3.LifecycleRule(id="manifestes", prefix=MANIFESTS, expiration=Duration.days(30)),
                # Exports deposited for the référentiel: read once, within minutes of their upload.
                s3.LifecycleRule(id="depots-referentiel", prefix=EXPORTS, expiration=Duration.days(1)),
                s3.LifecycleRule(id="envois-incomplets", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
            removal_policy=self.keep)
        uploads = self.queues["uploads"]
        # Added to the queue's one policy (with enforce_ssl's statement): two AWS::SQS::QueuePolicy
        # on one queue would overwrite each other.
        uploads.add_to_resource_policy(iam.PolicyStatement(
            sid="NotificationsS3", principals=[iam.ServicePrincipal("s3.amazonaws.com")],
            actions=["sqs:SendMessage"], resources=[uploads.queue_arn],
            conditions={"ArnLike": {"aws:SourceArn": f"arn:{Aws.PARTITION}:s3:::{self.names['LSU_BUCKET']}"},
                        "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}))
        cfn_bucket: s3.CfnBucket = bucket.node.default_child
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[s3.CfnBucket.QueueConfigurationProperty(
                event="s3:ObjectCreated:*", queue=uploads.queue_arn,
                filter=s3.CfnBucket.NotificationFilterProperty(s3_key=s3.CfnBucket.S3KeyFilterProperty(
                    rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=UPLOAD_PREFIX)])))])
        cfn_bucket.add_resource_dependency(uploads.node.find_child("Policy").node.default_child)   # S3 checks it may send
        return bucket

    # --- alarms --------------------------------------------------------------------------------

    def _alarms(self) -> None:
        action = cw_actions.SnsAction(self.alarm_topic)
        for role, queue in self.queues.items():
            cid = "".join(p.capitalize() for p in role.split("-"))
            if role.endswith("dlq"):
                alarm = cw.Alarm(
                    self, f"Profondeur{cid}", alarm_name=f"{APP_NAME}-{self.stage}-{role}-messages",
                    alarm_description=f"Messages en file d'erreurs ({queue.node.id}) : voir docs/deploiement.md",
                    metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5),
                                                                             statistic="Maximum"),
                    threshold=0, comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    evaluation_periods=1, treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
                alarm.add_alarm_action(action)
            if role in OLDEST_MESSAGE_ALARM:
                alarm = cw.Alarm(
                    self, f"Age{cid}", alarm_name=f"{APP_NAME}-{self.stage}-{role}-age",
                    alarm_description=f"Message le plus ancien de {queue.node.id} au-delà de "
                                      f"{OLDEST_MESSAGE_ALARM[role]} s : traitement en retard",
                    metric=queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(5),
                                                                         statistic="Maximum"),
                    threshold=OLDEST_MESSAGE_ALARM[role], evaluation_periods=2,
                    comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
                alarm.add_alarm_action(action)
        # The watchdog (chalicelib/pipeline/watchdog.py): an import it had to finish means bilans
        # were lost on the way; a round that failed leaves imports unfinished.
        for metric_name, cid, text in (
                ("ImportsInterrompus", "ImportsInterrompus",
                 "Import(s) terminé(s) par la surveillance : des bilans ont été perdus en route (docs/deploiement.md)"),
                ("ImportsSurveillanceEnEchec", "SurveillanceEnEchec",
                 "La surveillance des imports n'a pas pu traiter certains imports (journaux de on_watchdog)")):
            alarm = cw.Alarm(
                self, f"Alarme{cid}", alarm_name=f"{APP_NAME}-{self.stage}-{metric_name}",
                alarm_description=text,
                metric=cw.Metric(namespace=METRICS_NAMESPACE, metric_name=metric_name,
                                 dimensions_map={"service": APP_NAME, "stage": self.stage},
                                 period=Duration.minutes(15), statistic="Sum"),
                threshold=0, comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1, treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
            alarm.add_alarm_action(action)


def _sid(prefix: str) -> str:
    """A policy statement id from an S3 prefix (IAM: alphanumeric only): depots-referentiel/ →
    DepotsReferentiel."""
    return "".join(w.capitalize() for w in re.split(r"[^A-Za-z0-9]+", prefix) if w)


def _chalice_function_name(handler: str) -> str:
    """`app.on_bilans` → `on_bilans`; the API's `app.app` → `api_handler` (Chalice's name)."""
    name = handler.rsplit(".", 1)[-1]
    return "api_handler" if name == "app" else name


def _queue_name_of(queue_arn) -> str:
    """The queue name at the end of Chalice's `Fn::Sub` ARN (or a plain ARN string)."""
    text = queue_arn.get("Fn::Sub") if isinstance(queue_arn, dict) else queue_arn
    if isinstance(text, list):
        text = text[0]
    m = re.search(r":([^:]+)$", str(text))
    if not m:
        raise ValueError(f"ARN de file illisible dans le modèle Chalice : {queue_arn!r}")
    return m.group(1)
