from django.db import migrations, models


class Migration(migrations.Migration):
    """Memberships become invitations the invited user accepts. Those made before were already in force:
    they are kept as accepted (the field is added with True), and new ones start as invitations."""

    dependencies = [
        ("research", "0006_viewer_frames"),
    ]

    operations = [
        migrations.AddField(
            model_name="studymember",
            name="accepted",
            field=models.BooleanField(default=True, help_text="false: invited, not yet a member"),
        ),
        migrations.AlterField(
            model_name="studymember",
            name="accepted",
            field=models.BooleanField(default=False, help_text="false: invited, not yet a member"),
        ),
    ]
