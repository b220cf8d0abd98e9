"""Where uploads live: local disk served by the site itself, or an S3-compatible bucket (Tigris
on Fly) when BUCKET_NAME is set. Bucket cases run against a real S3 server (moto's, on loopback)."""

import io
import json
import socket
import subprocess
import sys
import urllib.request

import pytest
from django.core.files.images import ImageFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image as PillowImage
from wagtail.images import get_image_model

from tests.server import ROOT

BUCKET = "flight-log-media"


def png_bytes(width: int = 120, height: int = 90) -> bytes:
    buffer = io.BytesIO()
    PillowImage.new("RGB", (width, height), (200, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(title: str = "Runway at dusk"):
    image_model = get_image_model()
    return image_model.objects.create(
        title=title, file=ImageFile(io.BytesIO(png_bytes()), name="runway.png")
    )


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


# --- Local disk (no bucket): the default, and the one-machine volume setup ------------------


@pytest.mark.django_db
def test_image_rendition_on_local_disk_is_served_with_debug_off(client, settings):
    assert not settings.DEBUG
    rendition = upload().get_rendition("fill-40x30")
    response = client.get(rendition.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "max-age=86400" in response["Cache-Control"]
    assert PillowImage.open(io.BytesIO(body_of(response))).size == (40, 30)


@pytest.mark.django_db
def test_serving_an_image_asks_nothing_of_the_database_even_with_the_page_cache_on(
    client, settings, tmp_path
):
    # During a database outage images must still be served, without waiting on a connection.
    settings.PAGE_CACHE_ENABLED = True
    settings.DATA_DIR = tmp_path
    rendition = upload().get_rendition("fill-40x30")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(rendition.url)
    assert response.status_code == 200
    assert [query["sql"] for query in queries] == []


@pytest.mark.django_db
def test_original_image_on_local_disk_is_served_byte_for_byte(client):
    image = upload()
    response = client.get(image.file.url)
    assert response.status_code == 200
    assert body_of(response) == png_bytes()


@pytest.mark.django_db
def test_documents_are_not_served_from_media_bypassing_wagtails_privacy_checks(client, settings):
    documents = settings.MEDIA_ROOT / "documents"
    documents.mkdir(parents=True, exist_ok=True)
    (documents / "board-minutes.txt").write_text("private")
    response = client.get("/media/documents/board-minutes.txt")
    assert response.status_code == 404
    assert b"private" not in response.content


@pytest.mark.django_db
def test_media_paths_cannot_climb_out_of_the_media_folder(client, settings):
    (settings.MEDIA_ROOT.parent / "beside-media.txt").write_text("do-not-serve-me")
    response = client.get("/media/images/../../beside-media.txt")
    assert response.status_code in (400, 404)
    assert b"do-not-serve-me" not in response.content


# --- A bucket (BUCKET_NAME + AWS_*), against a real S3-compatible server ---------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server on a loopback port, with an empty public bucket, as
    `fly storage create --public` leaves it."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="tid_test",
            aws_secret_access_key="tsec_test",
            region_name="us-east-1",
        )
        s3.create_bucket(Bucket=BUCKET)
        public_read = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{BUCKET}/*",
                }
            ],
        }
        s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(public_read))
        yield endpoint, s3
    finally:
        server.stop()


def bucket_env(endpoint: str, data_dir, **extra: str) -> dict[str, str]:
    # The variables `fly storage create` sets, pointing at the local server.
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(data_dir),
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": "s" * 50,
        "BUCKET_NAME": BUCKET,
        "AWS_ACCESS_KEY_ID": "tid_test",
        "AWS_SECRET_ACCESS_KEY": "tsec_test",
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_REGION": "auto",
        **extra,
    }


@pytest.fixture(scope="module")
def bucket_data_dir(tmp_path_factory, s3_endpoint):
    """A migrated SQLite database, shared by this module's bucket tests (migrating is slow)."""
    data_dir = tmp_path_factory.mktemp("bucket-data")
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=bucket_env(s3_endpoint[0], data_dir),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return data_dir


# Runs in a fresh interpreter: storage settings are read once, when settings are imported.
UPLOAD_THROUGH_WAGTAIL = """
import io, json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
import django
django.setup()
from django.conf import settings
from django.core.files.images import ImageFile
from django.core.files.storage import storages
from PIL import Image as PillowImage
from wagtail.images import get_image_model

buffer = io.BytesIO()
PillowImage.new("RGB", (120, 90), (200, 40, 90)).save(buffer, format="PNG")
image = get_image_model().objects.create(
    title="Runway at dusk", file=ImageFile(io.BytesIO(buffer.getvalue()), name="runway.png")
)
rendition = image.get_rendition("fill-40x30")
print(json.dumps({
    "storage": type(storages["default"]).__name__,
    "serve_local_media": settings.SERVE_LOCAL_MEDIA,
    "original_url": image.file.url,
    "rendition_url": rendition.url,
}))
"""


def run_in_fresh_django(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


@pytest.mark.slow
def test_image_uploaded_through_wagtail_lands_in_the_bucket_and_its_rendition_url_serves_it(
    s3_endpoint, bucket_data_dir
):
    endpoint, s3 = s3_endpoint
    result = run_in_fresh_django(UPLOAD_THROUGH_WAGTAIL, bucket_env(endpoint, bucket_data_dir))
    assert result.returncode == 0, result.stderr
    uploaded = json.loads(result.stdout.strip().splitlines()[-1])

    assert uploaded["storage"] == "S3Storage"
    assert uploaded["serve_local_media"] is False
    # Plain, unsigned URLs on the bucket's endpoint: a public bucket, cacheable pages.
    for url in (uploaded["original_url"], uploaded["rendition_url"]):
        assert url.startswith(endpoint), url
        assert BUCKET in url
        assert "?" not in url

    with urllib.request.urlopen(uploaded["rendition_url"], timeout=10) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "public, max-age=86400"
        assert PillowImage.open(io.BytesIO(response.read())).size == (40, 30)
    with urllib.request.urlopen(uploaded["original_url"], timeout=10) as response:
        assert response.read() == png_bytes()

    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert any(key.startswith("original_images/runway") for key in keys)
    assert any(key.startswith("images/runway") for key in keys)
    # Nothing was written to local disk.
    assert not (bucket_data_dir / "media").exists()


@pytest.mark.slow
def test_private_bucket_gets_signed_urls_when_asked(s3_endpoint, bucket_data_dir):
    endpoint, _ = s3_endpoint
    env = bucket_env(endpoint, bucket_data_dir, AWS_QUERYSTRING_AUTH="1")
    result = run_in_fresh_django(UPLOAD_THROUGH_WAGTAIL, env)
    assert result.returncode == 0, result.stderr
    uploaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert "X-Amz-Signature=" in uploaded["rendition_url"]
    with urllib.request.urlopen(uploaded["rendition_url"], timeout=10) as response:
        assert PillowImage.open(io.BytesIO(response.read())).size == (40, 30)


def test_bucket_without_its_keys_stops_with_a_message_naming_them(tmp_path):
    env = bucket_env("http://127.0.0.1:9", tmp_path)
    del env["AWS_SECRET_ACCESS_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "BUCKET_NAME is set but AWS_SECRET_ACCESS_KEY is not" in result.stderr
    assert "Traceback" not in result.stderr
