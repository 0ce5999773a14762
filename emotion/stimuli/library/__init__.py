"""A study's stimuli and their event markers: upload, pages, API and CSV import/export."""
