"""The site's URLs and its error handler, plus one page that fails."""

from django.urls import path

from aicenter.urls import handler500, urlpatterns

__all__ = ["handler500", "urlpatterns"]


def failing(request):
    raise RuntimeError("a failure the person must not see")


urlpatterns = [*urlpatterns, path("failing", failing)]
