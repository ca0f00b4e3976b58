"""The service layer every view calls: documents (an entity with what it follows), collections and their pages."""

from gateway.documents.service import Documents, ListParams

__all__ = ["Documents", "ListParams"]
