"""Interoperability: Arazzo 1.0.1 export and import (other runners), the OpenAPI cross-check
(flowdoc.interop.openapi).

    from flowdoc.interop import export_arazzo, import_arazzo
    result = export_arazzo(flow)                 # ArazzoExport: .files(), .unexpressed
    skeleton = import_arazzo("x.arazzo.yaml")    # ImportResult: .text (a flow that validates), .todos
"""

from __future__ import annotations

from ._arazzo_read import ArazzoReadError
from .arazzo import ArazzoExport, ArazzoExportError, Unexpressed, export_arazzo
from .arazzo_import import ArazzoImportError, ImportResult, import_arazzo

__all__ = ["ArazzoExport", "ArazzoExportError", "ArazzoImportError", "ArazzoReadError", "ImportResult",
           "Unexpressed", "export_arazzo", "import_arazzo"]
