"""Real S3-compatible HTTP servers for tests (moto's server mode), and buckets in them.

`s3_server` (session) is a `ThreadedMotoServer` on 127.0.0.1 that accepts any keys; `s3_bucket` makes a
fresh bucket in it per test. `run_s3_server_with_auth()` starts moto in its own process with request
authentication on (it checks access keys and signatures against the IAM users it holds), and yields the
endpoint with a working key pair; moto cannot verify presigned URLs in that mode, so those are tested on
the plain server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
ANY_KEYS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret"}


def s3_client(endpoint: str, **keys: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **(keys or ANY_KEYS))


@contextlib.contextmanager
def run_s3_server() -> Iterator[str]:
    """moto's S3 API in a thread of this process; yields its endpoint `http://127.0.0.1:PORT`."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    with run_s3_server() as endpoint:
        yield endpoint


def new_bucket(endpoint: str, **keys: str) -> str:
    name = f"adsvideo-{uuid.uuid4().hex[:12]}"
    s3_client(endpoint, **keys).create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_bucket(s3_server: str) -> str:
    """A fresh, empty bucket in the session's S3 server."""
    return new_bucket(s3_server)


@dataclass(frozen=True)
class AuthS3:
    endpoint: str
    access_key_id: str
    secret_access_key: str
    bucket: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def run_s3_server_with_auth() -> Iterator[AuthS3]:
    """moto in its own process, checking keys: an IAM user allowed s3:* and a bucket made with its keys."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    # The first three requests (create the user, its policy, its key) are let through unauthenticated.
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the S3 server with authentication did not start") from None
                time.sleep(0.1)
        iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION, **ANY_KEYS)
        iam.create_user(UserName="adsvideo")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="adsvideo", PolicyName="media", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="adsvideo")["AccessKey"]
        keys = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        yield AuthS3(endpoint, key["AccessKeyId"], key["SecretAccessKey"], new_bucket(endpoint, **keys))
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def s3_with_auth() -> Iterator[AuthS3]:
    with run_s3_server_with_auth() as server:
        yield server
