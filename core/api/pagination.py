"""Pagination: page numbers for small reference tables, cursors for the big append-only ones
(no COUNT(*), stable under inserts at the head)."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class TimelinePagination(CursorPagination):
    ordering = ("-occurred_at", "-id")


class NewestFirstPagination(CursorPagination):
    ordering = ("-created_at", "-id")


class CustomerPagination(CursorPagination):
    ordering = ("family_name", "given_name", "id")
