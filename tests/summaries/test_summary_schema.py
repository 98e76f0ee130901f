"""summary.json has a published JSON schema (docs/night-summary.schema.json) that matches the model."""

from __future__ import annotations

import json
from pathlib import Path

from ar_sync.night_summary import NightSummary

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "night-summary.schema.json"


def test_the_published_schema_is_the_models() -> None:
    published = json.loads(SCHEMA.read_text())
    assert published == NightSummary.model_json_schema(), (
        "docs/night-summary.schema.json is out of date: regenerate it with "
        "python -c 'import json; from ar_sync.night_summary import NightSummary; "
        "print(json.dumps(NightSummary.model_json_schema(), indent=2, sort_keys=True))'"
    )
