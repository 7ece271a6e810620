from django.urls import path

from packages import views

app_name = "packages"
urlpatterns = [
    path("", views.packages_list, name="list"),
]
