from django.db import migrations, models

from emotion.research.migrations._video_offsets import reader


class Migration(migrations.Migration):

    dependencies = [
        ('stimuli', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='stimulus',
            name='video_offset',
            field=models.FloatField(default=0.0, help_text="seconds a player shows before the first picture (time 0): read once, by the upload's probe"),
        ),
        migrations.RunPython(reader("stimuli", "Stimulus"), migrations.RunPython.noop),
    ]
