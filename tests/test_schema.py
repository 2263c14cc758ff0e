"""flowdoc schema: a valid JSON Schema that accepts every example flow and rejects a typo."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from flowdoc.model.schema import flow_json_schema, flow_json_schema_text

FLOWS = sorted(Path("flows").glob("*.yaml"))


def _json_data(path: Path):
    # through JSON, as an editor sees the document (dates become strings)
    return json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))


@pytest.fixture(scope="module")
def validator():
    schema = flow_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", FLOWS, ids=[p.stem for p in FLOWS])
def test_schema_accepts_example(validator, path):
    errors = sorted(validator.iter_errors(_json_data(path)), key=str)
    assert errors == []


def test_schema_rejects_misspelled_key(validator):
    data = _json_data(Path("flows/client-credentials.yaml"))
    data["transitions"][0]["request"]["methd"] = data["transitions"][0]["request"].pop("method")
    messages = [e.message for e in validator.iter_errors(data)]
    assert any("methd" in m for m in messages)


def test_schema_rejects_bad_enum(validator):
    data = _json_data(Path("flows/client-credentials.yaml"))
    data["status"] = "curent"
    assert not validator.is_valid(data)


def test_committed_schema_is_current():
    assert Path("flowdoc/data/flow.schema.json").read_text() == flow_json_schema_text()


def test_examples_carry_modeline():
    for p in FLOWS:
        assert p.read_text().startswith("# yaml-language-server: $schema=../flowdoc/data/flow.schema.json")
