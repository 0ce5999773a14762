"""Studies and who is in them: members and roles, participants, conditions and participant variables."""
