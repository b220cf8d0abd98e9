"""Bad input never becomes a server error; the first case: an unknown Host."""

import logging

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def security_log(caplog):
    """Records of the DisallowedHost logger too, which does not propagate to the root logger."""
    logger = logging.getLogger("django.security.DisallowedHost")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    yield caplog
    logger.removeHandler(caplog.handler)


@pytest.mark.parametrize(
    "host", ["evil.example", "localhost:abc", "[::1", "a" * 300, "localhost@evil.example"]
)
def test_an_unknown_host_is_a_400_without_an_error_or_traceback_in_the_log(
    client, security_log, host
):
    response = client.get("/", HTTP_HOST=host, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 400
    assert security_log.records, "the refused host should be logged"
    for record in security_log.records:
        assert record.levelno < logging.ERROR, record.getMessage()
        assert record.exc_info is None, record.getMessage()
