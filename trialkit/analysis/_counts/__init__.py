def count_arrays(*a, **k):  # TEMP STUB
    raise NotImplementedError


def rate_arrays(*a, **k):  # TEMP STUB
    raise NotImplementedError
