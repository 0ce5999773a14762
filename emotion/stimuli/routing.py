# A participant's remote session streams its frames here (see session_urls.py for its pages).
websocket_urlpatterns: list = []
