def van_elteren_arrays(*a, **k):  # TEMP STUB
    raise NotImplementedError
