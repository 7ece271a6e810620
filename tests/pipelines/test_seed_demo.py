from io import StringIO

import pytest
from django.core.management import call_command

from aicenter.models import Project
from pipelines.models import ScheduleKind


@pytest.mark.django_db
def test_the_demo_project_has_a_nightly_pipeline_made_once():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)
    pipeline = Project.objects.get(name="Demo").pipelines.get()
    assert pipeline.name == "flowers-nightly"
    assert pipeline.schedule_kind == ScheduleKind.RECURRING
    assert (pipeline.next_fire.hour, pipeline.next_fire.minute) == (3, 0)
    assert pipeline.input_path == "train"
    assert not pipeline.runs.exists()
    assert out.getvalue().count("Created the pipeline flowers-nightly: cron 0 3 * * *.") == 1
