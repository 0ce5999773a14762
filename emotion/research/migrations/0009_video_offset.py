from django.db import migrations, models


def read_offsets(apps, schema_editor):
    """Videos stored before the probe kept the offset: read each once, here, not on every page view."""
    from emotion.ml.video_out import start_offset

    for row in apps.get_model("research", "Analysis").objects.filter(kind="video").exclude(file=""):
        try:
            with row.file.storage.open(row.file.name, "rb") as fh:
                row.video_offset = round(start_offset(fh), 4)
        except OSError:
            continue
        row.save(update_fields=["video_offset"])


class Migration(migrations.Migration):

    dependencies = [
        ('research', '0008_participant_variables'),
    ]

    operations = [
        migrations.AddField(
            model_name='analysis',
            name='video_offset',
            field=models.FloatField(default=0.0, help_text="seconds a player shows before the first picture (time 0): read once, by the upload's probe"),
        ),
        migrations.RunPython(read_offsets, migrations.RunPython.noop),
    ]
