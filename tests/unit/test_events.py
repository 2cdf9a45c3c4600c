"""Event shapes: S3 notifications through SQS (chalicelib/splitter.py) and the local SQS → Lambda
record conversion (chalicelib/local/dispatcher.py)."""
from __future__ import annotations

import json

import pytest

from lsu_tools.local.dispatcher import failed_ids, to_lambda_record
from chalicelib.pipeline.split.stage import S3Object, parse_upload_key, s3_objects

# The body of the SQS message S3 sends for a presigned POST upload, as AWS writes it: the object
# key is URL-encoded (form encoding: « + » for a space, %XX for the rest).
S3_POST_EVENT = r"""{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-3",
"eventTime":"2026-11-28T10:10:11.482Z","eventName":"ObjectCreated:Post",
"userIdentity":{"principalId":"AWS:AROA3EXAMPLEID:lsu-import-dev-api"},
"requestParameters":{"sourceIPAddress":"203.0.113.42"},
"responseElements":{"x-amz-request-id":"C3D13FE58DE4C810",
"x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
"s3":{"s3SchemaVersion":"1.0","configurationId":"lsu-import-uploads",
"bucket":{"name":"lsu-import-fichiers","ownerIdentity":{"principalId":"A3NL1KOZZKExample"},
"arn":"arn:aws:s3:::lsu-import-fichiers"},
"object":{"key":"imports%2F0750001A%2F20261128T101010Z-abcd1234.xml","size":67212,
"eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0055AED6DCD90281E5"}}}]}"""

S3_TEST_EVENT = """{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-28T10:00:00.000Z",
"Bucket":"lsu-import-fichiers","RequestId":"5582815E1AEA5ADF",
"HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}"""


def s3_record(event_name: str, key: str, size: int | None = 1024, bucket: str = "lsu-import-fichiers") -> dict:
    obj = {"key": key, "eTag": "0123456789abcdef0123456789abcdef", "sequencer": "0A1B2C3D4E5F678901"}
    if size is not None:
        obj["size"] = size
    return {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-3",
        "eventTime": "2026-11-28T10:10:11.000Z", "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AROA3EXAMPLEID:x"},
        "requestParameters": {"sourceIPAddress": "203.0.113.42"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "abc"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "lsu-import-uploads",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                          "arn": f"arn:aws:s3:::{bucket}"},
               "object": obj},
    }


# --- s3_objects ----------------------------------------------------------------------------------

def test_object_created_post_key_is_decoded():
    assert s3_objects(S3_POST_EVENT) == [
        S3Object("lsu-import-fichiers", "imports/0750001A/20261128T101010Z-abcd1234.xml", 67212)]


def test_plus_is_a_space_and_percent_2b_a_plus():
    body = json.dumps({"Records": [
        s3_record("ObjectCreated:Put", "imports/0750001A/bilans+T3+2026.xml"),
        s3_record("ObjectCreated:Put", "imports%2F0750001A%2Fa%2Bb.xml"),
        s3_record("ObjectCreated:Put", "imports/0750001A/%C3%A9l%C3%A8ves.xml"),
    ]})
    keys = [o.key for o in s3_objects(body)]
    assert keys == ["imports/0750001A/bilans T3 2026.xml", "imports/0750001A/a+b.xml",
                    "imports/0750001A/élèves.xml"]
    assert [parse_upload_key(k) for k in keys] == [None, None, None]


def test_s3_test_event_has_no_object():
    assert s3_objects(S3_TEST_EVENT) == []


@pytest.mark.parametrize("event_name", ["ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated",
                                        "ObjectRestore:Completed", "LifecycleExpiration:Delete"])
def test_other_events_are_ignored(event_name):
    body = json.dumps({"Records": [s3_record(event_name, "imports/0750001A/x.xml")]})
    assert s3_objects(body) == []


def test_only_created_objects_of_a_mixed_batch():
    body = json.dumps({"Records": [
        s3_record("ObjectRemoved:Delete", "imports/0750001A/old.xml"),
        s3_record("ObjectCreated:CompleteMultipartUpload", "imports/0750001A/new.xml", size=None),
    ]})
    assert s3_objects(body) == [S3Object("lsu-import-fichiers", "imports/0750001A/new.xml", None)]


def test_event_without_records():
    assert s3_objects("{}") == []
    assert s3_objects('{"Records": []}') == []


# --- parse_upload_key ------------------------------------------------------------------------------

@pytest.mark.parametrize("key, expected", [
    ("imports/0750001A/20261128T101010Z-abcd1234.xml", ("0750001A", "20261128T101010Z-abcd1234")),
    ("imports/0930002x/a.xml", ("0930002x", "a")),
    ("imports/0750001A/" + "a" * 64 + ".xml", ("0750001A", "a" * 64)),
    ("imports/0750001A/id_with-dash_and_underscore.xml", ("0750001A", "id_with-dash_and_underscore")),
])
def test_parse_upload_key_valid(key, expected):
    assert parse_upload_key(key) == expected


@pytest.mark.parametrize("key", [
    "uploads/0750001A/x.xml",                      # wrong prefix
    "Imports/0750001A/x.xml",
    "/imports/0750001A/x.xml",
    "imports/../x.xml",                            # traversal
    "imports/0750001A/../x.xml",
    "imports/../../etc/passwd.xml",
    "imports/075001A/x.xml",                       # 7-char UAI
    "imports/0750001AB/x.xml",                     # 9-char UAI
    "imports/0750001A/x",                          # missing .xml
    "imports/0750001A/x.XML",
    "imports/0750001A/x.xml.zip",
    "imports/0750001A/sub/x.xml",                  # extra path segment
    "imports/0750001A/x.xml/",
    "imports/0750001A/.xml",                       # empty import id
    "imports/0750001A/" + "a" * 65 + ".xml",       # import id too long
    "imports/0750001A/x y.xml",
    "imports/0750-01A/x.xml",
    "",
])
def test_parse_upload_key_invalid(key):
    assert parse_upload_key(key) is None


def test_parse_upload_key_refuses_a_trailing_newline():
    assert parse_upload_key("imports/0750001A/abc.xml\n") is None


# --- SQS → Lambda records (local dispatcher) ---------------------------------------------------------

RECEIVED = {  # one entry of boto3's sqs.receive_message(AttributeNames=["All"], MessageAttributeNames=["All"])
    "MessageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
    "ReceiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
    "MD5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
    "Body": S3_POST_EVENT,
    "Attributes": {"SenderId": "AIDAIENQZJOLO23YVJ4VO", "SentTimestamp": "1764324611482",
                   "ApproximateReceiveCount": "2", "ApproximateFirstReceiveTimestamp": "1764324611500"},
    "MD5OfMessageAttributes": "00484c68...59e48f06",
    "MessageAttributes": {"import_id": {"StringValue": "20261128T101010Z-abcd1234", "DataType": "String"}},
}
ARN = "arn:aws:sqs:eu-west-3:000000000000:lsu-import-uploads"
LAMBDA_KEYS = {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
               "eventSource", "eventSourceARN", "awsRegion"}


def test_to_lambda_record_has_the_lambda_sqs_shape():
    record = to_lambda_record(RECEIVED, ARN, "eu-west-3")
    assert LAMBDA_KEYS <= set(record)
    assert record["messageId"] == RECEIVED["MessageId"]
    assert record["receiptHandle"] == RECEIVED["ReceiptHandle"]
    assert record["body"] == S3_POST_EVENT
    assert record["attributes"] == RECEIVED["Attributes"]
    assert record["attributes"] is not RECEIVED["Attributes"]
    attr = record["messageAttributes"]["import_id"]
    assert attr["stringValue"] == "20261128T101010Z-abcd1234"
    assert attr["dataType"] == "String"
    assert attr["stringListValues"] == [] and attr["binaryListValues"] == []
    assert record["md5OfBody"] == RECEIVED["MD5OfBody"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == ARN
    assert record["awsRegion"] == "eu-west-3"
    json.dumps(record)
    # what the splitter reads from it
    assert s3_objects(record["body"])[0].key == "imports/0750001A/20261128T101010Z-abcd1234.xml"


def test_to_lambda_record_is_read_by_powertools():
    from aws_lambda_powertools.utilities.data_classes import SQSEvent

    event = SQSEvent({"Records": [to_lambda_record(RECEIVED, ARN, "eu-west-3")]})
    (record,) = list(event.records)
    assert record.message_id == RECEIVED["MessageId"]
    assert record.attributes.approximate_receive_count == "2"
    assert record.event_source_arn == ARN
    assert record.message_attributes["import_id"].string_value == "20261128T101010Z-abcd1234"


def test_to_lambda_record_without_attributes():
    minimal = {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}"}
    record = to_lambda_record(minimal, ARN, "eu-west-3")
    assert LAMBDA_KEYS <= set(record)
    assert record["attributes"] == {} and record["messageAttributes"] == {}
    assert record["md5OfBody"] is None


# --- failed_ids ------------------------------------------------------------------------------------

RECORDS = [{"messageId": f"m{i}"} for i in range(3)]


def test_failed_ids_partial_batch_response():
    response = {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m2"}]}
    assert failed_ids(response, RECORDS) == {"m0", "m2"}


@pytest.mark.parametrize("response", [None, [], {}, {"batchItemFailures": []}, "ok"])
def test_failed_ids_none(response):
    assert failed_ids(response, RECORDS) == set()
