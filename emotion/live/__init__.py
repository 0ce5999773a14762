"""The live webcam page: frames over a WebSocket, smoothed emotions pushed back, stored sessions."""
