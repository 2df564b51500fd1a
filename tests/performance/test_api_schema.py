"""The OpenAPI schema and the interactive docs page, served without any CDN."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_documents_the_feed_paths(schema):
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    upload = paths["/api/v1/feeds/{slug}/batches"]["post"]
    assert set(upload["requestBody"]["content"]) >= {
        "text/csv",
        "application/x-ndjson",
        "application/jsonl",
        "multipart/form-data",
    }
    assert {"202", "401", "403", "404", "413", "415", "422"} <= set(upload["responses"])
    assert "Location" in upload["responses"]["202"]["headers"]
    assert {p["name"] for p in upload["parameters"]} >= {"slug", "format"}
    assert "get" in paths["/api/v1/batches/{batch_id}"]
    errors = paths["/api/v1/batches/{batch_id}/errors"]["get"]
    assert {p["name"] for p in errors["parameters"]} >= {"batch_id", "page"}


def test_schema_declares_the_feed_token_scheme(schema):
    scheme = schema["components"]["securitySchemes"]["feedToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    upload = schema["paths"]["/api/v1/feeds/{slug}/batches"]["post"]
    # Only a source token may write: no session (cookie) login on the feed endpoint.
    assert upload["security"] == [{"feedToken": []}]
    status = schema["paths"]["/api/v1/batches/{batch_id}"]["get"]
    assert {"feedToken": []} in status["security"]
    assert {"cookieAuth": []} in status["security"]


def test_status_response_shape_is_documented(schema):
    status = schema["components"]["schemas"]["FeedBatchStatus"]["properties"]
    assert {
        "status",
        "progress_percent",
        "rows",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "errors",
        "errors_total",
        "timings",
    } <= set(status)


def test_docs_page_renders_with_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/api/schema/" in html
    assert "cdn." not in html and "unpkg" not in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_the_schema_generates_without_a_warning(tmp_path):
    """A warning (an enum name collision, an unresolvable field) means clients see
    generated names like Status432Enum: the deploy check fails on it."""
    from django.core.management import call_command

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
