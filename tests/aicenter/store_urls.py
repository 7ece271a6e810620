"""Only the store's download route, so store tests do not depend on the whole site."""

from django.urls import path

from aicenter import store

urlpatterns = [path("store/<str:token>", store.download, name="store-download")]
