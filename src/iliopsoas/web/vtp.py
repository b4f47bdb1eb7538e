"""Bone meshes for the 3-D view (kept for callers of this module's old place).

The reader, the decimation and the meshes shipped with the package live in
:mod:`iliopsoas.models.meshes` (the care figures use them too, below the web layer).
"""

from iliopsoas.models.meshes import (
    MAX_FACES,
    MAX_FILE_BYTES,
    Mesh,
    VtpError,
    body_meshes,
    candidate_files,
    decimate,
    osim_meshes,
    read_vtp,
)

__all__ = ["MAX_FACES", "MAX_FILE_BYTES", "Mesh", "VtpError", "body_meshes", "candidate_files", "decimate",
           "osim_meshes", "read_vtp"]
