"""The whole API fuzzed from its own OpenAPI schema (schemathesis), as a teacher's laptop and
as a deputy director, against a throwaway copy of the fixture school (issue 12).

Every generated request goes through the real app in-process. No answer may be a server
error, every answer must match the schema (status, content type, body, error bodies
included), and afterwards the year must still be open and no correction grant may exist:
the insider holes that let a fuzzer close the year or grant itself corrections stay shut.
The number of examples is bounded so the test stays within about a minute on a loaded machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server.school_kit import SchoolServer, template

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Logging out or revoking would end the fuzzing session's own token after the first example;
# those routes have their own tests (tests/server/test_role_matrix.py).
SKIPPED = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/devices/{device_id}/revoke")}
ROLES = ("math", "deputy")
# schemathesis's in-process ASGI client leaves a memory stream for the collector to close
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
    ),
    pytest.mark.slow,  # a long property test: every generated request of the whole schema
]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchoolServer]:
    db, tokens = template(tmp_path_factory.getbasetemp())
    with SchoolServer(db, tokens, tmp_path_factory.mktemp("fuzz")) as school:
        yield school
    with school.db() as conn:  # what the fuzzing must not have managed
        assert conn.execute("SELECT count(*) FROM year_closures").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM correction_grants").fetchone()[0] == 0


@pytest.fixture(scope="module")
def api_schema(fuzzed: SchoolServer):
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", fuzzed.client.app)
    return schema.exclude(
        func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in SKIPPED
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_answers_every_generated_request_by_its_schema(case, fuzzed: SchoolServer) -> None:
    for role in ROLES:
        case.call_and_validate(headers=fuzzed.headers(role), checks=CHECKS)


def test_after_the_fuzzing_the_year_is_open_and_no_grant_exists(fuzzed: SchoolServer) -> None:
    assert fuzzed.count("year_closures") == 0
    assert fuzzed.count("correction_grants") == 0
    assert Path(fuzzed.config.database).exists()
