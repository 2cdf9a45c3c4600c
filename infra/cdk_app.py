#!/usr/bin/env python3
"""CDK app of lsu-import: one stack per Chalice stage (`-c stages=dev,prod`, the default).

    make synth                                   # offline: dummy account, no credentials
    cd infra && node_modules/.bin/cdk deploy prod -c frontOrigin=https://… -c alarmEmail=…

Context keys (cdk.json or -c): stages, region (eu-west-3), frontOrigin (the front's origin: Cognito's
callback and logout URLs, the files bucket's CORS; default: the CloudFront distribution's own), alarmEmail, cognitoDomainPrefix (the stage is
appended: <prefix>-dev, <prefix>-prod), callbackUrls
(comma-separated). See docs/deploiement.md."""
from __future__ import annotations

import os
import sys
from pathlib import Path

INFRA = Path(__file__).resolve().parent
PROJECT = INFRA.parent
sys.path[:0] = [str(PROJECT), str(INFRA)]   # the project first: Chalice imports its app.py

import aws_cdk as cdk  # noqa: E402

from lsu_infra.packaging import packaged_schema  # noqa: E402
from lsu_infra.stack import LsuImportStack  # noqa: E402


def main() -> None:
    app = cdk.App()
    ctx = app.node.try_get_context
    stages = [s for s in str(ctx("stages") or "dev,prod").split(",") if s]
    region = ctx("region") or os.environ.get("CDK_DEFAULT_REGION") or "eu-west-3"
    # The CLI sets CDK_DEFAULT_ACCOUNT from the credentials; `make synth` sets a dummy one.
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    os.environ.setdefault("AWS_DEFAULT_REGION", region)        # `chalice package` asks for one
    callback_urls = [u for u in str(ctx("callbackUrls") or "").split(",") if u] or None
    with packaged_schema(PROJECT):
        for stage in stages:
            LsuImportStack(app, stage, project_dir=PROJECT, env=cdk.Environment(account=account, region=region),
                           front_origin=ctx("frontOrigin"), alarm_email=ctx("alarmEmail"),
                           cognito_domain_prefix=f"{ctx('cognitoDomainPrefix')}-{stage}" if ctx("cognitoDomainPrefix") else None,
                           callback_urls=callback_urls,
                           description=f"lsu-import ({stage}) : Bilans > Import du LSU collège")
    app.synth()


if __name__ == "__main__":
    main()
