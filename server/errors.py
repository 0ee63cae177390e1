"""Domain errors and the one function that turns them into HTTP problem responses."""

from __future__ import annotations

from litestar import Request, Response
from litestar.exceptions import HTTPException


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message_ru: str, *, code: str | None = None):
        super().__init__(message_ru)
        self.message_ru = message_ru
        if code:
            self.code = code


class BadRequest(AppError):
    pass


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class AccessDenied(AppError):
    status = 403
    code = "access_denied"


class NotFound(AppError):
    status = 404
    code = "not_found"


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


class RangeNotSatisfiable(AppError):
    status = 416
    code = "range_not_satisfiable"


class TooManyAttempts(AppError):
    status = 429
    code = "too_many_attempts"


_HTTP_MESSAGES_RU = {
    400: "Неверный запрос.",
    401: "Требуется вход в систему.",
    403: "Доступ запрещён.",
    404: "Не найдено.",
    405: "Метод не поддерживается.",
    413: "Слишком большой запрос.",
    415: "Неподдерживаемый формат данных.",
    429: "Слишком много попыток, попробуйте позже.",
    500: "Внутренняя ошибка сервера.",
}


def app_error_handler(_: Request, exc: AppError) -> Response:
    return Response({"error": exc.code, "message": exc.message_ru}, status_code=exc.status)


def http_error_handler(_: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    message = _HTTP_MESSAGES_RU.get(status, "Ошибка запроса.")
    body: dict[str, object] = {"error": f"http_{status}", "message": message}
    if status == 400 and exc.detail:
        body["detail"] = str(exc.detail)
    return Response(body, status_code=status, headers=getattr(exc, "headers", None))
