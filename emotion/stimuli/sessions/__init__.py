"""Remote sessions: invitation links, the participant's page, its socket, and the recordings it stores."""
