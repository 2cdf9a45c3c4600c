"""Storage and queues behind the ports of `ports` (protocols, records): DynamoDB (`dynamodb`), S3
(`s3`), SQS (`sqs`), and the same contract in memory (`memory`, for the unit tests)."""
