from django.urls import path

from pipelines import details, views

app_name = "pipelines"
urlpatterns = [
    # The pipelines list, creating and editing pipelines, and the actions on runs.
    path("", views.pipelines_list, name="list"),
    path("new", views.pipeline_create, name="create"),
    path("<int:pipeline_id>/", views.pipeline_detail, name="pipeline"),
    path("<int:pipeline_id>/edit", views.pipeline_edit, name="edit"),
    path("<int:pipeline_id>/delete", views.pipeline_delete, name="delete"),
    path("<int:pipeline_id>/start", views.pipeline_start, name="start"),
    path("runs/<int:run_id>/kill", views.kill, name="kill"),
    path("runs/<int:run_id>/again", views.again, name="run-again"),
    path("runs/<int:run_id>/again-with-changes", views.again_with_changes, name="run-change"),
    # One run's Pipeline Details page, its outputs and logs.
    path("runs/<int:run_id>/", details.run_detail, name="run"),
    path("runs/<int:run_id>/header", details.run_header, name="run-header"),
    path("runs/<int:run_id>/logs", details.run_logs, name="run-logs"),
    path("runs/<int:run_id>/logs/lines", details.run_log_lines, name="run-log-lines"),
    path("runs/<int:run_id>/metrics", details.run_metrics, name="run-metrics"),
    path("runs/<int:run_id>/log.txt", details.run_log_download, name="run-log"),
    path("runs/<int:run_id>/artifact/<path:path>", details.run_artifact, name="run-artifact"),
    path(
        "runs/<int:run_id>/artifact-image/<path:path>",
        details.run_artifact_image,
        name="run-artifact-image",
    ),
    path(
        "runs/<int:run_id>/artifact-download/<path:path>",
        details.run_artifact_download,
        name="run-artifact-download",
    ),
    path("runs/<int:run_id>/artifacts.zip", details.run_artifacts_zip, name="run-artifacts-zip"),
    path("runs/<int:run_id>/snapshot.zip", details.run_snapshot_zip, name="run-snapshot-zip"),
    path(
        "runs/<int:run_id>/snapshot/dataset",
        details.run_snapshot_dataset,
        name="run-snapshot-dataset",
    ),
    path("runs/<int:run_id>/results.json", details.run_results_download, name="run-results"),
    path("runs/<int:run_id>/everything.zip", details.run_everything_zip, name="run-zip"),
    path("compare", details.compare_runs, name="compare"),
    path("workers", views.project_workers, name="workers"),
]
