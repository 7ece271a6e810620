from django.urls import path

from pipelines import views

app_name = "pipelines"
urlpatterns = [
    path("", views.pipelines_list, name="list"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
]
