"""The stages of an import, in flow order: 1. `upload` (the import and its presigned S3 form), 2. `split`
(file checks, bilans out of the XML, SQS messages), 3. `merge` (each bilan decided and written), 4.
`report` (the synthèse). `handoff` is how a stage asks for the report; no stage imports another."""
