"""The ENKASH_* settings as the flows read them: one line naming each setting that is wrong."""

from __future__ import annotations

import pytest

from enkash_ar.errors import ConfigurationError
from tasks.connection import connection

GOOD = {
    "ENKASH_BASE_URL": "http://127.0.0.1:8765",
    "ENKASH_CLIENT_ID": "enkash-client",
    "ENKASH_CLIENT_SECRET": "not-a-real-secret",
    "ENKASH_USERNAME": "ar-ops@example.in",
    "ENKASH_PASSWORD": "not-a-real-password",
    "ENKASH_SELLER_ID": "CEKSANDBX1",
}


def test_each_wrong_setting_is_named_once_in_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENKASH_BASE_URL", "http://example.com")
    monkeypatch.delenv("ENKASH_PASSWORD")

    with pytest.raises(ConfigurationError) as caught:
        connection()

    message = str(caught.value)
    assert message.startswith("EnKash connection settings: ")
    assert "ENKASH_BASE_URL EnKash base URL 'http://example.com' is plain http to another machine" in message
    assert "ENKASH_PASSWORD is not set" in message
    assert message.endswith(".") and ".." not in message and ".;" not in message
    assert "not-a-real-secret" not in message
