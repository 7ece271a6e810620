"""The API documentation's name for each operation, as a person would say it.

Django Ninja names an operation after its function ("Create Dataset Endpoint"); the
functions keep their names (the upload limits find views by them), the docs get these.
"""

SUMMARIES = {
    "list_projects": "List your projects",
    "create_project_endpoint": "Create a project",
    "get_project": "Get a project",
    "list_packages": "List packages",
    "create_package": "Upload a new package",
    "get_package": "Get a package and its versions",
    "remove_package": "Delete a package",
    "create_version": "Upload a new major version",
    "get_version": "Get a package version",
    "download_version": "Download a version's zip",
    "list_datasets": "List datasets",
    "create_dataset_endpoint": "Create a dataset",
    "get_dataset": "Get a dataset",
    "tree": "List a dataset folder",
    "put_one_file": "Upload one file",
    "download_file": "Download a file",
    "delete_file_or_folder": "Delete a file or folder",
    "upload": "Upload files or a zip",
    "held": "Ask which files a dataset folder holds already",
    "download_archive": "Download a folder as a zip",
    "list_pipelines": "List pipelines",
    "create_pipeline_endpoint": "Create a pipeline",
    "get_pipeline": "Get a pipeline",
    "change_pipeline": "Change a pipeline",
    "remove_pipeline": "Remove a pipeline",
    "run_again": "Start a run",
    "get_run": "Get a run",
    "kill_run": "Kill a run",
    "run_logs": "Read a run's log",
    "run_results": "Get a run's results",
    "run_artifacts": "List a run's artifacts",
    "run_artifacts_zip": "Download a run's artifacts as a zip",
    "run_artifact": "Download one artifact",
    "run_snapshot": "List the data a run read",
    "run_snapshot_zip": "Download the data a run read as a zip",
    "run_lineage": "Get a run's lineage",
    "compare_runs": "Compare runs",
    "run_metrics": "List a run's metrics",
    "run_metric": "Read a metric's points",
    "list_workers": "List the workers",
}


def name_operations(api) -> None:
    """Give every operation its summary; one without a summary here keeps Ninja's."""
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                name = operation.view_func.__name__
                operation.summary = SUMMARIES.get(name, operation.summary)
