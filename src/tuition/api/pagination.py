from rest_framework.pagination import PageNumberPagination

DEFAULT_PAGE_SIZE = 50


class CursorlessPagination(PageNumberPagination):
    """Pages of `results` with a `next` link, as SPEC Appendix A describes."""

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 500
