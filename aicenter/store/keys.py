"""Object keys and prefixes: which names the store accepts.

A key names one object, such as "projects/7/datasets/3/data.csv"; a prefix selects
the objects a listing or a deletion reaches.
"""


def check_key(key: str) -> str:
    """Return key unchanged if it is a safe object key, else raise ValueError."""
    if not isinstance(key, str) or not key:
        raise ValueError("An object key must be a non-empty string.")
    if key.startswith("/"):
        raise ValueError(f"Object key {key!r} must not start with '/'.")
    if key.endswith("/"):
        raise ValueError(f"Object key {key!r} must not end with '/'.")
    if "\\" in key:
        raise ValueError(f"Object key {key!r} must not contain a backslash.")
    if "\0" in key:
        raise ValueError(f"Object key {key!r} must not contain a NUL character.")
    for segment in key.split("/"):
        if not segment:
            raise ValueError(f"Object key {key!r} must not contain an empty segment ('//').")
        if segment in {".", ".."}:
            raise ValueError(f"Object key {key!r} must not contain a '{segment}' segment.")
    return key


def check_prefix(prefix: str) -> str:
    """A prefix is "" or a key, optionally ending in "/" or in a partial last segment."""
    if not prefix:
        return prefix
    folder, slash, tail = prefix.rpartition("/")
    if slash and not folder:
        raise ValueError(f"Prefix {prefix!r} must not start with '/'.")
    if folder:
        check_key(folder)
    if "\\" in tail or "\0" in tail:
        raise ValueError(f"Prefix {prefix!r} must not contain a backslash or NUL character.")
    return prefix
