from django.db import migrations, models


def gpu_switch_to_count(apps, schema_editor):
    """The GPU switch on means one GPU."""
    for name in ["Pipeline", "Run"]:
        apps.get_model("pipelines", name).objects.filter(gpu=True).update(gpus=1)


def gpu_count_to_switch(apps, schema_editor):
    for name in ["Pipeline", "Run"]:
        apps.get_model("pipelines", name).objects.filter(gpus__gt=0).update(gpu=True)


class Migration(migrations.Migration):
    dependencies = [
        ("pipelines", "0005_network"),
    ]

    operations = [
        migrations.AddField(
            model_name="pipeline",
            name="cpus",
            field=models.PositiveSmallIntegerField(blank=True, help_text="CPU cores.", null=True),
        ),
        migrations.AddField(
            model_name="pipeline",
            name="memory_gb",
            field=models.FloatField(blank=True, help_text="Memory, in GB.", null=True),
        ),
        migrations.AddField(
            model_name="pipeline",
            name="disk_gb",
            field=models.FloatField(
                blank=True,
                help_text="What a run may write to its workspace, in GB.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="pipeline",
            name="gpus",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="run",
            name="cpus",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="run",
            name="memory_gb",
            field=models.FloatField(default=4),
        ),
        migrations.AddField(
            model_name="run",
            name="disk_gb",
            field=models.FloatField(blank=True, help_text="Empty: no cap.", null=True),
        ),
        migrations.AddField(
            model_name="run",
            name="gpus",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.RunPython(gpu_switch_to_count, gpu_count_to_switch),
        migrations.RemoveField(model_name="pipeline", name="gpu"),
        migrations.RemoveField(model_name="run", name="gpu"),
    ]
