from rest_framework.pagination import PageNumberPagination


class CursorlessPagination(PageNumberPagination):
    """Pages of `results` with a `next` link, as SPEC Appendix A describes."""

    page_size_query_param = "page_size"
    max_page_size = 500
