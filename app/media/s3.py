"""Storage in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, …) through boto3.

Large files go up in parts (boto3's managed transfer reads the file part by part), reads of big objects
stream to disk, and browsers fetch media straight from the bucket through presigned URLs.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit

import boto3
import httpx
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from app.config import ConfigError, Settings
from app.media.backend import (
    StorageBackend,
    StorageError,
    StoredObject,
    check_key,
    content_type_for,
)

# Objects from this size up are uploaded in parts of this size (S3 needs parts of at least 5 MiB).
PART_SIZE = 8 * 1024 * 1024
# SigV4 presigned URLs live at most a week.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
# Public media without S3_PUBLIC_BASE_URL: URLs that outlive the day browsers cache the redirect for.
PUBLIC_PRESIGN_SECONDS = 2 * 24 * 3600
# Presigned URLs kept for reuse (per process); the cache starts over when full.
SIGNED_CACHE_SIZE = 10_000

BUCKET = "the bucket"  # the `key` of errors about the bucket itself
_MISSING = {"404", "NoSuchKey", "NotFound"}
_TRANSIENT = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeTooSkewed",
}


class S3Storage(StorageBackend):
    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        region: str | None = None,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        key_prefix: str = "",
        presign_seconds: int = 3600,
        public_base_url: str | None = None,
        part_size: int = PART_SIZE,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.key_prefix = key_prefix.strip("/") + "/" if key_prefix.strip("/") else ""
        self.presign_seconds = min(presign_seconds, MAX_PRESIGN_SECONDS)
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self._signed: dict[tuple, tuple[str, float]] = {}
        self._signed_lock = threading.Lock()
        self.transfer = TransferConfig(multipart_threshold=part_size, multipart_chunksize=part_size, max_concurrency=4)
        self.client = boto3.session.Session().client(
            "s3",
            region_name=region or "us-east-1",
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=Config(
                signature_version="s3v4",
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        if not settings.s3_bucket:
            raise ConfigError("STORAGE_BACKEND=s3 needs S3_BUCKET (the bucket that holds every stored file)")
        return cls(
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            key_prefix=settings.s3_key_prefix,
            presign_seconds=settings.s3_presign_seconds,
            public_base_url=settings.s3_public_base_url,
        )

    def __repr__(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"<S3Storage s3://{self.bucket}/{self.key_prefix}{where}>"

    # Keys: the app's key under the optional prefix.

    def _key(self, key: str) -> str:
        return self.key_prefix + check_key(key)

    def _app_key(self, object_key: str) -> str:
        return object_key[len(self.key_prefix) :]

    # Writing.

    def save_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        with self._errors("write", key):
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type or content_type_for(key)
            )

    def save_file(self, key: str, source: str | os.PathLike[str], content_type: str | None = None) -> None:
        with self._errors("upload", key):
            self.client.upload_file(
                os.fspath(source),
                self.bucket,
                self._key(key),
                ExtraArgs={"ContentType": content_type or content_type_for(key)},
                Config=self.transfer,
            )

    # Reading.

    def read_bytes(self, key: str) -> bytes:
        with self._errors("read", key):
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return response["Body"].read()

    def download_file(self, key: str, dest: str | os.PathLike[str]) -> None:
        with self._errors("download", key):
            self.client.download_file(self.bucket, self._key(key), os.fspath(dest), Config=self.transfer)

    def stat(self, key: str) -> StoredObject | None:
        try:
            with self._errors("look up", key):
                head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except FileNotFoundError:
            return None
        return StoredObject(
            key=key,
            size=head["ContentLength"],
            modified=head["LastModified"],
            content_type=head.get("ContentType") or content_type_for(key),
            etag=head.get("ETag"),
        )

    def list(self, prefix: str = "") -> Iterator[StoredObject]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.key_prefix + prefix
        )
        with self._errors("list", prefix or "/"):
            for page in pages:
                for item in page.get("Contents", []):
                    key = self._app_key(item["Key"])
                    yield StoredObject(
                        key=key,
                        size=item["Size"],
                        modified=item["LastModified"],
                        content_type=content_type_for(key),
                        etag=item.get("ETag"),
                    )

    # Deleting.

    def delete(self, key: str) -> None:
        with self._errors("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_many(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # the most one DeleteObjects request takes
            batch = [{"Key": self._key(k)} for k in keys[start : start + 1000]]
            with self._errors("delete", keys[start]):
                result = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            if result.get("Errors"):
                first = result["Errors"][0]
                raise StorageError(
                    f"S3 could not delete {first.get('Key')}: {first.get('Code')} {first.get('Message')}"
                )

    # URLs browsers fetch from the bucket.

    def presigned_url(
        self, key: str, *, method: str = "GET", download_name: str | None = None, expires_in: int | None = None
    ) -> str:
        """A URL for GET (Range works) or HEAD — SigV4 signs the method, so a HEAD needs its own URL."""
        lifetime = min(expires_in or self.presign_seconds, MAX_PRESIGN_SECONDS)
        cache_key = (key, method.upper(), download_name, lifetime)
        now = time.monotonic()
        with self._signed_lock:
            cached = self._signed.get(cache_key)
            if cached and cached[1] > now:
                return cached[0]
        params = {"Bucket": self.bucket, "Key": self._key(key)}
        if download_name:
            params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{quote(download_name)}"
        operation = "head_object" if method.upper() == "HEAD" else "get_object"
        with self._errors("presign", key):
            url = self.client.generate_presigned_url(operation, Params=params, ExpiresIn=lifetime)
        # The same URL for the first half of its life: signing costs milliseconds, and a stable URL lets
        # the browser's cache serve a poster or a video it has already fetched.
        with self._signed_lock:
            if len(self._signed) >= SIGNED_CACHE_SIZE:
                self._signed.clear()
            self._signed[cache_key] = (url, now + lifetime / 2)
        return url

    def public_url(self, key: str, *, method: str = "GET") -> str:
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(self._key(key))}"
        return self.presigned_url(key, method=method, expires_in=PUBLIC_PRESIGN_SECONDS)

    def origins(self) -> tuple[str, ...]:
        signed = urlsplit(self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": "x"}))
        found = [f"{signed.scheme}://{signed.netloc}"]
        if self.public_base_url:
            public = urlsplit(self.public_base_url)
            found.append(f"{public.scheme}://{public.netloc}")
        return tuple(dict.fromkeys(found))

    # Health.

    def ping(self) -> None:
        """Is the bucket there and are we allowed in? (one cheap request, for readiness)."""
        with self._errors("reach", BUCKET):
            self.client.head_bucket(Bucket=self.bucket)

    def check(self) -> None:
        key = f"adsvideo-check/{uuid.uuid4().hex}.txt"
        body = f"AdsVideo storage check {key}\n".encode()
        self.save_bytes(key, body, "text/plain")  # first: its error answer names the cause (a HEAD's cannot)
        try:
            if self.read_bytes(key) != body:
                raise StorageError(f"S3 returned other bytes than were written to {key}")
            url = self.presigned_url(key)
            try:
                answer = httpx.get(url, headers={"Range": "bytes=0-4"}, timeout=10)
            except httpx.HTTPError as exc:
                raise StorageError(
                    f"A presigned URL could not be fetched ({exc}); browsers would fail the same way "
                    f"(check S3_ENDPOINT_URL)"
                ) from exc
            if answer.status_code != 206 or answer.content != body[:5]:
                raise StorageError(
                    f"A presigned URL answered {answer.status_code} instead of 206 with the first "
                    f"bytes (check S3_REGION and the machine's clock): {answer.text[:200]}"
                )
        finally:
            self.delete(key)
        if self.stat(key) is not None:
            raise StorageError(f"{key} is still there after it was deleted")

    # Errors: say what failed and which setting to look at.

    @contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            raise self._explain(exc, action, key) from exc
        except S3UploadFailedError as exc:  # the managed upload wraps the service's answer
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, ClientError):
                raise self._explain(cause, action, key) from exc
            raise StorageError(f"S3 {action} of {key} failed: {exc}", transient=True) from exc
        except NoCredentialsError as exc:
            raise StorageError(
                "No S3 credentials: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or give the machine an IAM role)"
            ) from exc
        except EndpointConnectionError as exc:
            raise StorageError(
                f"Cannot reach the storage service at {exc.kwargs.get('endpoint_url')} "
                f"(check S3_ENDPOINT_URL and S3_REGION)",
                transient=True,
            ) from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 {action} of {key} failed: {exc}", transient=True) from exc

    def _explain(self, exc: ClientError, action: str, key: str) -> Exception:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in _MISSING and key is not BUCKET:
            return FileNotFoundError(f"No stored object {key}")
        if code == "NoSuchBucket" or (code in _MISSING and key is BUCKET):
            return StorageError(
                f"The bucket {self.bucket!r} does not exist"
                f"{' at ' + self.endpoint_url if self.endpoint_url else ''} (check S3_BUCKET)"
            )
        if code == "InvalidAccessKeyId":
            return StorageError("The storage service does not know this access key (check S3_ACCESS_KEY_ID)")
        if code == "SignatureDoesNotMatch":
            return StorageError(
                "The storage service refused the signature: the secret key is wrong (check S3_SECRET_ACCESS_KEY)"
            )
        if key is BUCKET and status == 403:
            return StorageError(
                f"The storage service refused access to the bucket {self.bucket!r} (check "
                f"S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and the bucket policy in the README)"
            )
        if code in ("AccessDenied", "403", "Forbidden") or status == 403:
            return StorageError(
                f"The storage service denied the {action} of {key} in {self.bucket!r}: these keys "
                f"lack a permission the app needs (see the bucket policy in the README)"
            )
        if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "301"):
            return StorageError(
                f"The bucket {self.bucket!r} is in another region (check S3_REGION): {error.get('Message', code)}"
            )
        transient = code in _TRANSIENT or status >= 500
        return StorageError(
            f"S3 {action} of {key} failed: {code} {error.get('Message', '')}".strip(), transient=transient
        )
