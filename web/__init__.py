"""The Flask app factory, webhook intake, error rendering and the browser canvas."""
