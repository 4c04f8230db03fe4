"""One module per URL noun; see makechat.app.create_app for the routes."""
