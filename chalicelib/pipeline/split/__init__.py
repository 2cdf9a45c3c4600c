"""Stage 2: the uploaded file checked (`file_checks`), validated and split in one streamed pass
(`stream`, with the bilans built by `bilans`), sent as SQS messages (`stage`, the Lambda handler)."""
