import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

OUR_APPS = ["aicenter", "packages", "datasets", "pipelines"]


def our_models():
    return [model for name in OUR_APPS for model in apps.get_app_config(name).get_models()]


def test_the_admin_has_every_model():
    missing = [model.__name__ for model in our_models() if not admin.site.is_registered(model)]
    assert missing == []


@pytest.mark.django_db
def test_every_admin_list_opens_for_a_superuser():
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client = Client()
    client.force_login(superuser)
    for model in our_models():
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
