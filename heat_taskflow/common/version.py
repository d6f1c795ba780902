"""heat-taskflow's installed version (the command line's --version, the API's build_info)."""

import functools
import importlib.metadata

DISTRIBUTION = 'heat-taskflow'


@functools.cache
def version_string():
    """The installed distribution's version; 'unknown' when it is not installed."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return 'unknown'
