"""Only the store's download route, so store tests do not depend on the whole site."""

from django.urls import path

from aicenter.store import views as store_views

urlpatterns = [path("store/<str:token>", store_views.download, name="store-download")]
