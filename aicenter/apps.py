from django.apps import AppConfig


class AicenterConfig(AppConfig):
    name = "aicenter"
    verbose_name = "AI Center"
