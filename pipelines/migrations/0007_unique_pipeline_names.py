from django.db import migrations, models
from django.db.models import Count

NAME_LENGTH = 100


def rename_duplicates(apps, schema_editor):
    """The oldest pipeline of a name keeps it; each later one gets its id appended."""
    Pipeline = apps.get_model("pipelines", "Pipeline")
    repeated = (
        Pipeline.objects.values("project_id", "name")
        .annotate(count=Count("id"))
        .filter(count__gt=1)
    )
    for group in repeated:
        same = Pipeline.objects.filter(project_id=group["project_id"], name=group["name"])
        for pipeline in same.order_by("id")[1:]:
            suffix = f"-{pipeline.id}"
            pipeline.name = pipeline.name[: NAME_LENGTH - len(suffix)] + suffix
            pipeline.save(update_fields=["name"])


class Migration(migrations.Migration):
    dependencies = [
        ("pipelines", "0006_resources"),
    ]

    operations = [
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="pipeline",
            constraint=models.UniqueConstraint(
                fields=("project", "name"), name="pipeline_name_unique_in_project"
            ),
        ),
    ]
