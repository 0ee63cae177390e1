"""Every API error answers `{"error": code, "message": Russian text[, "detail"]}` (server/
errors.py); the OpenAPI schema says so for every operation, in place of Litestar's own 400
shape, so clients and fuzzers can check error bodies against it."""

from __future__ import annotations

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Schema

ERROR_BODY = Schema(
    type=OpenAPIType.OBJECT,
    required=["error", "message"],
    properties={
        "error": Schema(type=OpenAPIType.STRING, description="машинный код ошибки"),
        "message": Schema(type=OpenAPIType.STRING, description="сообщение для человека"),
        "detail": Schema(type=OpenAPIType.STRING),
    },
)


def document_errors(app: Litestar) -> None:
    """On start-up: every operation's 4XX answers carry the error body."""
    openapi = app.plugins.get(OpenAPIPlugin).provide_openapi()
    for path_item in (openapi.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch", "head"):
            operation = getattr(path_item, method)
            if operation is None:
                continue
            responses = {k: v for k, v in (operation.responses or {}).items() if k[0] != "4"}
            content = (
                None
                if method == "head"
                else {"application/json": OpenAPIMediaType(schema=ERROR_BODY)}
            )
            responses["4XX"] = OpenAPIResponse(
                description="Отказ: код ошибки и сообщение по-русски", content=content
            )
            operation.responses = responses
