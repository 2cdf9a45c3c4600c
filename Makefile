# lsu-import — commandes du projet. Voir README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# LocalStack's own virtualenv (issue 18; see « LocalStack » below).
LS_VENV  := .venv-localstack
LS_STAMP := $(LS_VENV)/.installed

CHROMIUM := /usr/bin/chromium
PDFTOPPM := /usr/bin/pdftoppm

.PHONY: install front demo test test-unit test-integration test-browser screenshot bench clean synth test-infra \
        localstack-install test-localstack

install: $(STAMP) front

# The web front on the DSFR (front/): npm ci from the lock file, then the build copies what the page
# uses into chalicelib/api/static/dsfr/ (git-ignored, packaged with chalicelib/).
FRONT_STAMP := chalicelib/api/static/dsfr/manifest.json
front: $(FRONT_STAMP)
$(FRONT_STAMP): front/package.json front/package-lock.json front/build.mjs front/lsu.css
	npm ci --prefix front --prefer-offline --no-audit --no-fund --loglevel=error
	node front/build.mjs

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: install
	$(BIN)/lsu demo

# Browser tests drive Debian's Chromium (never `playwright install`).
$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core

# The PDF tests render each document kind to PNG with pdftoppm (Debian's poppler-utils).
$(PDFTOPPM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils

# Two runs: every tier on moto (as always), then the integration and end-to-end tiers again with S3
# and SQS on LocalStack (DynamoDB on moto), with the policy tests of tests/localstack/. Both run;
# the counts and times of each are printed at the end; a failure in either fails `make test`.
test: install $(CHROMIUM) $(PDFTOPPM) test-infra $(LS_STAMP)
	@mkdir -p build; rm -f build/tests-moto.xml build/tests-localstack.xml; rc=0; \
	$(BIN)/python -m pytest --junitxml=build/tests-moto.xml || rc=$$?; \
	$(LS_RUN) $(BIN)/python -m pytest $(LS_TESTS) --junitxml=build/tests-localstack.xml || rc=$$?; \
	$(BIN)/python -m lsu_tools.local.localstack bilan "niveau moto=build/tests-moto.xml" \
		"niveau LocalStack (S3, SQS) + moto (DynamoDB)=build/tests-localstack.xml"; \
	exit $$rc

test-browser: install $(CHROMIUM)
	$(BIN)/python -m pytest tests/browser

screenshot: install $(CHROMIUM) $(PDFTOPPM)
	LSU_SCREENSHOT=1 $(BIN)/python -m pytest tests/browser tests/unit/test_pdf_documents.py -k "whole_school or brevet_table or every_screen or dashboard_counts or renders_to_a_picture"

test-unit: install $(PDFTOPPM)
	$(BIN)/python -m pytest tests/unit

test-integration: install
	$(BIN)/python -m pytest -m "integration or e2e"

# Benchmarks print figures; they are never timed tests.
bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(LS_VENV) .pytest_cache build *.egg-info front/node_modules chalicelib/api/static/dsfr

# --- infrastructure (infra/, docs/deploiement.md) ------------------------------------------------
# `cdk synth` of every stage with the pinned CDK CLI (npm) and a dummy account: no credentials,
# nothing sent to AWS (instance metadata and telemetry off); then cfn-lint (exit 4 = warnings
# only, a pass) and the template tests.
INFRA_STAMP := $(VENV)/.infra-installed
CDK         := infra/node_modules/.bin/cdk
SYNTH_ENV   := CDK_DEFAULT_ACCOUNT=123456789012 CDK_DEFAULT_REGION=eu-west-3 AWS_DEFAULT_REGION=eu-west-3 \
               AWS_EC2_METADATA_DISABLED=true CDK_DISABLE_CLI_TELEMETRY=true \
               JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

$(INFRA_STAMP): infra/requirements.txt $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $(INFRA_STAMP)

$(CDK): infra/package.json infra/package-lock.json
	npm ci --prefix infra --no-audit --no-fund --loglevel=error
	touch $(CDK)

synth: $(INFRA_STAMP) $(CDK) front
	rm -rf infra/cdk.out infra/chalice.out
	cd infra && env $(SYNTH_ENV) node_modules/.bin/cdk synth --quiet --no-notices --no-version-reporting \
		--no-ec2creds --no-lookups -c cognitoDomainPrefix=lsu-import-exemple
	$(BIN)/cfn-lint infra/cdk.out/*.template.json; rc=$$?; \
		if [ $$rc -ne 0 ] && [ $$rc -ne 4 ]; then echo "cfn-lint : code $$rc"; exit $$rc; fi

test-infra: synth
	$(BIN)/python -m pytest tests/infra

# --- LocalStack (issue 18) ------------------------------------------------------------------------
# S3 and SQS on LocalStack in host mode (no Docker), DynamoDB on the project's moto server, the
# functions in-process. LocalStack lives in its own pinned virtualenv (it pins its own boto3).
$(LS_STAMP): requirements-localstack.txt
	test -x $(LS_VENV)/bin/python || $(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-localstack.txt
	touch $(LS_STAMP)

localstack-install: $(LS_STAMP)

LS_RUN   := $(BIN)/python -m lsu_tools.local.localstack run --
LS_TESTS := tests/integration tests/e2e tests/localstack

# The LocalStack tier alone (LocalStack started on a free port, stopped at the end).
test-localstack: install $(LS_STAMP)
	@mkdir -p build; rm -f build/tests-localstack.xml; rc=0; \
	$(LS_RUN) $(BIN)/python -m pytest $(LS_TESTS) --junitxml=build/tests-localstack.xml || rc=$$?; \
	$(BIN)/python -m lsu_tools.local.localstack bilan \
		"niveau LocalStack (S3, SQS) + moto (DynamoDB)=build/tests-localstack.xml"; \
	exit $$rc
