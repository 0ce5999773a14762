"""One upload's analysis: the checks on its file, its job's life from queue to finish, its results and pages."""
