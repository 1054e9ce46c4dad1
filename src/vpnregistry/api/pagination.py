"""The API's cursor pagination: lists paged by id, newest or oldest first."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "-id"


class AscendingIdPagination(CursorPagination):
    ordering = "id"
