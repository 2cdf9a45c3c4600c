"""Blobs on S3: uploaded files, référentiel versions, synthèses, claim-checked messages."""
from __future__ import annotations

from chalicelib.adapters.ports import NotFound


class S3Blobs:
    def __init__(self, s3, bucket: str):
        self.s3, self.bucket = s3, bucket

    def put(self, key: str, body: bytes, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **extra)

    def get(self, key: str) -> bytes:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey as exc:
            raise NotFound(key) from exc

    def size(self, key: str) -> int:
        return int(self.s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"])

    def exists(self, key: str) -> bool:
        """By listing the exact key (ListObjectsV2, one key at most): a missing object is an
        answer, where HeadObject without s3:ListBucket would be refused (403)."""
        found = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1).get("Contents") or []
        return bool(found) and found[0]["Key"] == key

    def presigned_post(self, key: str, max_bytes: int, expires: int, content_type: str) -> dict:
        """A browser POST straight to S3, bounded: exact key, size range, content type, ≤ 15 min."""
        return self.s3.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields={"Content-Type": content_type},
            Conditions=[{"key": key}, ["content-length-range", 1, max_bytes], {"Content-Type": content_type}],
            ExpiresIn=min(expires, 900),
        )
