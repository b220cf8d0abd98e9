"""The few places this project relies on Django, Wagtail or gunicorn behaviour that no public API
offers. Nowhere else reads or writes their private attributes (tests/test_upstream.py checks
both: that no other module does, and that each behaviour relied on here still holds).

Each use fails safe: if an upgrade renames what it relies on, the tests say so and the site keeps
working, at worst a little slower.
"""
