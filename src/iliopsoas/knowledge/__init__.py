"""The atlas: a sourced, validated knowledge base of the hip-flexor complex.

>>> from iliopsoas.knowledge import load_atlas
>>> atlas = load_atlas()                      # doctest: +SKIP
>>> atlas.resolve("psoas").id                 # doctest: +SKIP
'psoas-major'
"""

from iliopsoas.knowledge.store import Atlas, DataError, Fact, UnknownName, load_atlas

__all__ = ["Atlas", "DataError", "Fact", "UnknownName", "load_atlas"]
