def logistic_arrays(*a, **k):  # TEMP STUB
    raise NotImplementedError


def cmh_arrays(*a, **k):  # TEMP STUB
    raise NotImplementedError
