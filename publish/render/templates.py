"""The one Jinja environment every page is rendered with: the site's pages and the
data-quality report's, whether in the site's layout or on its own.

Autoescaped (a provider's name is text, never markup), strict (a name missing from a
template's context is an error, not an empty string), with the whitespace rules the
templates are written for, and the few helpers every page uses as globals (and `svg_number`, the charts' coordinates
as text, as a filter).
"""

import functools

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from publish.periods import long_date, months_list
from publish.render.charts import svg_number
from publish.resources import resource_dir
from publish.tables import MARKERS

# The service every page's header names.
SERVICE_NAME = "Diagnostic Imaging Dataset statistics"


@functools.cache
def environment() -> Environment:
    """The templates of `templates/` (`publish/templates` in an installed wheel)."""
    env = Environment(
        loader=FileSystemLoader(str(resource_dir("templates"))),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        markers=MARKERS, service_name=SERVICE_NAME, long_date=long_date, months_list=months_list
    )
    env.filters["svg_number"] = svg_number
    return env
