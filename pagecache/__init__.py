"""Whole-page cache for anonymous readers, wrapped around the Django application (pagecache.wsgi),
invalidated exactly when what readers see changes (blog.changes)."""
