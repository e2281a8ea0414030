"""What is kept: the content-addressed cache and the SQLite result store."""
