"""ipywidgets panels for JupyterLab: the consensus override editor and the what-if panel.

They call the same ``sop_lib`` functions as the workbooks; a papermill run never needs them (the pack shows
static tables and charts).
"""
