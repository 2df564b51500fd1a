"""Django admin for performance, by concern; importing the package registers every admin."""

from performance.admin import feeds, organisation, standards
from performance.admin.base import ReadOnlyAdmin

__all__ = ["ReadOnlyAdmin", "feeds", "organisation", "standards"]
