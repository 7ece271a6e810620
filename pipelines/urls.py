from django.urls import path

from pipelines import details, views

app_name = "pipelines"
urlpatterns = [
    # The pipelines list, creating and editing pipelines, and the actions on runs.
    path("", views.pipelines_list, name="list"),
    path("runs/<int:run_id>/kill", views.kill, name="kill"),
    path("runs/<int:run_id>/again", views.again, name="run-again"),
    # One run's Pipeline Details page, its outputs and logs.
    path("runs/<int:run_id>/", details.run_detail, name="run"),
]
