"""API pagination, in a module of its own: DRF reads it from settings while it imports its generic views."""

from rest_framework.pagination import PageNumberPagination


class PortalPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
