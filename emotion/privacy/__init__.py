"""Privacy: retention purge, a user's data download and account deletion."""
