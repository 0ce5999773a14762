"""What a researcher downloads: an analysis's results and a study's tables, as CSV and JSON."""
