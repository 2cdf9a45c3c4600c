"""Creates the stage's resources on an emulated (or any) endpoint from the one definition of
names in `Settings`: bucket with CORS, S3 → SQS notification on the upload prefix, queues with
DLQ and redrive, DynamoDB tables. Idempotent. Production resources come from infra/."""
from __future__ import annotations

import json

from chalicelib.config import QUEUE_SETTINGS, UPLOAD_PREFIX, Settings, dlq_name, queue_names
from chalicelib.runtime import Runtime
from chalicelib.adapters.dynamodb import create_tables

def create_queues(sqs, settings: Settings, visibility: dict[str, int] | None = None) -> dict[str, str]:
    """`visibility` overrides the timeouts by role (the fault tests shorten them)."""
    urls = {}
    for role, name in queue_names(settings).items():
        default_visibility, max_receive = QUEUE_SETTINGS[role]
        timeout = (visibility or {}).get(role, default_visibility)
        dlq_url = sqs.create_queue(QueueName=dlq_name(name),
                                   Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        urls[role] = sqs.create_queue(QueueName=name, Attributes={
            "VisibilityTimeout": str(timeout),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)}),
        })["QueueUrl"]
        if role == "bilans":
            urls["bilans-dlq"] = dlq_url     # consumed: poison bilans become ERREUR_TECHNIQUE
    return urls


def create_bucket(s3, sqs, settings: Settings, uploads_url: str, allowed_origins: list[str]) -> None:
    try:
        if settings.region == "us-east-1":
            s3.create_bucket(Bucket=settings.bucket)
        else:
            s3.create_bucket(Bucket=settings.bucket,
                             CreateBucketConfiguration={"LocationConstraint": settings.region})
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    s3.put_bucket_cors(Bucket=settings.bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": allowed_origins, "AllowedMethods": ["POST"], "AllowedHeaders": ["*"],
        "MaxAgeSeconds": 3000}]})
    queue_arn = sqs.get_queue_attributes(QueueUrl=uploads_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=uploads_url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": queue_arn, "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{settings.bucket}"}}}]})})
    s3.put_bucket_notification_configuration(Bucket=settings.bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": UPLOAD_PREFIX}]}}}]})


def create_resources(rt: Runtime, allowed_origins: list[str] | None = None,
                     visibility: dict[str, int] | None = None) -> dict[str, str]:
    urls = create_queues(rt.sqs, rt.settings, visibility)
    create_bucket(rt.s3, rt.sqs, rt.settings, urls["uploads"], allowed_origins or ["http://127.0.0.1:8000"])
    create_tables(rt.models)
    return urls
