"""OpenAPI tweaks: the router accepts paths with or without a trailing slash; the schema documents the
download paths the way they are written elsewhere (…/results.csv, not …/results.csv/)."""


def drop_slash_after_file_suffix(result, generator, request, public):
    result["paths"] = {(p[:-1] if p.endswith((".csv/", ".json/")) else p): v for p, v in result["paths"].items()}
    return result
