"""The REST API over analyses, studies, statistics and variables, with its schema and docs."""
