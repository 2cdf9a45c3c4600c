"""Tooling, never in the Lambda package: the `lsu` CLI (`cli`), the school generator (`generator`) and
the local stack (`local`: embedded moto server and its patches, the SQS → handler dispatcher)."""
