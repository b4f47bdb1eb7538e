"""The local web app (``iliopsoas serve``): pages over a JSON API for the atlas, questions, model and care.

>>> from iliopsoas.web import create_app   # doctest: +SKIP
>>> app = create_app(db="care.sqlite3")     # doctest: +SKIP
"""

from iliopsoas.web.app import create_app

__all__ = ["create_app"]
