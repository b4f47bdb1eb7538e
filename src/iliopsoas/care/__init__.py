"""Care: safety screen, self-assessment, program builder, guided sessions, durable log, progress.

Health content here informs and never diagnoses. Layers: ``screening`` (red flags and
contraindications, as data) -> ``assessment`` (signs -> likely contributors) -> ``planner``
(program) -> ``player`` (guided session) -> ``log`` (SQLite) -> ``progress`` (charts); ``pdf`` prints
the handout. Import the submodules directly; this package imports nothing heavy.
"""

from iliopsoas.care.screening import DISCLAIMER

__all__ = ["DISCLAIMER"]
