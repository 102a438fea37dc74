"""The pack: a ``sop run`` (papermill, nbconvert, publication), its processes, and the pack's own pages.
Imports everything below it; nothing imports it but the faces (``cli``, ``demo``)."""
