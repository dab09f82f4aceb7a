"""The map B and the judges: pure text functions (``text.py``), answer extraction
(``extract.py``), meaning classes (``classes.py``), and judges that decide whether a class is
right (``judges/``)."""
