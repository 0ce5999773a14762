"""For the migrations that add video_offset (research 0009, stimuli 0002): the offset of each video
stored before the probe kept it, read once at migration time, not on every page view. The leading
underscore keeps Django's migration loader from taking this module for a migration."""

from emotion.ml.video_out import start_offset


def reader(app_label: str, model_name: str):
    """A RunPython function that fills ``video_offset`` of the model's stored videos."""

    def read_offsets(apps, schema_editor):
        for row in apps.get_model(app_label, model_name).objects.filter(kind="video").exclude(file=""):
            try:
                with row.file.storage.open(row.file.name, "rb") as fh:
                    row.video_offset = round(start_offset(fh), 4)
            except OSError:
                continue
            row.save(update_fields=["video_offset"])

    return read_offsets
